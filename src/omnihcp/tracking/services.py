"""Writes of tracking: sources and their write keys, and events into the Activity store.

``activity_ingest`` is the one way in for events, from the Segment-compatible API and from
every other module (``activity_record``): one transaction per call — identities resolved,
rows inserted with ``ON CONFLICT DO NOTHING`` on ``(stream, message_id)`` — so a request
either stores its valid messages or nothing, and a retried message is stored once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.tracking.bulk import insert_ignoring
from omnihcp.tracking.identity import ANONYMOUS, USER, resolve_batch
from omnihcp.tracking.messages import Message
from omnihcp.tracking.models import Activity, EventType, TrackingSource
from omnihcp.tracking.writelock import writer_turn

WRITE_KEY_BYTES = 24


def _key_hash(write_key: str) -> str:
    # A write key is a random 192-bit secret: a plain SHA-256 is enough to keep it unreadable.
    return hashlib.sha256(write_key.encode()).hexdigest()


def source_create(*, actor: Actor, name: str, code: str) -> tuple[TrackingSource, str]:
    """A new source and its write key (returned once; only its hash is kept)."""
    name, code = name.strip(), code.strip().lower()
    if not name:
        raise ApplicationError(_("This field is required."), field="name")
    if not code or not code.replace("-", "").replace("_", "").isalnum() or not code.isascii():
        raise ApplicationError(
            _("Use lower-case letters, digits, - and _ (the platform's code)."), field="code"
        )
    write_key = secrets.token_urlsafe(WRITE_KEY_BYTES)
    with transaction.atomic(durable=True):
        if TrackingSource.objects.filter(code=code).exists():
            raise ApplicationError(_("A source with this code already exists."), field="code")
        source = TrackingSource.objects.create(
            name=name,
            code=code[:40],
            write_key_hash=_key_hash(write_key),
            write_key_hint=write_key[-4:],
            created_by_id=getattr(actor, "pk", None),
        )
        audit_append(
            actor=actor,
            action="tracking.source_create",
            object_type="tracking.source",
            object_id=source.pk,
            after={"name": source.name, "code": source.code},
        )
    return source, write_key


def source_rotate_key(*, actor: Actor, source: TrackingSource) -> str:
    """A new write key for ``source``; the old one stops working at once."""
    write_key = secrets.token_urlsafe(WRITE_KEY_BYTES)
    with transaction.atomic(durable=True):
        source.write_key_hash = _key_hash(write_key)
        source.write_key_hint = write_key[-4:]
        source.save(update_fields=["write_key_hash", "write_key_hint"])
        audit_append(
            actor=actor,
            action="tracking.source_rotate_key",
            object_type="tracking.source",
            object_id=source.pk,
        )
    _source_by_hash.cache_clear()
    return write_key


@lru_cache(maxsize=256)
def _source_by_hash(key_hash: str, minute: int) -> tuple[int, str] | None:
    found = (
        TrackingSource.objects.filter(write_key_hash=key_hash, active=True)
        .values_list("id", "code")
        .first()
    )
    return None if found is None else (found[0], found[1])


def source_for_key(write_key: str) -> tuple[int, str] | None:
    """The active source (id, code) of a write key; answers are cached for up to a minute,
    so a rotated or deactivated key is refused by every server within a minute."""
    if not write_key:
        return None
    return _source_by_hash(_key_hash(write_key), int(timezone.now().timestamp() // 60))


def activity_ingest(*, stream: str, messages: list[Message], received_at: dt.datetime) -> None:
    """Store the valid messages of one request (those already stored are left as they are)."""
    if not messages:
        return
    with writer_turn(), transaction.atomic(durable=True):
        resolved = resolve_batch(stream, messages)
        rows = [_row(stream, message, resolved, received_at) for message in messages]
        insert_ignoring(Activity, _COLUMNS, ("stream", "message_id"), rows)


_COLUMNS = (
    "stream",
    "message_id",
    "type",
    "event",
    "hcp",
    "user_id",
    "anonymous_id",
    "channel",
    "content_ref",
    "occurred_at",
    "received_at",
    "properties",
    "context",
)


def _row(
    stream: str,
    message: Message,
    resolved: dict[tuple[str, str], int | None],
    received_at: dt.datetime,
) -> tuple[Any, ...]:
    hcp_id = None
    if message.user_id:
        hcp_id = resolved.get((USER, message.user_id))
    if hcp_id is None and message.anonymous_id:
        hcp_id = resolved.get((ANONYMOUS, message.anonymous_id))
    return (
        stream,
        message.message_id,
        message.type,
        message.event,
        hcp_id,
        message.user_id,
        message.anonymous_id,
        message.channel,
        message.content_ref,
        message.occurred_at,
        received_at,
        message.properties,
        message.context,
    )


def activity_record(
    *,
    module: str,
    events: Iterable[dict[str, Any]],
) -> int:
    """Events another module saw (a content open, a visit, a quiz answer), onto the timeline.

    Each event is ``{"message_id", "hcp_id", "event", "occurred_at", "channel"?,
    "content_ref"?, "properties"?}``; ``message_id`` makes recording it again harmless.
    """
    now = timezone.now()
    rows = [
        Activity(
            stream=module,
            message_id=str(event["message_id"]),
            type=EventType.TRACK,
            event=str(event["event"]),
            hcp_id=event["hcp_id"],
            user_id=f"hcp:{event['hcp_id']}",
            channel=str(event.get("channel", "")),
            content_ref=str(event.get("content_ref", "")),
            occurred_at=event.get("occurred_at") or now,
            received_at=now,
            properties=dict(event.get("properties", {})),
        )
        for event in events
    ]
    with transaction.atomic():
        Activity.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
