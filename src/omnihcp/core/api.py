"""django-ninja helpers every app's API uses: strict input schemas, one page shape, one
error body (``{"detail", "errors": [{"field", "message"}]}``) in the caller's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, Field, field_validator

from omnihcp.core.errors import ApplicationError, NotFoundError

T = TypeVar("T")

MAX_PAGE_SIZE = 200

# Ids are 64-bit in every database we run on; a larger number names no record and must be a
# validation error, not an overflow inside the database driver.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class InSchema(Schema):
    """Base of every request body: unknown fields are an error, not silently dropped, and text
    with a NUL character (never valid, refused by PostgreSQL) is an error naming the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(_("NUL characters are not allowed."))
        return value


class PageIn(Schema):
    page: int = Field(default=1, ge=1, le=100_000, description="page number, from 1")
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE, description="rows per page")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int


class ErrorItem(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    code: str
    errors: list[ErrorItem]


ERROR_RESPONSES: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def paginate(qs: QuerySet[Any, Any], *, page: int, page_size: int) -> dict[str, Any]:
    """One page of ``qs``; the operation's ``Page[...Out]`` response schema shapes the rows."""
    if page < 1:
        raise ApplicationError(_("Page numbers start at 1."), field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApplicationError(
            _("Page size must be between 1 and %(max)d.") % {"max": MAX_PAGE_SIZE},
            field="page_size",
        )
    start = (page - 1) * page_size
    rows: Iterable[Any] = qs[start : start + page_size]
    return {
        "items": list(rows),
        "count": qs.count(),
        "page": page,
        "page_size": page_size,
    }


def referenced(getter: Callable[..., T], field: str, **key: Any) -> T:
    """A record named in a request body; a missing one is a 400 naming the field, not a 404."""
    try:
        return getter(**key)
    except NotFoundError as exc:
        raise ApplicationError(exc.message, field=field) from exc


def _field_of(loc: Iterable[Any]) -> str | None:
    parts = [str(p) for p in loc]
    # ninja prefixes the location with ("body", "<param name>") or ("query",); users know the
    # field names of the documented schema only.
    while parts and parts[0] in {"body", "query", "path", "form", "payload", "filters"}:
        parts.pop(0)
    return ".".join(parts) or None


def _message_for(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages: dict[str, str] = {
        "missing": _("This field is required."),
        "extra_forbidden": _("Unknown field."),
        "string_too_long": _("At most %(n)s characters.") % {"n": ctx.get("max_length")},
        "string_too_short": _("At least %(n)s characters.") % {"n": ctx.get("min_length")},
        "enum": _("Must be one of: %(choices)s.") % {"choices": ctx.get("expected", "")},
        "literal_error": _("Must be one of: %(choices)s.") % {"choices": ctx.get("expected", "")},
        "int_parsing": _("Must be a whole number."),
        "int_type": _("Must be a whole number."),
        "decimal_parsing": _("Must be a number."),
        "string_type": _("Must be text."),
        "date_from_datetime_parsing": _("Must be a date like 2026-01-31."),
        "date_parsing": _("Must be a date like 2026-01-31."),
        "bool_parsing": _("Must be true or false."),
        "greater_than_equal": _("Must be at least %(n)s.") % {"n": ctx.get("ge")},
        "less_than_equal": _("Must be at most %(n)s.") % {"n": ctx.get("le")},
        "json_invalid": _("The request body is not valid JSON."),
        "model_attributes_type": _("The request body must be a JSON object."),
        "dict_type": _("The request body must be a JSON object."),
    }
    return messages.get(kind, str(error.get("msg", _("Invalid value."))))


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return api.create_response(request, exc.as_body(), status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": _field_of(e.get("loc", ())), "message": _message_for(e)} for e in exc.errors
        ]
        body = {"detail": _("The request has invalid fields."), "code": "invalid", "errors": errors}
        return api.create_response(request, body, status=422)

    @api.exception_handler(OverflowError)
    def overflow_error(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        body = {
            "detail": _("A number in the request is too large."),
            "code": "invalid",
            "errors": [],
        }
        return api.create_response(request, body, status=400)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = {
            "detail": _("Log in or send a valid API token."),
            "code": "unauthorized",
            "errors": [],
        }
        return api.create_response(request, body, status=401)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            # django-ninja's own wording, raised before any schema sees the body.
            body = {
                "detail": _("The request body is not valid JSON."),
                "code": "invalid_json",
                "errors": [{"field": None, "message": _("The request body is not valid JSON.")}],
            }
            return api.create_response(request, body, status=400)
        body = {"detail": str(exc), "code": "http_error", "errors": []}
        return api.create_response(request, body, status=exc.status_code)
