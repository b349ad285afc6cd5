"""Reading Segment messages: the HTTP Tracking API's shapes, limits and error answers.

Follows Segment's HTTP Tracking API (https://segment.com/docs/connections/sources/catalog/
libraries/server/http-api/): ``identify``, ``track``, ``page``, ``screen``, ``group``,
``alias`` and ``batch``; the write key as the HTTP Basic user name (or ``writeKey`` in the
body, as analytics.js sends it); at most 32 KB per message and 500 KB per batch;
``messageId`` de-duplicates; ``timestamp`` is corrected for the client's clock with
``sentAt`` as Segment does (``receivedAt - (sentAt - timestamp)``).

Checked by hand rather than by a pydantic model per message: a batch holds up to thousands of
messages, and each bad one must be named by its index without failing the others.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.tracking.models import EventType

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID = 128
MAX_MESSAGE_ID = 100
MAX_EVENT = 200
# A clock a few minutes fast is normal; an event dated further ahead than this is an error.
MAX_FUTURE = dt.timedelta(minutes=10)
TYPES = frozenset(EventType.values)
# Traits and properties that identify a doctor: used for resolution as blind indexes, and
# stored only masked (PIPL: no clear phone number or WeChat id in the event store).
IDENTIFYING = {
    "phone": "phone",
    "mobile": "phone",
    "phone_number": "phone",
    "openid": "openid",
    "unionid": "unionid",
    "phone_hash": "phone_hash",  # our blind index, computed by the platform with its key
}
_HEX = frozenset("0123456789abcdef")


@dataclass
class Message:
    """One valid message, ready to be stored."""

    index: int
    type: str
    message_id: str
    user_id: str
    anonymous_id: str
    event: str
    occurred_at: dt.datetime
    properties: dict[str, Any]
    context: dict[str, Any]
    channel: str
    content_ref: str
    hashes: dict[str, str] = field(default_factory=dict)  # phone/openid/unionid → blind index


@dataclass(frozen=True)
class Rejected:
    index: int
    message_id: str
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "field": self.field,
            "message": self.message,
        }


class MessageError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise MessageError(name, _("This field is required."))
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MessageError(name, _("Must be a string."))
    text = str(value)
    if len(text) > limit:
        raise MessageError(name, _("At most %(n)s characters.") % {"n": limit})
    if "\x00" in text:
        raise MessageError(name, _("NUL characters are not allowed."))
    return text


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MessageError(name, _("Must be a JSON object."))
    return value


def _time(value: Any, name: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise MessageError(name, _("Not an ISO 8601 date and time."))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _scrub(values: dict[str, Any], hashes: dict[str, str]) -> dict[str, Any]:
    """Identifying values → blind indexes in ``hashes`` and masked text in the stored copy."""
    if not any(key in IDENTIFYING for key in values):
        return values
    clean = dict(values)
    for key, kind in IDENTIFYING.items():
        raw = clean.get(key)
        if not isinstance(raw, str | int) or isinstance(raw, bool) or raw == "":
            continue
        text = str(raw).strip()
        if kind == "phone_hash":
            lowered = text.lower()
            if len(lowered) == 40 and set(lowered) <= _HEX:
                hashes["phone"] = lowered
            clean[key] = f"{lowered[:6]}…"
        elif kind == "phone":
            digits = "".join(ch for ch in text if ch.isdigit())[-11:]
            if len(digits) == 11:
                hashes["phone"] = pi.blind_index(digits)
            clean[key] = pi.mask_phone(digits) if digits else "****"
        else:
            hashes[kind] = pi.blind_index(text)
            clean[key] = f"{text[:4]}****{text[-4:]}" if len(text) > 8 else "****"
    return clean


def read_message(
    raw: Any,
    index: int,
    *,
    received_at: dt.datetime,
    sent_at: dt.datetime | None = None,
    type_: str | None = None,
) -> Message:
    """One message of a call or a batch, checked; ``MessageError`` names the bad field."""
    if not isinstance(raw, dict):
        raise MessageError("", _("A message must be a JSON object."))
    kind = type_ or raw.get("type")
    if kind not in TYPES:
        raise MessageError(
            "type",
            _("Unknown message type %(type)s; expected one of %(types)s.")
            % {"type": json.dumps(kind, ensure_ascii=False), "types": ", ".join(sorted(TYPES))},
        )
    if len(json.dumps(raw, ensure_ascii=False).encode()) > MAX_MESSAGE_BYTES:
        raise MessageError("", _("A message may hold at most 32 KB."))
    user_id = _text(raw.get("userId"), "userId", MAX_ID)
    anonymous_id = _text(raw.get("anonymousId"), "anonymousId", MAX_ID)
    if not user_id and not anonymous_id:
        raise MessageError("userId", _("Every message needs a userId or an anonymousId."))
    message_id = _text(raw.get("messageId"), "messageId", MAX_MESSAGE_ID) or str(uuid.uuid4())
    event = ""
    if kind == EventType.TRACK:
        event = _text(raw.get("event"), "event", MAX_EVENT, required=True)
    elif kind in (EventType.PAGE, EventType.SCREEN):
        event = _text(raw.get("name"), "name", MAX_EVENT)
    elif kind == EventType.GROUP:
        event = _text(raw.get("groupId"), "groupId", MAX_ID, required=True)
    elif kind == EventType.ALIAS:
        event = _text(raw.get("previousId"), "previousId", MAX_ID, required=True)
    payload_name = "traits" if kind in (EventType.IDENTIFY, EventType.GROUP) else "properties"
    hashes: dict[str, str] = {}
    payload = _scrub(_object(raw.get(payload_name), payload_name), hashes)
    context = _object(raw.get("context"), "context")
    context_traits = _object(context.get("traits"), "context.traits")
    if context_traits:
        context = {**context, "traits": _scrub(context_traits, hashes)}
    occurred_at = _occurred_at(raw, received_at=received_at, sent_at=sent_at)
    channel = payload.get("channel") if payload_name == "properties" else None
    content = payload.get("content_id") if payload_name == "properties" else None
    return Message(
        index=index,
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        event=event,
        occurred_at=occurred_at,
        properties=payload,
        context=context,
        channel=_text(channel if isinstance(channel, str) else raw.get("channel"), "channel", 20),
        content_ref=_text(content, "properties.content_id", 64),
        hashes=hashes,
    )


def _occurred_at(
    raw: dict[str, Any], *, received_at: dt.datetime, sent_at: dt.datetime | None
) -> dt.datetime:
    timestamp = _time(raw.get("timestamp"), "timestamp") or _time(
        raw.get("originalTimestamp"), "originalTimestamp"
    )
    sent = _time(raw.get("sentAt"), "sentAt") or sent_at
    if timestamp is None:
        return received_at
    if sent is not None:
        # Segment's clock-skew correction: the client's clock may be wrong, its intervals not.
        timestamp = received_at - (sent - timestamp)
    if timestamp - received_at > MAX_FUTURE:
        raise MessageError("timestamp", _("The timestamp is in the future."))
    return timestamp


def read_batch(
    body: dict[str, Any], *, received_at: dt.datetime
) -> tuple[list[Message], list[Rejected]]:
    """The messages of a ``batch`` body: the valid ones, and each bad one with its reason."""
    items = body.get("batch")
    if not isinstance(items, list):
        raise MessageError("batch", _("A batch needs a list of messages under “batch”."))
    sent_at = _time(body.get("sentAt"), "sentAt")
    shared_context = body.get("context") if isinstance(body.get("context"), dict) else None
    good: list[Message] = []
    bad: list[Rejected] = []
    for index, raw in enumerate(items):
        try:
            if shared_context and isinstance(raw, dict) and "context" not in raw:
                raw = {**raw, "context": shared_context}
            good.append(read_message(raw, index, received_at=received_at, sent_at=sent_at))
        except MessageError as error:
            message_id = raw.get("messageId", "") if isinstance(raw, dict) else ""
            bad.append(
                Rejected(index, str(message_id)[:MAX_MESSAGE_ID], error.field, error.message)
            )
    return good, bad
