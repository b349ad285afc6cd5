"""The data steward's decisions on match candidates: approve, reject, defer, one or in bulk.

A candidate pairs the left side (an imported source record that went to review, or a golden
record) with a golden record it may be. For an import row: approving links the source record
to the chosen record; rejecting the last open candidate creates a new golden record from the
row through the create services (as the import would have). For two golden HCPs or HCOs:
approving merges them (``merging.hcp_merge``, ``merging_hco.hco_merge``), rejecting keeps them
apart. Every decision is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.importing import mapping as import_fields
from omnihcp.masterdata.importing.rows import Row, hco_row, hcp_row
from omnihcp.masterdata.merging import actor_user, hcp_merge
from omnihcp.masterdata.merging_hco import hco_merge
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    ExternalIdentity,
    MatchCandidate,
    SourceRecord,
)

APPROVE, REJECT, DEFER = "approve", "reject", "defer"
UNDECIDED = (MatchCandidate.Status.OPEN, MatchCandidate.Status.DEFERRED)
MAX_REASON = 500

# Rules of the deterministic import matcher, as stored in ``explanation["rule"]``.
RULE_HCP_NAME = "same_name_same_hco"
RULE_HOSPITAL = "hospital_name_shared"
RULE_HCO_NAME = "same_name_same_city"


def _explain(entity_type: str, values: dict[str, Any], hcp: HCP | None) -> dict[str, Any]:
    if entity_type == import_fields.HCO:
        # The matcher sends a name to review only where the row or the records lack a USCC.
        return {"rule": RULE_HCO_NAME, "name": "same", "city": "same", "uscc": "missing"}
    if hcp is None:
        return {"rule": RULE_HOSPITAL, "hospital": "same"}
    licence = pi.blind_index(values.get("licence_no", ""))
    return {
        "rule": RULE_HCP_NAME,
        "name": "same",
        "hospital": "same",
        "licence_no": "same" if licence and licence == hcp.licence_hash else "missing",
    }


def candidates_from_review(
    *,
    record: SourceRecord,
    candidate_ids: Iterable[int],
    hco: HCO | None,
    values: dict[str, Any],
    scores: Mapping[int, tuple[float, dict[str, Any]]] | None = None,
) -> list[MatchCandidate]:
    """One open candidate per golden record an imported row may be (the import's hook).

    For an HCP row, ``hco`` is the institution the row was placed at and the ids are HCPs
    there; without it the row's hospital name fits several institutions and the ids are HCOs.
    """
    ids = sorted(candidate_ids)
    rows: list[MatchCandidate]
    scored = scores or {}
    if record.entity_type == import_fields.HCO or hco is None:
        explanation = _explain(record.entity_type, values, None)
        rows = [
            MatchCandidate(
                right_hco_id=pk,
                probability=scored[pk][0] if pk in scored else None,
                explanation={
                    **explanation,
                    **({"model": scored[pk][1]} if pk in scored else {}),
                },
            )
            for pk in ids
        ]
    else:
        rows = [
            MatchCandidate(
                right_hcp=hcp,
                right_hco=hco,
                probability=scored[hcp.pk][0] if hcp.pk in scored else None,
                explanation={
                    **_explain("hcp", values, hcp),
                    **({"model": scored[hcp.pk][1]} if hcp.pk in scored else {}),
                },
            )
            for hcp in HCP.objects.filter(pk__in=ids).order_by("pk")
        ]
    for row in rows:
        row.entity_type = record.entity_type
        row.source_record = record
    return MatchCandidate.objects.bulk_create(rows)


@transaction.atomic
def candidate_pair_create(
    *,
    actor: Actor | None,
    left: HCP,
    right: HCP,
    probability: float | None,
    explanation: Mapping[str, Any],
) -> MatchCandidate:
    """Ask the steward whether two golden HCPs are one doctor (the probabilistic matcher's)."""
    if left.pk == right.pk:
        raise ApplicationError(_("A record cannot be a candidate for itself."), field="right")
    if probability is not None and not 0 <= probability <= 1:
        raise ApplicationError(_("A probability lies between 0 and 1."), field="probability")
    candidate = MatchCandidate.objects.create(
        entity_type=SourceRecord.EntityType.HCP,
        left_hcp=left,
        right_hcp=right,
        probability=probability,
        explanation=dict(explanation),
    )
    audit_append(
        actor=actor,
        action="match_candidate.create",
        object_type="match_candidate",
        object_id=candidate.pk,
        after={"left_hcp": left.pk, "right_hcp": right.pk, "probability": probability},
    )
    return candidate


def source_row(record: SourceRecord) -> Row:
    """The imported row standardised again, as the import read it; PI decrypted to recreate it."""
    batch = record.batch
    if batch is None:
        raise ApplicationError(
            _("Source record %(key)s did not come from a file import.") % {"key": str(record)},
            field="source_record",
        )
    cells: dict[str, Any] = record.payload.get("row", {})
    raw: dict[str, str] = {}
    for name, column in batch.mapping.items():
        cell = cells.get(column, "")
        # Personal information is kept encrypted in the lineage; clear only for this call.
        raw[name] = pi.decrypt(cell["encrypted"]) if isinstance(cell, dict) else str(cell).strip()
    row = hco_row(raw) if record.entity_type == import_fields.HCO else hcp_row(raw)
    if not row.ok:
        first = row.errors[0]
        raise ApplicationError(first.message, field=first.field)
    return row


def _create_from_record(actor: Actor | None, record: SourceRecord, hco: HCO | None) -> None:
    # The import's own creation path, so a row decided by the steward becomes exactly the
    # record the import would have made of it.
    from omnihcp.masterdata.importing.importer import BatchImporter
    from omnihcp.masterdata.importing.match import NEW, Match

    assert record.batch is not None  # noqa: S101  (source_row has refused it otherwise)
    row = source_row(record)
    importer = BatchImporter(actor=actor, batch=record.batch, columns=record.batch.columns)
    importer._create(record, Match(NEW, hco=hco), row.values)
    record.status = SourceRecord.Status.NEW
    if record.source_key:
        importer._link(record.source_key, record)
    record.save()


def _link_record(record: SourceRecord, candidate: MatchCandidate) -> None:
    target: dict[str, Any]
    if candidate.right_hcp is not None:
        hcp, hops = candidate.right_hcp, 0
        while hcp.merged_into_id is not None and hops < 10:  # merged since: the survivor
            hcp, hops = HCP.objects.get(pk=hcp.merged_into_id), hops + 1
        record.hcp, record.hco = hcp, hcp.primary_hco
        target = {"hcp": hcp}
    else:
        hco, hops = candidate.right_hco, 0
        while hco is not None and hco.merged_into_id is not None and hops < 10:
            hco, hops = HCO.objects.get(pk=hco.merged_into_id), hops + 1  # the survivor
        record.hco = hco
        target = {"hco": hco}
    record.status = SourceRecord.Status.MATCHED
    record.save(update_fields=["hcp", "hco", "status"])
    if record.source_key:
        ExternalIdentity.objects.get_or_create(
            source=record.source, external_id=record.source_key, defaults=target
        )


def _lock(candidate: MatchCandidate) -> MatchCandidate:
    locked = (
        # ``of``: PostgreSQL refuses to lock the nullable side of the outer joins.
        MatchCandidate.objects.select_for_update(of=("self",))
        .select_related("source_record__batch", "left_hcp", "right_hcp", "left_hco", "right_hco")
        .get(pk=candidate.pk)
    )
    if locked.status not in UNDECIDED:
        raise ApplicationError(
            _("Candidate %(id)s has already been decided (%(status)s).")
            % {"id": locked.pk, "status": locked.get_status_display()},
            field="candidate",
        )
    return locked


def _decide(actor: Actor | None, candidate: MatchCandidate, status: str, reason: str) -> None:
    before = {"status": candidate.status}
    candidate.status = status
    candidate.reason = reason[:MAX_REASON]
    candidate.decided_by = actor_user(actor)
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit_append(
        actor=actor,
        action=f"match_candidate.{status}",
        object_type="match_candidate",
        object_id=candidate.pk,
        before=before,
        after={"status": status, "reason": candidate.reason},
    )


def _siblings(candidate: MatchCandidate) -> Any:
    return MatchCandidate.objects.filter(
        source_record_id=candidate.source_record_id, status__in=UNDECIDED
    ).exclude(pk=candidate.pk)


@transaction.atomic
def candidate_approve(
    *,
    actor: Actor | None,
    candidate: MatchCandidate,
    reason: str = "",
    survivor: str = "left",
    overrides: Mapping[str, str] | None = None,
) -> MatchCandidate:
    """The records are one: link the source record, or merge the two golden records."""
    candidate = _lock(candidate)
    record = candidate.source_record
    if record is not None:
        if candidate.right_hcp is None and record.entity_type == import_fields.HCP:
            # The candidate is the row's hospital: the doctor is new there.
            _create_from_record(actor, record, candidate.right_hco)
        else:
            _link_record(record, candidate)
        for sibling in _siblings(candidate):
            _decide(
                actor, sibling, MatchCandidate.Status.REJECTED, _("Another candidate was approved.")
            )
    elif candidate.left_hcp is not None and candidate.right_hcp is not None:
        if survivor not in {"left", "right"}:
            raise ApplicationError(_('Choose "left" or "right" to survive.'), field="survivor")
        pair = (candidate.left_hcp, candidate.right_hcp)
        kept, gone = pair if survivor == "left" else pair[::-1]
        hcp_merge(actor=actor, survivor=kept, merged=gone, overrides=overrides, candidate=candidate)
    elif candidate.left_hco is not None and candidate.right_hco is not None:
        if survivor not in {"left", "right"}:
            raise ApplicationError(_('Choose "left" or "right" to survive.'), field="survivor")
        places = (candidate.left_hco, candidate.right_hco)
        kept_hco, gone_hco = places if survivor == "left" else places[::-1]
        hco_merge(
            actor=actor,
            survivor=kept_hco,
            merged=gone_hco,
            overrides=overrides,
            candidate=candidate,
        )
    else:
        raise ApplicationError(_("This candidate names no second record."), field="candidate")
    _decide(actor, candidate, MatchCandidate.Status.APPROVED, reason)
    return candidate


@transaction.atomic
def candidate_reject(
    *, actor: Actor | None, candidate: MatchCandidate, reason: str = ""
) -> MatchCandidate:
    """The records differ; an import row none of whose candidates fit becomes a new record."""
    candidate = _lock(candidate)
    _decide(actor, candidate, MatchCandidate.Status.REJECTED, reason)
    record = candidate.source_record
    if record is None or _siblings(candidate).exists():
        return candidate
    if record.entity_type == import_fields.HCO:
        _create_from_record(actor, record, None)
    elif candidate.right_hcp is not None:
        _create_from_record(actor, record, candidate.right_hco)
    else:
        # No institution fits the row's hospital: the row cannot be placed.
        record.status = SourceRecord.Status.REJECTED
        record.save(update_fields=["status"])
    return candidate


@transaction.atomic
def candidate_defer(
    *, actor: Actor | None, candidate: MatchCandidate, reason: str = ""
) -> MatchCandidate:
    candidate = _lock(candidate)
    _decide(actor, candidate, MatchCandidate.Status.DEFERRED, reason)
    return candidate


DECISIONS: dict[str, Callable[..., MatchCandidate]] = {
    APPROVE: candidate_approve,
    REJECT: candidate_reject,
    DEFER: candidate_defer,
}


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # candidate id → why


@transaction.atomic
def candidates_decide(
    *, actor: Actor | None, candidate_ids: Iterable[int], decision: str, reason: str = ""
) -> BulkResult:
    """One decision for many candidates, each in its own savepoint: one failure stops no other."""
    if decision not in DECISIONS:
        raise ApplicationError(_("Choose approve, reject or defer."), field="decision")
    decide = DECISIONS[decision]
    result = BulkResult()
    found = MatchCandidate.objects.in_bulk(sorted(set(candidate_ids)))
    for pk in sorted(set(candidate_ids)):
        candidate = found.get(pk)
        if candidate is None:
            result.failed[pk] = _("No such candidate.")
            continue
        try:
            with transaction.atomic():
                decide(actor=actor, candidate=candidate, reason=reason)
        except ApplicationError as exc:
            result.failed[pk] = exc.message
        else:
            result.done.append(pk)
    return result
