"""Reads of the governance app: verifying the audit chain, listing reveals."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from omnihcp.governance.models import AuditEvent, AuditHead, PIAccessLog
from omnihcp.governance.services import GENESIS_HASH, event_fields, event_hash


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    problems: tuple[str, ...]


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; report edited, missing or reordered events."""
    problems: list[str] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        count += 1
        if event.seq != expected_seq:
            problems.append(f"event #{expected_seq} is missing (next is #{event.seq})")
        if event.prev_hash != prev_hash:
            problems.append(f"event #{event.seq} does not follow its predecessor")
        if event_hash(prev_hash=event.prev_hash, fields=event_fields(event)) != event.hash:
            problems.append(f"event #{event.seq} was edited after it was written")
        expected_seq, prev_hash = event.seq + 1, event.hash
        if len(problems) >= 50:
            break
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if not problems and (head_seq != expected_seq - 1 or head_hash != prev_hash):
        problems.append(f"the chain ends at #{expected_seq - 1} but its head says #{head_seq}")
    return ChainReport(ok=not problems, events=count, problems=tuple(problems))


def audit_events_for(*, object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("-seq")


def pi_access_list(*, subject_type: str, subject_id: int) -> QuerySet[PIAccessLog]:
    return PIAccessLog.objects.filter(subject_type=subject_type, subject_id=subject_id)
