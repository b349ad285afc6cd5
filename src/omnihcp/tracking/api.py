"""The Segment-compatible HTTP Tracking API, under ``/api/v1/``.

Give a Segment or RudderStack SDK ``https://<omnihcp>/api`` as its ``host`` (analytics-python
``host=``, analytics-node ``host:``, analytics.js ``apiHost``) and a source's write key: it
sends ``/v1/batch`` (and ``/v1/track``, ``/v1/identify``, … or analytics.js's short ``/v1/t``,
``/v1/p``, …) here unchanged. Answers are Segment's: ``200 {"success": true}``.

Bad input, in Segment's style (``{"success": false, "message": …}`` plus our ``code`` and
``errors``): invalid JSON or a body over the size limit → 400 and nothing stored; a wrong or
missing write key → 401; a single call with a bad message → 400 naming the field. In a batch,
one bad message does not lose the good ones beside it: the good ones are stored, the answer is
200 with ``accepted`` and ``rejected`` (index, messageId, field, reason), and 400 only when no
message was good.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.security import HttpBasicAuth

from omnihcp.tracking.messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    MessageError,
    read_batch,
    read_message,
)
from omnihcp.tracking.services import activity_ingest, source_for_key

router = Router(tags=["tracking (Segment-compatible)"])


class TrackingError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> JsonResponse:
        return JsonResponse(
            {
                "success": False,
                "message": self.message,
                "detail": self.message,
                "code": self.code,
                "errors": [{"field": self.field, "message": self.message}],
            },
            status=self.status,
        )


class WriteKeyAuth(HttpBasicAuth):
    """The source's write key as the Basic user name (Segment's way), or ``writeKey`` in the
    JSON body (analytics.js's, which avoids a CORS preflight)."""

    def __call__(self, request: HttpRequest) -> Any:
        key = ""
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _sep, encoded = header.partition(" ")
            if scheme.lower() != "basic":
                raise _unauthorised()
            try:
                key = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                raise _unauthorised() from None
        else:
            body = _body(request)
            key = body.get("writeKey", "") if isinstance(body, dict) else ""
        source = source_for_key(key) if isinstance(key, str) else None
        if source is None:
            raise _unauthorised()
        request.tracking_stream = source[1]  # type: ignore[attr-defined]
        return source

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Any:
        return source_for_key(username)


def _unauthorised() -> TrackingError:
    return TrackingError(
        401,
        "invalid_write_key",
        _("Send the source's write key as the HTTP Basic user name (password empty)."),
        "Authorization",
    )


def _body(request: HttpRequest) -> Any:
    """The parsed JSON body, read once per request."""
    cached = getattr(request, "_tracking_body", None)
    if cached is not None:
        return cached
    try:
        raw = request.body
    except RequestDataTooBig:
        raw = b"x" * (MAX_BATCH_BYTES + 1)
    if len(raw) > MAX_BATCH_BYTES:
        raise TrackingError(
            400, "too_large", _("A request may hold at most 500 KB; send smaller batches.")
        )
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise TrackingError(400, "invalid_json", _("The request body is not valid JSON.")) from None
    request._tracking_body = body  # type: ignore[attr-defined]
    return body


WRITE_KEY = WriteKeyAuth()

_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {
            "type": "string",
            "enum": ["identify", "track", "page", "screen", "group", "alias"],
        },
        "messageId": {"type": "string", "maxLength": 100},
        "userId": {"type": "string", "maxLength": 128},
        "anonymousId": {"type": "string", "maxLength": 128},
        "event": {"type": "string", "maxLength": 200, "description": "track: the event name"},
        "name": {"type": "string", "description": "page / screen: the page name"},
        "properties": {"type": "object"},
        "traits": {"type": "object", "description": "identify / group"},
        "context": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
    },
    "description": (
        f"One Segment message, at most {MAX_MESSAGE_BYTES // 1024} KB; userId or anonymousId "
        "required. properties.content_id and properties.channel are read into the timeline; "
        "phone, mobile, openid and unionid are used to find the HCP and stored masked."
    ),
}
_ANSWER = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "success": {"type": "boolean"},
                    "accepted": {"type": "integer"},
                    "rejected": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    },
}


def _spec(schema: dict[str, Any], summary: str) -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {
            "200": {"description": summary, **_ANSWER},
            "400": {"description": "invalid JSON, too large, or an invalid message"},
            "401": {"description": "wrong or missing write key"},
        },
    }


def _ok(accepted: int, rejected: list[dict[str, Any]]) -> JsonResponse:
    return JsonResponse({"success": True, "accepted": accepted, "rejected": rejected})


def _single(request: HttpRequest, type_: str) -> HttpResponse:
    body = _body(request)
    received_at = timezone.now()
    try:
        message = read_message(body, 0, received_at=received_at, type_=type_)
    except MessageError as error:
        return TrackingError(400, "invalid_message", error.message, error.field or None).response()
    activity_ingest(stream=request.tracking_stream, messages=[message], received_at=received_at)  # type: ignore[attr-defined]
    return _ok(1, [])


def _batch(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    received_at = timezone.now()
    if not isinstance(body, dict):
        return TrackingError(400, "invalid_batch", _("A batch must be a JSON object.")).response()
    try:
        good, bad = read_batch(body, received_at=received_at)
    except MessageError as error:
        return TrackingError(400, "invalid_batch", error.message, error.field).response()
    activity_ingest(stream=request.tracking_stream, messages=good, received_at=received_at)  # type: ignore[attr-defined]
    rejected = [item.as_json() for item in bad]
    if bad and not good:
        response = TrackingError(
            400, "invalid_message", _("No message of the batch was valid.")
        ).response()
        payload = json.loads(response.content)
        payload["rejected"] = rejected
        return JsonResponse(payload, status=400)
    return _ok(len(good), rejected)


def _message_route(path: str, type_: str, short: str) -> None:
    summary = _("Record one %(type)s message") % {"type": type_}

    def operation(request: HttpRequest) -> HttpResponse:
        return _single(request, type_)

    operation.__name__ = f"segment_{type_}"
    router.post(
        path,
        auth=WRITE_KEY,
        summary=summary,
        openapi_extra=_spec(_MESSAGE_SCHEMA, summary),
    )(operation)

    def short_operation(request: HttpRequest) -> HttpResponse:
        return _single(request, type_)

    short_operation.__name__ = f"segment_{type_}_short"
    router.post(short, auth=WRITE_KEY, include_in_schema=False)(short_operation)


for _type, _short in (
    ("identify", "i"),
    ("track", "t"),
    ("page", "p"),
    ("screen", "s"),
    ("group", "g"),
    ("alias", "a"),
):
    _message_route(f"/{_type}", _type, f"/{_short}")


@router.post(
    "/batch",
    auth=WRITE_KEY,
    summary="Record a batch of messages",
    openapi_extra=_spec(
        {
            "type": "object",
            "properties": {
                "batch": {"type": "array", "items": _MESSAGE_SCHEMA},
                "sentAt": {"type": "string", "format": "date-time"},
                "context": {"type": "object"},
            },
            "required": ["batch"],
            "description": f"At most {MAX_BATCH_BYTES // 1024} KB in all.",
        },
        "the valid messages are stored; each invalid one is listed under rejected",
    ),
)
def segment_batch(request: HttpRequest) -> HttpResponse:
    return _batch(request)


@router.post("/import", auth=WRITE_KEY, include_in_schema=False)
def segment_import(request: HttpRequest) -> HttpResponse:
    return _batch(request)


def install(api: NinjaAPI) -> None:
    """Mount the router and answer its errors in Segment's shape."""
    api.add_router("/v1/", router)

    @api.exception_handler(TrackingError)
    def tracking_error(request: HttpRequest, exc: TrackingError) -> HttpResponse:
        return exc.response()
