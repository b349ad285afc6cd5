"""Retried writes are not recorded twice: the ``Idempotency-Key`` header on API creates.

A client (a rep's phone on a flaky network, an integration) sends the same key with each retry
of one request. The first request runs and its answer (status and the created record) is
remembered in the same transaction; a retry gets that answer back without writing again. The
same key with a different body is refused (409), as Stripe and the IETF draft
"The Idempotency-Key HTTP Header Field" describe.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Status

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 100


class IdempotencyConflictError(ApplicationError):
    status = 409


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotentRequest) -> Status[Any]:
    model = apps.get_model(record.object_label)
    return Status(record.status, model._default_manager.get(pk=record.object_id))


def idempotent(operation: Callable[..., Status[Any]]) -> Callable[..., Status[Any]]:
    """Wrap an API create that returns ``Status(code, instance)``."""

    @functools.wraps(operation)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Status[Any]:
        key = request.headers.get(HEADER, "").strip()
        user_id = request.user.pk
        if not key or user_id is None:
            return operation(request, *args, **kwargs)
        if len(key) > MAX_KEY:
            raise ApplicationError(
                _("At most %(n)s characters.") % {"n": MAX_KEY}, field=HEADER, code="invalid"
            )
        fingerprint = _fingerprint(request)
        previous = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
        if previous is not None:
            if previous.fingerprint != fingerprint:
                raise IdempotencyConflictError(
                    _("This Idempotency-Key was already used for a different request."),
                    field=HEADER,
                    code="idempotency_conflict",
                )
            return _replay(previous)
        with transaction.atomic():
            result = operation(request, *args, **kwargs)
            instance = result.value
            if not isinstance(instance, models.Model):
                raise TypeError("an idempotent operation must return a model instance")
            try:
                with transaction.atomic():
                    IdempotentRequest.objects.create(
                        user_id=user_id,
                        key=key,
                        fingerprint=fingerprint,
                        status=result.status_code,
                        object_label=instance._meta.label_lower,
                        object_id=instance.pk,
                    )
            except IntegrityError as exc:
                # The same key arrived twice at once: the other request holds it, and this
                # one's write is rolled back with the outer transaction.
                raise IdempotencyConflictError(
                    _("A request with this Idempotency-Key is already being processed."),
                    field=HEADER,
                    code="idempotency_conflict",
                ) from exc
        return result

    return wrapper
