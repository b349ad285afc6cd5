"""The one error type services raise; entry points turn it into a 4xx in the user's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str


class ApplicationError(Exception):
    """A request the platform refuses; ``field`` names what to fix."""

    status = 400

    def __init__(
        self,
        message: Any,
        *,
        field: str | None = None,
        code: str = "invalid",
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.errors = errors if errors is not None else [FieldError(field, str(message))]

    @property
    def field(self) -> str | None:
        return self.errors[0].field if self.errors else None

    def as_body(self) -> dict[str, Any]:
        return {
            "detail": self.message,
            "code": self.code,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class NotFoundError(ApplicationError):
    """Missing and not-yours look the same, so scope cannot be probed (STYLE.md rule 3)."""

    status = 404

    def __init__(self, message: Any) -> None:
        super().__init__(message, code="not_found", errors=[])


class PermissionDeniedError(ApplicationError):
    status = 403

    def __init__(self, message: Any) -> None:
        super().__init__(message, code="forbidden", errors=[])
