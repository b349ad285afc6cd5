"""Model helpers services share: validate with field-named errors, apply changes, snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from omnihcp.core.errors import ApplicationError, FieldError


def validation_error_to_application(exc: ValidationError) -> ApplicationError:
    errors: list[FieldError] = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.message_dict.items():
            name = None if field == "__all__" else field
            errors.extend(FieldError(name, message) for message in field_errors)
    else:
        errors.extend(FieldError(None, message) for message in exc.messages)
    first = errors[0].message if errors else str(exc)
    return ApplicationError(first, errors=errors)


def full_clean_or_raise(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise validation_error_to_application(exc) from exc


def apply_changes(instance: models.Model, data: Mapping[str, Any]) -> list[str]:
    """Set the given fields; return the names of those whose value really changed."""
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-ready dict of the named fields, for audit before/after."""
    out: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = _jsonable(getattr(instance, attname))
    return out
