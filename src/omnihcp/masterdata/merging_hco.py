"""Merge two golden HCOs with survivorship rules, and undo a merge exactly.

The rules are those of HCP merges (``merging``): the steward's choice, then completeness, then
``ImportSource.priority``, then the more recently changed record; each choice is a
``FieldLineage`` row on the survivor. Everything that points at the merged HCO moves to the
survivor: doctors' primary institution, affiliations (one per doctor), departments (a
department of the same name is folded into the survivor's), campuses, external identities,
source records, platform users and territory periods (through ``org.services``). The
``MergeEvent`` keeps both records and the original of every row it changed, from which
``hco_unmerge`` puts each row back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.core.records import snapshot
from omnihcp.core.scope import DataScope
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata import selectors
from omnihcp.masterdata.merging import (
    MERGED,
    SURVIVOR,
    _jsonable,
    actor_user,
    check_overrides,
    choose_side,
)
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    ExternalIdentity,
    FieldLineage,
    HCODepartment,
    HCOType,
    ImportSource,
    MatchCandidate,
    MergeEvent,
    PlatformUser,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.services import HCO_FIELDS
from omnihcp.org.services import territory_hcos_repoint

# A survivorship field → the columns that move together (a name and its search keys, an
# address and the place it is in).
SURVIVORSHIP: dict[str, tuple[str, ...]] = {
    "name": ("name", "name_pinyin", "name_initials"),
    "short_name": ("short_name",),
    "hco_type": ("hco_type",),
    "level": ("level",),
    "address": ("province", "city", "district", "address"),
    "uscc": ("uscc",),
    "beds": ("beds",),
    "parent": ("parent_id",),
}
FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "short_name": gettext_lazy("Short name"),
    "hco_type": gettext_lazy("Type"),
    "level": gettext_lazy("Hospital level"),
    "address": gettext_lazy("Address"),
    "uscc": gettext_lazy("USCC"),
    "beds": gettext_lazy("Beds"),
    "parent": gettext_lazy("Parent institution"),
}
AFFILIATION_COLUMNS = ("id", "hcp_id", "hco_id", "department_id", "role", "is_primary")
MAX_HOPS = 10


# ------------------------------------------------------------------------------- reads
def hco_survivor_get(*, scope: DataScope, hco_id: int) -> HCO:
    """One HCO in scope; a merged-away id resolves to the record that survived it."""
    current = hco_id
    for _hop in range(MAX_HOPS):
        into = HCO.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if into is None:
            break
        current = into
    return selectors.hco_get(scope=scope, hco_id=current)


def hco_merge_events(*, hco: HCO) -> QuerySet[MergeEvent]:
    """Merges into ``hco``, newest first, with who merged and who undid them."""
    return (
        MergeEvent.objects.filter(survivor_hco=hco)
        .select_related("merged_hco", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")
    )


def hco_merge_event_get(*, event_id: int) -> MergeEvent:
    qs = MergeEvent.objects.select_related("survivor_hco", "merged_hco")
    event = qs.filter(pk=event_id, survivor_hco__isnull=False).first()
    if event is None:
        raise NotFoundError(_("No such merge."))
    return event


def hco_lineage(*, hco: HCO) -> QuerySet[FieldLineage]:
    return FieldLineage.objects.filter(hco=hco).order_by("field", "-chosen_at", "-id")


def hco_state(hco: HCO) -> dict[str, Any]:
    """An HCO's own columns, JSON-ready."""
    hco.refresh_from_db()
    return {f.attname: _jsonable(getattr(hco, f.attname)) for f in HCO._meta.concrete_fields}


# ------------------------------------------------------------------------- survivorship
def _provenance(hco: HCO, field: str) -> tuple[str, SourceRecord | None, int]:
    """The source that gave ``hco`` its value of ``field``: its lineage, else its newest record."""
    lineage = FieldLineage.objects.filter(hco=hco, field=field).order_by("-chosen_at", "-id")
    last = lineage.select_related("source_record").first()
    if last is not None and last.source:
        record, code = last.source_record, last.source
    else:
        # HCP rows name their institution too; only the institution's own rows gave its values.
        records = SourceRecord.objects.filter(hco=hco, entity_type=SourceRecord.EntityType.HCO)
        record = records.order_by("-received_at", "-id").first()
        code = record.source if record is not None else ""
    priority = ImportSource.objects.filter(code=code).values_list("priority", flat=True).first()
    return code, record, priority or 0


def _value(hco: HCO, field: str, pair: set[int]) -> Any:
    if field == "address":
        # Compared as a whole; the street address is what makes one more complete.
        return (hco.province, hco.city, hco.district, hco.address) if hco.address else ""
    if field == "parent":
        # One of the pair as the other's parent would make the survivor its own parent.
        return None if hco.parent_id in pair else hco.parent_id
    return getattr(hco, SURVIVORSHIP[field][0])


def _shown(hco: HCO, field: str) -> str:
    if field == "address":
        return f"{hco.province}{hco.city}{hco.district}{hco.address}"[:200]
    if field == "parent":
        return hco.parent.name if hco.parent is not None else ""
    if field in {"hco_type", "level"}:
        return str(getattr(hco, f"get_{field}_display")() if getattr(hco, field) else "")
    value = getattr(hco, field)
    return "" if value is None else str(value)[:200]


def _choose(
    field: str, survivor: HCO, merged: HCO, override: str | None
) -> tuple[str, str, tuple[Any, Any]]:
    """(side, rule, (the survivor's provenance, the merged record's)) for one field."""
    pair = {survivor.pk, merged.pk}
    provenance = (_provenance(survivor, field), _provenance(merged, field))
    side, rule = choose_side(
        _value(survivor, field, pair),
        _value(merged, field, pair),
        provenance,
        newer_merged=merged.updated_at > survivor.updated_at,
        override=override,
    )
    return side, rule, provenance


def _lock(*hcos: HCO) -> dict[int, HCO]:
    # Lock order: by id, so two merges of overlapping pairs queue instead of deadlocking.
    ids = sorted(hco.pk for hco in hcos)
    return {
        hco.pk: hco
        for hco in HCO.objects.select_for_update(of=("self",))
        .select_related("parent")
        .filter(pk__in=ids)
        .order_by("pk")
    }


def _check_mergeable(survivor: HCO, merged: HCO) -> None:
    if survivor.pk == merged.pk:
        raise ApplicationError(_("An HCO cannot be merged into itself."), field="merged")
    for name, hco in (("survivor", survivor), ("merged", merged)):
        if hco.merged_into_id is not None or hco.status == RecordStatus.MERGED:
            raise ApplicationError(
                _("HCO %(code)s has already been merged into another record.") % {"code": hco.code},
                field=name,
            )
    if survivor.uscc and merged.uscc and survivor.uscc != merged.uscc:
        raise ApplicationError(
            _("The two institutions have different USCCs (%(left)s, %(right)s).")
            % {"left": survivor.uscc, "right": merged.uscc},
            field="uscc",
        )


# ------------------------------------------------------------------- moving what points at it
def _move_departments(survivor: HCO, merged: HCO) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Move the merged HCO's departments; one of a name the survivor has is folded into it."""
    held = dict(HCODepartment.objects.filter(hco=survivor).values_list("name", "id"))
    departments = HCODepartment.objects.filter(hco=merged).order_by("id")
    rows: list[dict[str, Any]] = [
        {"id": pk, "hco_id": hco_id, "name": name, "standard_id": standard_id}
        for pk, hco_id, name, standard_id in departments.values_list(
            "id", "hco_id", "name", "standard_id"
        )
    ]
    folded = {row["id"]: held[row["name"]] for row in rows if row["name"] in held}
    HCODepartment.objects.filter(hco=merged).exclude(pk__in=folded).update(hco=survivor)
    return rows, folded


def _move_hcps(survivor: HCO, merged: HCO, folded: dict[int, int]) -> list[list[Any]]:
    touched = HCP.objects.filter(Q(primary_hco=merged) | Q(department_id__in=list(folded)))
    rows = [
        list(row)
        for row in touched.order_by("id").values_list("id", "primary_hco_id", "department_id")
    ]
    HCP.objects.filter(primary_hco=merged).update(primary_hco=survivor)
    for old, new in folded.items():
        HCP.objects.filter(department_id=old).update(department_id=new)
    return rows


def _move_affiliations(survivor: HCO, merged: HCO, folded: dict[int, int]) -> list[dict[str, Any]]:
    """Move affiliations at the merged HCO; a doctor already at the survivor keeps one."""
    theirs = list(Affiliation.objects.filter(hco=merged).order_by("id"))
    doctors = [row.hcp_id for row in theirs]
    held = {row.hcp_id: row for row in Affiliation.objects.filter(hco=survivor, hcp_id__in=doctors)}
    elsewhere = Affiliation.objects.filter(department_id__in=list(folded)).exclude(hco=merged)
    originals = list(
        Affiliation.objects.filter(
            Q(pk__in=[row.pk for row in theirs])
            | Q(pk__in=[row.pk for row in held.values()])
            | Q(pk__in=elsewhere.values("pk"))
        )
        .order_by("id")
        .values(*AFFILIATION_COLUMNS)
    )
    for old, new in folded.items():
        Affiliation.objects.filter(department_id=old).exclude(hco=merged).update(department_id=new)
    for row in theirs:
        department = folded.get(row.department_id or 0, row.department_id)
        kept = held.get(row.hcp_id)
        if kept is None:
            row.hco, row.department_id = survivor, department
            row.save(update_fields=["hco", "department"])
            continue
        if row.is_primary:
            kept.is_primary, kept.department_id = True, department
        kept.department_id = kept.department_id or department
        kept.role = kept.role or row.role
        kept.save(update_fields=["is_primary", "department", "role"])
        row.delete()  # the doctor already works at the survivor; ``originals`` keeps it
    return originals


@transaction.atomic
def hco_merge(
    *,
    actor: Actor | None,
    survivor: HCO,
    merged: HCO,
    overrides: Mapping[str, str] | None = None,
    candidate: MatchCandidate | None = None,
) -> MergeEvent:
    """Merge ``merged`` into ``survivor``, field by field; everything pointing at it moves."""
    overrides = dict(overrides or {})
    check_overrides(overrides, SURVIVORSHIP)
    locked = _lock(survivor, merged)
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    _check_mergeable(survivor, merged)
    state: dict[str, Any] = {
        SURVIVOR: {"fields": hco_state(survivor)},
        MERGED: {"fields": hco_state(merged)},
    }
    audit_before = {SURVIVOR: snapshot(survivor, HCO_FIELDS), MERGED: snapshot(merged, HCO_FIELDS)}
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
                hco=survivor,
                field=field,
                source=code,
                source_record=record,
                from_hco=winner,
                value=_shown(winner, field),
                rule=rule,
                chosen_by=actor_user(actor) if rule == FieldLineage.Rule.STEWARD else None,
            )
        )
    if survivor.parent_id in {survivor.pk, merged.pk}:
        survivor.parent_id = None
    if survivor.hco_type != HCOType.HOSPITAL:
        survivor.level = ""  # only hospitals have a level, whichever record gave the type
    # The USCC is unique: the merged record lets go of it before the survivor takes it.
    merged.merged_into, merged.status, merged.uscc = survivor, RecordStatus.MERGED, None
    merged.save(update_fields=["merged_into", "status", "uscc", "updated_at"])
    survivor.save()
    departments, folded = _move_departments(survivor, merged)
    moved: dict[str, Any] = {
        "departments": departments,
        "folded": {str(old): new for old, new in folded.items()},
        "hcps": _move_hcps(survivor, merged, folded),
        "affiliations": _move_affiliations(survivor, merged, folded),
    }
    HCODepartment.objects.filter(pk__in=list(folded)).delete()
    open_candidates = MatchCandidate.objects.filter(status=MatchCandidate.Status.OPEN)
    moving: dict[str, tuple[QuerySet[Any], str]] = {
        "campuses": (HCO.objects.filter(parent=merged).exclude(pk=survivor.pk), "parent"),
        "identities": (ExternalIdentity.objects.filter(hco=merged), "hco"),
        "source_records": (SourceRecord.objects.filter(hco=merged), "hco"),
        "platform_users": (PlatformUser.objects.filter(hco=merged), "hco"),
        # The steward's open questions about the merged HCO are now about the survivor
        # (but a pair of the two is left alone: it would become a pair of one HCO).
        "candidates_left": (
            open_candidates.filter(left_hco=merged).exclude(right_hco=survivor),
            "left_hco",
        ),
        "candidates_right": (
            open_candidates.filter(right_hco=merged).exclude(left_hco=survivor),
            "right_hco",
        ),
    }
    for name, (qs, column) in moving.items():
        moved[name] = sorted(qs.values_list("pk", flat=True))
        qs.model._default_manager.filter(pk__in=moved[name]).update(**{column: survivor})
    # Last, since org's service appends to the audit chain, whose lock is always taken last.
    moved["territory_periods"] = territory_hcos_repoint(
        actor=actor, old_hco_id=merged.pk, new_hco_id=survivor.pk
    )
    state["moved"] = moved
    event = MergeEvent.objects.create(
        entity_type=SourceRecord.EntityType.HCO,
        survivor_hco=survivor,
        merged_hco=merged,
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
        action="hco.merge",
        object_type="hco",
        object_id=survivor.pk,
        before=audit_before,
        after={
            SURVIVOR: snapshot(survivor, HCO_FIELDS),
            "merged_id": merged.pk,
            "merge_event": event.pk,
            "choices": choices,
            "moved": {name: len(rows) for name, rows in moved.items()},
        },
    )
    return event


# ----------------------------------------------------------------------------------- undo
def _restore_fields(hco_id: int, fields: dict[str, Any]) -> None:
    values = {
        f.attname: f.to_python(fields[f.attname])
        for f in HCO._meta.concrete_fields
        if f.attname != "id"
    }
    # ``update()``, not ``save()``: ``updated_at`` is restored too instead of being bumped.
    HCO.objects.filter(pk=hco_id).update(**values)


def _restore_rows(moved: dict[str, Any], merged_id: int) -> None:
    departments = moved["departments"]
    existing = set(
        HCODepartment.objects.filter(pk__in=[d["id"] for d in departments]).values_list(
            "pk", flat=True
        )
    )
    HCODepartment.objects.filter(pk__in=existing).update(hco_id=merged_id)
    HCODepartment.objects.bulk_create(
        HCODepartment(**row) for row in departments if row["id"] not in existing
    )
    by_place: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for pk, hco_id, department_id in moved["hcps"]:
        by_place[(hco_id, department_id)].append(pk)
    for (hco_id, department_id), ids in by_place.items():
        HCP.objects.filter(pk__in=ids).update(primary_hco_id=hco_id, department_id=department_id)
    rows = moved["affiliations"]
    present = set(
        Affiliation.objects.filter(pk__in=[r["id"] for r in rows]).values_list("pk", flat=True)
    )
    for row in rows:
        if row["id"] in present:
            values = {k: v for k, v in row.items() if k != "id"}
            Affiliation.objects.filter(pk=row["id"]).update(**values)
    Affiliation.objects.bulk_create(Affiliation(**row) for row in rows if row["id"] not in present)
    HCO.objects.filter(pk__in=moved["campuses"]).update(parent_id=merged_id)
    ExternalIdentity.objects.filter(pk__in=moved["identities"]).update(hco_id=merged_id)
    SourceRecord.objects.filter(pk__in=moved["source_records"]).update(hco_id=merged_id)
    PlatformUser.objects.filter(pk__in=moved["platform_users"]).update(hco_id=merged_id)
    candidates = MatchCandidate.objects.filter(status=MatchCandidate.Status.OPEN)
    candidates.filter(pk__in=moved.get("candidates_left", [])).update(left_hco_id=merged_id)
    candidates.filter(pk__in=moved.get("candidates_right", [])).update(right_hco_id=merged_id)


@transaction.atomic
def hco_unmerge(*, actor: Actor | None, merge_event: MergeEvent) -> MergeEvent:
    """Restore both institutions of a merge, and every row it moved, as they were."""
    event = MergeEvent.objects.select_for_update().get(pk=merge_event.pk)
    if event.undone_at is not None:
        raise ApplicationError(_("This merge has already been undone."), field="merge_event")
    if event.survivor_hco_id is None or event.merged_hco_id is None:
        raise ApplicationError(_("Only merges of HCOs can be undone here."), field="merge_event")
    locked = _lock(*HCO.objects.filter(pk__in=[event.survivor_hco_id, event.merged_hco_id]))
    survivor, merged = locked[event.survivor_hco_id], locked[event.merged_hco_id]
    later = (
        MergeEvent.objects.filter(survivor_hco=survivor, undone_at__isnull=True, id__gt=event.pk)
        .select_related("merged_hco")
        .first()
    )
    if later is not None and later.merged_hco is not None:
        raise ApplicationError(
            _("Undo the later merge of %(code)s into this record first.")
            % {"code": later.merged_hco.code},
            field="merge_event",
        )
    if survivor.merged_into_id is not None:
        raise ApplicationError(
            _("HCO %(code)s has since been merged into another record; undo that merge first.")
            % {"code": survivor.code},
            field="merge_event",
        )
    if merged.merged_into_id != survivor.pk:
        raise ApplicationError(
            _("HCO %(code)s is no longer merged into this record.") % {"code": merged.code},
            field="merge_event",
        )
    before = snapshot(survivor, HCO_FIELDS)
    saved = event.snapshot
    # The survivor first: it lets go of a USCC it took before the merged record gets it back.
    _restore_fields(survivor.pk, saved[SURVIVOR]["fields"])
    _restore_fields(merged.pk, saved[MERGED]["fields"])
    _restore_rows(saved["moved"], merged.pk)
    FieldLineage.objects.filter(merge_event=event).delete()
    event.undone_at = timezone.now()
    event.undone_by = actor_user(actor)
    event.save(update_fields=["undone_at", "undone_by"])
    territory_hcos_repoint(
        actor=actor,
        old_hco_id=survivor.pk,
        new_hco_id=merged.pk,
        period_ids=saved["moved"]["territory_periods"],
    )
    survivor.refresh_from_db()
    audit_append(
        actor=actor,
        action="hco.unmerge",
        object_type="hco",
        object_id=survivor.pk,
        before=before,
        after={
            SURVIVOR: snapshot(survivor, HCO_FIELDS),
            "merged_id": merged.pk,
            "merge_event": event.pk,
        },
    )
    return event
