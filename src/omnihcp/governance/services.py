"""Writes of the governance app: append to the audit chain, record personal-information reveals."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from omnihcp.governance.models import AuditEvent, AuditHead, PIAccessLog

GENESIS_HASH = "0" * 64


class Actor(Protocol):
    @property
    def pk(self) -> Any: ...

    def get_username(self) -> str: ...


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)


def _normalised(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Round-trip through JSON so the hash is computed on exactly what the database stores.
    return None if value is None else json.loads(_canonical(value))


def event_hash(*, prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
    }


@transaction.atomic
def audit_append(
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: Any = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain; callers run it inside their own transaction."""
    # Lock order: the head row is always the last lock a service takes, so appends queue
    # behind each other without deadlocking against the rows they describe.
    head, _created = AuditHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=timezone.now().replace(microsecond=0),
        actor_id=actor.pk if actor is not None else None,
        actor=actor.get_username() if actor is not None else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_normalised(before),
        after=_normalised(after),
        prev_hash=head.hash,
    )
    event.hash = event_hash(prev_hash=head.hash, fields=event_fields(event))
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    return event


def pi_access_record(
    *, actor: Actor, subject_type: str, subject_id: int, field: str, purpose: str = ""
) -> PIAccessLog:
    """Log one reveal of personal information; call it in the same transaction as the reveal."""
    return PIAccessLog.objects.create(
        actor_id=actor.pk,
        actor=actor.get_username(),
        subject_type=subject_type,
        subject_id=subject_id,
        field=field,
        purpose=purpose,
    )
