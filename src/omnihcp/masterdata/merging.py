"""Merge two golden HCPs with survivorship rules, and undo a merge exactly.

Survivorship, field by field (``SURVIVORSHIP``): the data steward's choice wins; otherwise an
empty value never survives over a filled one, and of two different filled values the one from
the source with the higher ``ImportSource.priority`` survives, then the more recently changed
record's. Each choice is written as a ``FieldLineage`` row naming the source that gave the value.

Personal information (mobile, licence number) moves as its ciphertext, blind index and masked
form together; merging never decrypts it. The ``MergeEvent`` keeps a snapshot of both records,
their affiliations, identities and source-record links, from which ``hcp_unmerge`` restores
them as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError
from omnihcp.core.records import snapshot
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import (
    HCP,
    Affiliation,
    ExternalIdentity,
    FieldLineage,
    ImportSource,
    MatchCandidate,
    MergeEvent,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.services import HCP_FIELDS

# A survivorship field → the columns that move together (a value and its search keys, a
# workplace and its department, a ciphertext and its blind index and mask).
SURVIVORSHIP: dict[str, tuple[str, ...]] = {
    "name": ("name", "name_pinyin", "name_initials"),
    "gender": ("gender",),
    "title": ("title",),
    "position": ("position",),
    "specialty": ("specialty",),
    "primary_hco": ("primary_hco_id", "department_id"),
    "mobile": ("mobile_encrypted", "mobile_hash", "mobile_masked"),
    "licence_no": ("licence_encrypted", "licence_hash", "licence_masked"),
}
FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "gender": gettext_lazy("Gender"),
    "title": gettext_lazy("Title"),
    "position": gettext_lazy("Position"),
    "specialty": gettext_lazy("Specialty"),
    "primary_hco": gettext_lazy("Institution"),
    "mobile": gettext_lazy("Mobile phone"),
    "licence_no": gettext_lazy("Practising licence no."),
}
# What lineage shows of a field: never a clear personal-information value.
SHOWN = {"mobile": "mobile_masked", "licence_no": "licence_masked"}
EMPTY = {"", None, "U"}  # "U": gender unknown
SURVIVOR, MERGED = "survivor", "merged"


def actor_user(actor: Actor | None) -> Any:
    """The user to record as the author; the CLI's system actor is recorded as nobody."""
    return actor if getattr(actor, "is_authenticated", False) else None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def hcp_state(hcp: HCP) -> dict[str, Any]:
    """Everything a merge changes about one HCP, JSON-ready: fields, affiliations, links."""
    hcp.refresh_from_db()
    return {
        "fields": {
            f.attname: _jsonable(getattr(hcp, f.attname)) for f in HCP._meta.concrete_fields
        },
        "affiliations": list(
            Affiliation.objects.filter(hcp=hcp)
            .order_by("id")
            .values("id", "hco_id", "department_id", "role", "is_primary")
        ),
        "identities": sorted(ExternalIdentity.objects.filter(hcp=hcp).values_list("id", flat=True)),
        "source_records": sorted(SourceRecord.objects.filter(hcp=hcp).values_list("id", flat=True)),
    }


def _provenance(hcp: HCP, field: str) -> tuple[str, SourceRecord | None, int]:
    """The source that gave ``hcp`` its value of ``field``: its lineage, else its newest record."""
    lineage = FieldLineage.objects.filter(hcp=hcp, field=field).order_by("-chosen_at", "-id")
    last = lineage.select_related("source_record").first()
    if last is not None and last.source:
        record, code = last.source_record, last.source
    else:
        record = SourceRecord.objects.filter(hcp=hcp).order_by("-received_at", "-id").first()
        code = record.source if record is not None else ""
    priority = ImportSource.objects.filter(code=code).values_list("priority", flat=True).first()
    return code, record, priority or 0


def _shown(hcp: HCP, field: str) -> str:
    if field == "primary_hco":
        hco = hcp.primary_hco
        return f"{hco.name} · {hcp.department.name}"[:200] if hcp.department else hco.name
    return str(getattr(hcp, SHOWN.get(field, field)) or "")[:200]


def _value(hcp: HCP, field: str) -> Any:
    # PI is compared by its blind index: the ciphertext of one number differs at every write.
    column = {"mobile": "mobile_hash", "licence_no": "licence_hash"}.get(field)
    return getattr(hcp, column or SURVIVORSHIP[field][0])


def choose_side(
    mine: Any, theirs: Any, provenance: tuple[Any, Any], *, newer_merged: bool, override: str | None
) -> tuple[str, str]:
    """(side, rule) for one field of a merge, HCP or HCO: steward override > same value >
    completeness > source priority (``provenance[i][2]``) > recency."""
    if override:
        return override, FieldLineage.Rule.STEWARD
    if mine == theirs:
        return SURVIVOR, FieldLineage.Rule.SAME
    if (mine in EMPTY) != (theirs in EMPTY):
        return (MERGED if mine in EMPTY else SURVIVOR), FieldLineage.Rule.COMPLETENESS
    if provenance[0][2] != provenance[1][2]:
        side = SURVIVOR if provenance[0][2] > provenance[1][2] else MERGED
        return side, FieldLineage.Rule.SOURCE_PRIORITY
    return (MERGED if newer_merged else SURVIVOR), FieldLineage.Rule.RECENCY


def _choose(
    field: str, survivor: HCP, merged: HCP, override: str | None
) -> tuple[str, str, tuple[Any, Any]]:
    """(side, rule, (the survivor's provenance, the merged record's)) for one field."""
    provenance = (_provenance(survivor, field), _provenance(merged, field))
    side, rule = choose_side(
        _value(survivor, field),
        _value(merged, field),
        provenance,
        newer_merged=merged.updated_at > survivor.updated_at,
        override=override,
    )
    return side, rule, provenance


def check_overrides(overrides: Mapping[str, str], fields: Mapping[str, Any]) -> None:
    """A steward's choices name fields the merge chooses, and a side of the pair."""
    for field, side in overrides.items():
        if field not in fields:
            raise ApplicationError(
                _("%(field)s is not a field a merge chooses.") % {"field": field}, field=field
            )
        if side not in {SURVIVOR, MERGED}:
            raise ApplicationError(
                _('Choose "survivor" or "merged" for %(field)s.') % {"field": field}, field=field
            )


def _lock(*hcps: HCP) -> dict[int, HCP]:
    # Lock order: by id, so two merges of overlapping pairs queue instead of deadlocking.
    ids = sorted(hcp.pk for hcp in hcps)
    return {
        hcp.pk: hcp for hcp in HCP.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


def _check_mergeable(survivor: HCP, merged: HCP) -> None:
    if survivor.pk == merged.pk:
        raise ApplicationError(_("An HCP cannot be merged into itself."), field="merged")
    for name, hcp in (("survivor", survivor), ("merged", merged)):
        if hcp.merged_into_id is not None or hcp.status == RecordStatus.MERGED:
            raise ApplicationError(
                _("HCP %(code)s has already been merged into another record.") % {"code": hcp.code},
                field=name,
            )


def _move_affiliations(survivor: HCP, merged: HCP) -> None:
    held = set(Affiliation.objects.filter(hcp=survivor).values_list("hco_id", flat=True))
    for affiliation in Affiliation.objects.filter(hcp=merged):
        if affiliation.hco_id in held:
            affiliation.delete()  # the survivor already works there; the snapshot keeps it
        else:
            affiliation.hcp = survivor
            affiliation.is_primary = False
            affiliation.save(update_fields=["hcp", "is_primary"])
    Affiliation.objects.filter(hcp=survivor).exclude(hco_id=survivor.primary_hco_id).update(
        is_primary=False
    )
    Affiliation.objects.update_or_create(
        hcp=survivor,
        hco_id=survivor.primary_hco_id,
        defaults={"is_primary": True, "department_id": survivor.department_id},
    )


@transaction.atomic
def hcp_merge(
    *,
    actor: Actor | None,
    survivor: HCP,
    merged: HCP,
    overrides: Mapping[str, str] | None = None,
    candidate: MatchCandidate | None = None,
) -> MergeEvent:
    """Merge ``merged`` into ``survivor``, field by field; the merged id then redirects."""
    overrides = dict(overrides or {})
    check_overrides(overrides, SURVIVORSHIP)
    locked = _lock(survivor, merged)
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    _check_mergeable(survivor, merged)
    state = {SURVIVOR: hcp_state(survivor), MERGED: hcp_state(merged)}
    audit_before = {SURVIVOR: snapshot(survivor, HCP_FIELDS), MERGED: snapshot(merged, HCP_FIELDS)}
    choices: dict[str, dict[str, Any]] = {}
    lineage: list[FieldLineage] = []
    for field, columns in SURVIVORSHIP.items():
        side, rule, provenance = _choose(field, survivor, merged, overrides.get(field))
        winner = merged if side == MERGED else survivor
        code, record, _priority = provenance[1] if side == MERGED else provenance[0]
        if side == MERGED:
            for column in columns:
                setattr(survivor, column, getattr(merged, column))
        choices[field] = {"from": side, "rule": str(rule), "source": code}
        lineage.append(
            FieldLineage(
                hcp=survivor,
                field=field,
                source=code,
                source_record=record,
                from_hcp=winner,
                value=_shown(winner, field),
                rule=rule,
                chosen_by=actor_user(actor) if rule == FieldLineage.Rule.STEWARD else None,
            )
        )
    survivor.save()
    _move_affiliations(survivor, merged)
    ExternalIdentity.objects.filter(hcp=merged).update(hcp=survivor)
    SourceRecord.objects.filter(hcp=merged).update(hcp=survivor)
    merged.merged_into = survivor
    merged.status = RecordStatus.MERGED
    merged.save(update_fields=["merged_into", "status", "updated_at"])
    event = MergeEvent.objects.create(
        entity_type=SourceRecord.EntityType.HCP,
        survivor_hcp=survivor,
        merged_hcp=merged,
        snapshot=state,
        choices=choices,
        candidate=candidate,
        merged_by=actor_user(actor),
    )
    for row in lineage:
        row.merge_event = event
    FieldLineage.objects.bulk_create(lineage)
    audit_append(
        actor=actor,
        action="hcp.merge",
        object_type="hcp",
        object_id=survivor.pk,
        before=audit_before,
        after={
            SURVIVOR: snapshot(survivor, HCP_FIELDS),
            "merged_id": merged.pk,
            "merge_event": event.pk,
            "choices": choices,
        },
    )
    return event


def _restore_fields(hcp_id: int, fields: dict[str, Any]) -> None:
    values = {
        f.attname: f.to_python(fields[f.attname])
        for f in HCP._meta.concrete_fields
        if f.attname != "id"
    }
    # ``update()``, not ``save()``: ``updated_at`` is restored too instead of being bumped.
    HCP.objects.filter(pk=hcp_id).update(**values)


@transaction.atomic
def hcp_unmerge(*, actor: Actor | None, merge_event: MergeEvent) -> MergeEvent:
    """Restore both records of a merge exactly as they were before it."""
    event = MergeEvent.objects.select_for_update().get(pk=merge_event.pk)
    if event.undone_at is not None:
        raise ApplicationError(_("This merge has already been undone."), field="merge_event")
    if event.survivor_hcp is None or event.merged_hcp is None:
        raise ApplicationError(_("Only merges of HCPs can be undone here."), field="merge_event")
    locked = _lock(event.survivor_hcp, event.merged_hcp)
    survivor, merged = locked[event.survivor_hcp.pk], locked[event.merged_hcp.pk]
    later = MergeEvent.objects.filter(
        survivor_hcp=survivor, undone_at__isnull=True, id__gt=event.pk
    ).first()
    if later is not None and later.merged_hcp is not None:
        raise ApplicationError(
            _("Undo the later merge of %(code)s into this record first.")
            % {"code": later.merged_hcp.code},
            field="merge_event",
        )
    if survivor.merged_into_id is not None:
        raise ApplicationError(
            _("HCP %(code)s has since been merged into another record; undo that merge first.")
            % {"code": survivor.code},
            field="merge_event",
        )
    if merged.merged_into_id != survivor.pk:
        raise ApplicationError(
            _("HCP %(code)s is no longer merged into this record.") % {"code": merged.code},
            field="merge_event",
        )
    before = snapshot(survivor, HCP_FIELDS)
    saved = event.snapshot
    Affiliation.objects.filter(hcp_id__in=[survivor.pk, merged.pk]).delete()
    for side, hcp in ((SURVIVOR, survivor), (MERGED, merged)):
        _restore_fields(hcp.pk, saved[side]["fields"])
        Affiliation.objects.bulk_create(
            Affiliation(hcp_id=hcp.pk, **row) for row in saved[side]["affiliations"]
        )
        ExternalIdentity.objects.filter(pk__in=saved[side]["identities"]).update(hcp_id=hcp.pk)
        SourceRecord.objects.filter(pk__in=saved[side]["source_records"]).update(hcp_id=hcp.pk)
    FieldLineage.objects.filter(merge_event=event).delete()
    event.undone_at = timezone.now()
    event.undone_by = actor_user(actor)
    event.save(update_fields=["undone_at", "undone_by"])
    survivor.refresh_from_db()
    audit_append(
        actor=actor,
        action="hcp.unmerge",
        object_type="hcp",
        object_id=survivor.pk,
        before=before,
        after={
            SURVIVOR: snapshot(survivor, HCP_FIELDS),
            "merged_id": merged.pk,
            "merge_event": event.pk,
        },
    )
    return event
