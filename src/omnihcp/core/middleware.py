"""Turn the one error type into pages: NotFoundError → 404, PermissionDeniedError → 403.

Views then call selectors and services plainly; a rep who opens another territory's doctor sees
the same 404 page as for an id that never existed (STYLE.md rule 3). The API installs its own
handlers (``core.api``), so this only ever meets page views.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from omnihcp.core.errors import NotFoundError, PermissionDeniedError


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A NUL character is never valid text, and PostgreSQL refuses it in any text column.
        if any("\x00" in value for values in request.GET.lists() for value in values[1]):
            message = "NUL characters are not allowed in a query."
            body = {"detail": message, "code": "invalid", "errors": []}
            return JsonResponse(body, status=400)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFoundError):
            return defaults.page_not_found(request, Http404(exception.message))
        if isinstance(exception, OverflowError):
            # An id in the address larger than any database id names no record.
            return defaults.page_not_found(request, Http404(str(exception)))
        if isinstance(exception, PermissionDeniedError):
            return defaults.permission_denied(request, PermissionDenied(exception.message))
        return None
