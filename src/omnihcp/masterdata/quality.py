"""Master-data quality: the figures of the quality page, their daily snapshot and trend.

The figures are computed in the database, one aggregate query per subject (completeness per
entity, open candidates, suspected duplicates, outcomes per source), so that they stay cheap at
a million HCPs; only the rejected rows of recent imports are read in Python, batch by batch.
The page shows the newest ``QualitySnapshot``; ``quality_snapshot_take`` (the daily task, or a
steward's "refresh") computes one. Quality is an HQ view of all master data, not territory-scoped.

Source priorities live here too: they are the steward's lever on which value survives a merge.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.importing import mapping as import_fields
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    ImportBatch,
    ImportSource,
    MatchCandidate,
    QualitySnapshot,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.selectors import SCORE_BANDS

FAILURE_DAYS = 30
TREND_DAYS = 30
TOP_DUPLICATES = 20
TOP_FAILURES = 50
PRIORITY_RANGE = (-1000, 1000)

# (key, label, "the field is filled"); labels are the models' own field names.
HCP_FIELDS: tuple[tuple[str, Promise, Q], ...] = (
    ("name", gettext_lazy("name"), ~Q(name="")),
    ("gender", gettext_lazy("gender"), ~Q(gender__in=["", "U"])),
    ("title", gettext_lazy("title"), ~Q(title="")),
    ("position", gettext_lazy("position"), ~Q(position="")),
    ("department", gettext_lazy("department"), Q(department__isnull=False)),
    ("specialty", gettext_lazy("specialty"), ~Q(specialty="")),
    ("mobile", gettext_lazy("mobile phone"), ~Q(mobile_hash="")),
    ("licence", gettext_lazy("practising licence no."), ~Q(licence_hash="")),
    ("primary_hco", gettext_lazy("primary HCO"), Q(primary_hco__isnull=False)),
)
HCO_FIELDS: tuple[tuple[str, Promise, Q], ...] = (
    ("name", gettext_lazy("name"), ~Q(name="")),
    ("short_name", gettext_lazy("short name"), ~Q(short_name="")),
    ("level", gettext_lazy("hospital level"), ~Q(level="")),
    ("city", gettext_lazy("city"), ~Q(city="")),
    ("district", gettext_lazy("district"), ~Q(district="")),
    ("address", gettext_lazy("address"), ~Q(address="")),
    ("uscc", gettext_lazy("USCC"), Q(uscc__isnull=False) & ~Q(uscc="")),
    ("beds", gettext_lazy("beds"), Q(beds__isnull=False)),
)
BAND_LABELS: dict[str, Promise] = {
    "high": gettext_lazy("High (≥ 0.9)"),
    "medium": gettext_lazy("Medium (0.7–0.9)"),
    "low": gettext_lazy("Low (< 0.7)"),
    "none": gettext_lazy("No score (rule)"),
}
OUTCOMES = ("matched", "new", "review", "rejected", "pending")


# --- computing the figures -------------------------------------------------------------------


def _completeness(qs: QuerySet[Any], specs: tuple[tuple[str, Promise, Q], ...]) -> dict[str, Any]:
    aggregates = {key: Count("pk", filter=filled) for key, _label, filled in specs}
    row = qs.filter(status=RecordStatus.ACTIVE).aggregate(total=Count("pk"), **aggregates)
    return {"total": row.pop("total"), "filled": row}


def _failures(*, since: dt.datetime) -> dict[str, Any]:
    counts: Counter[tuple[str, str, str]] = Counter()
    batches: dict[tuple[str, str, str], list[int]] = {}
    recent = (
        ImportBatch.objects.filter(created_at__gte=since, rejected__gt=0)
        .order_by("-created_at", "-id")
        .values_list("pk", "source__entity_type", "rejected_rows")
    )
    seen = 0
    for batch_id, entity_type, rejected_rows in recent.iterator(chunk_size=20):
        seen += 1
        for entry in rejected_rows or []:
            key = (entity_type, str(entry.get("field", "")), str(entry.get("reason", "")))
            counts[key] += 1
            ids = batches.setdefault(key, [])
            if batch_id not in ids and len(ids) < 5:
                ids.append(batch_id)
    rows = [
        {"entity_type": k[0], "field": k[1], "reason": k[2], "count": n, "batch_ids": batches[k]}
        for k, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES]
    ]
    return {
        "since": timezone.localtime(since).date().isoformat(),
        "batches": seen,
        "total": counts.total(),
        "rows": rows,
    }


def _candidates() -> dict[str, dict[str, int]]:
    bands = {
        band: Count("pk", filter=Q(probability__gte=low, probability__lt=high))
        for band, (low, high) in SCORE_BANDS.items()
    }
    rows = (
        MatchCandidate.objects.filter(status=MatchCandidate.Status.OPEN)
        .values("entity_type")
        .annotate(none=Count("pk", filter=Q(probability__isnull=True)), **bands)
        .order_by("entity_type")
    )
    return {row.pop("entity_type"): {band: row[band] for band in BAND_LABELS} for row in list(rows)}


def _duplicates() -> dict[str, Any]:
    # Same pinyin at the same primary HCO: homophones too (王伟/汪伟), which is the point.
    groups = (
        HCP.objects.filter(status=RecordStatus.ACTIVE)
        .exclude(name_pinyin="")
        .values("name_pinyin", "primary_hco_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by()
    )
    totals = groups.aggregate(groups=Count("name_pinyin"), records=Sum("n"))
    top = list(groups.order_by("-n", "name_pinyin", "primary_hco_id")[:TOP_DUPLICATES])
    members: dict[tuple[str, int], list[dict[str, Any]]] = {}
    hco_names: dict[int, str] = {}
    if top:
        wanted = reduce(
            or_, (Q(name_pinyin=g["name_pinyin"], primary_hco_id=g["primary_hco_id"]) for g in top)
        )
        hcps = (
            HCP.objects.filter(wanted, status=RecordStatus.ACTIVE)
            .values("pk", "code", "name", "name_pinyin", "primary_hco_id", "primary_hco__name")
            .order_by("pk")
        )
        for hcp in hcps:
            key = (hcp["name_pinyin"], hcp["primary_hco_id"])
            members.setdefault(key, []).append(
                {"id": hcp["pk"], "code": hcp["code"], "name": hcp["name"]}
            )
            hco_names[hcp["primary_hco_id"]] = hcp["primary_hco__name"]
    return {
        "groups": totals["groups"] or 0,
        "records": totals["records"] or 0,
        "top": [
            {
                "name_pinyin": g["name_pinyin"],
                "hco_id": g["primary_hco_id"],
                "hco_name": hco_names.get(g["primary_hco_id"], ""),
                "count": g["n"],
                "hcps": members.get((g["name_pinyin"], g["primary_hco_id"]), [])[:10],
            }
            for g in top
        ],
    }


def _sources() -> list[dict[str, Any]]:
    outcomes = {status: Count("pk", filter=Q(status=status)) for status in OUTCOMES}
    rows = (
        SourceRecord.objects.values("source", "entity_type")
        .annotate(total=Count("pk"), **outcomes)
        .order_by("source", "entity_type")
    )
    return list(rows)


def quality_figures_compute(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Every figure of the quality page, as plain JSON-ready values."""
    now = now or timezone.now()
    return {
        "hcp": _completeness(HCP.objects.all(), HCP_FIELDS),
        "hco": _completeness(HCO.objects.all(), HCO_FIELDS),
        "failures": _failures(since=now - dt.timedelta(days=FAILURE_DAYS)),
        "candidates": _candidates(),
        "duplicates": _duplicates(),
        "sources": _sources(),
    }


def quality_snapshot_take(
    *, actor: Actor | None = None, day: dt.date | None = None
) -> QualitySnapshot:
    """Compute today's figures and keep them; a second run the same day replaces the first."""
    # The reads run before the transaction, so the short write below holds no lock meanwhile.
    figures = quality_figures_compute()
    day = day or timezone.localdate()
    with transaction.atomic():
        snapshot = QualitySnapshot.objects.select_for_update().filter(day=day).first()
        before = {"computed_at": snapshot.computed_at.isoformat()} if snapshot else None
        if snapshot is None:
            snapshot = QualitySnapshot(day=day)
        snapshot.figures = figures
        snapshot.computed_at = timezone.now()
        snapshot.save()
        audit_append(
            actor=actor,
            action="quality_snapshot.take",
            object_type="quality_snapshot",
            object_id=day.isoformat(),
            before=before,
            after={"computed_at": snapshot.computed_at.isoformat()},
        )
    return snapshot


# --- reading them for the page ---------------------------------------------------------------


def quality_snapshot_latest() -> QualitySnapshot | None:
    return QualitySnapshot.objects.order_by("-day").first()


def quality_snapshot_trend(*, days: int = TREND_DAYS) -> list[QualitySnapshot]:
    """The snapshots of the last ``days`` days, oldest first."""
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    return list(QualitySnapshot.objects.filter(day__gte=since).order_by("day"))


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class FieldRow:
    key: str
    label: str
    filled: int
    total: int
    pct: float


@dataclass(frozen=True)
class FailureRow:
    entity_type: str
    entity_label: str
    field: str
    label: str
    reason: str
    count: int
    batch_ids: list[int]


@dataclass(frozen=True)
class BandCount:
    band: str
    label: str
    count: int


@dataclass(frozen=True)
class CandidateRow:
    entity_type: str
    label: str
    bands: list[BandCount]
    total: int


@dataclass(frozen=True)
class OutcomeShare:
    outcome: str
    label: str
    count: int
    pct: float


@dataclass(frozen=True)
class SourceRow:
    source: str
    entity_type: str
    total: int
    outcomes: list[OutcomeShare]


@dataclass(frozen=True)
class TrendDay:
    day: dt.date
    hcp_completeness: float
    hco_completeness: float
    open_candidates: int
    duplicate_groups: int
    failures: int


@dataclass(frozen=True)
class Sparkline:
    metric: str
    label: str
    latest: float
    points: str  # an SVG polyline's points in a 120×24 box


@dataclass(frozen=True)
class QualityReport:
    snapshot: QualitySnapshot
    hcp_fields: list[FieldRow]
    hco_fields: list[FieldRow]
    hcp_total: int
    hco_total: int
    failures: list[FailureRow]
    failures_total: int
    failure_batches: int
    failures_since: str
    candidates: list[CandidateRow]
    duplicate_groups: int
    duplicate_records: int
    duplicates: list[dict[str, Any]]
    sources: list[SourceRow]
    trend: list[TrendDay] = field(default_factory=list)
    sparklines: list[Sparkline] = field(default_factory=list)


def _field_rows(
    figures: dict[str, Any], specs: tuple[tuple[str, Promise, Q], ...]
) -> list[FieldRow]:
    total = int(figures.get("total", 0))
    filled = figures.get("filled", {})
    return [
        FieldRow(key, str(label), int(filled.get(key, 0)), total, _pct(filled.get(key, 0), total))
        for key, label, _q in specs
        if key in filled
    ]


def _mean_pct(figures: dict[str, Any]) -> float:
    total = int(figures.get("total", 0))
    filled = list(figures.get("filled", {}).values())
    return round(sum(_pct(n, total) for n in filled) / len(filled), 1) if filled else 0.0


def _trend_day(snapshot: QualitySnapshot) -> TrendDay:
    figures = snapshot.figures
    candidates = figures.get("candidates", {})
    return TrendDay(
        day=snapshot.day,
        hcp_completeness=_mean_pct(figures.get("hcp", {})),
        hco_completeness=_mean_pct(figures.get("hco", {})),
        open_candidates=sum(sum(bands.values()) for bands in candidates.values()),
        duplicate_groups=int(figures.get("duplicates", {}).get("groups", 0)),
        failures=int(figures.get("failures", {}).get("total", 0)),
    )


def _points(values: list[float], width: int = 120, height: int = 24) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1) if len(values) > 1 else 0.0
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )


def _sparklines(trend: list[TrendDay]) -> list[Sparkline]:
    metrics: list[tuple[str, Promise]] = [
        ("hcp_completeness", gettext_lazy("HCP completeness (%)")),
        ("hco_completeness", gettext_lazy("HCO completeness (%)")),
        ("open_candidates", gettext_lazy("Open match candidates")),
        ("duplicate_groups", gettext_lazy("Suspected duplicate groups")),
        ("failures", gettext_lazy("Rejected values (30 days)")),
    ]
    lines = []
    for metric, label in metrics:
        values = [float(getattr(day, metric)) for day in trend]
        latest = values[-1] if values else 0.0
        lines.append(Sparkline(metric, str(label), latest, _points(values)))
    return lines


def quality_report(
    *, snapshot: QualitySnapshot, trend: list[QualitySnapshot] | None = None
) -> QualityReport:
    """The snapshot's figures with labels in the reader's language and percentages."""
    figures = snapshot.figures
    entity_labels = dict(SourceRecord.EntityType.choices)
    field_labels = {
        entity_type: {spec.name: str(spec.label) for spec in specs}
        for entity_type, specs in import_fields.FIELDS.items()
    }
    failures = figures.get("failures", {})
    failure_rows = [
        FailureRow(
            entity_type=row["entity_type"],
            entity_label=str(entity_labels.get(row["entity_type"], row["entity_type"])),
            field=row["field"],
            label=field_labels.get(row["entity_type"], {}).get(row["field"], row["field"]),
            reason=row["reason"],
            count=row["count"],
            batch_ids=row["batch_ids"],
        )
        for row in failures.get("rows", [])
    ]
    candidates = [
        CandidateRow(
            entity_type=entity_type,
            label=str(entity_labels.get(entity_type, entity_type)),
            bands=[BandCount(b, str(BAND_LABELS[b]), bands.get(b, 0)) for b in BAND_LABELS],
            total=sum(bands.values()),
        )
        for entity_type, bands in sorted(figures.get("candidates", {}).items())
    ]
    outcome_labels = dict(SourceRecord.Status.choices)
    sources = [
        SourceRow(
            source=row["source"],
            entity_type=str(entity_labels.get(row["entity_type"], row["entity_type"])),
            total=row["total"],
            outcomes=[
                OutcomeShare(o, str(outcome_labels[o]), row[o], _pct(row[o], row["total"]))
                for o in OUTCOMES
            ],
        )
        for row in figures.get("sources", [])
    ]
    duplicates = figures.get("duplicates", {})
    trend_days = [_trend_day(s) for s in (trend or [snapshot])]
    return QualityReport(
        snapshot=snapshot,
        hcp_fields=_field_rows(figures.get("hcp", {}), HCP_FIELDS),
        hco_fields=_field_rows(figures.get("hco", {}), HCO_FIELDS),
        hcp_total=int(figures.get("hcp", {}).get("total", 0)),
        hco_total=int(figures.get("hco", {}).get("total", 0)),
        failures=failure_rows,
        failures_total=int(failures.get("total", 0)),
        failure_batches=int(failures.get("batches", 0)),
        failures_since=str(failures.get("since", "")),
        candidates=candidates,
        duplicate_groups=int(duplicates.get("groups", 0)),
        duplicate_records=int(duplicates.get("records", 0)),
        duplicates=list(duplicates.get("top", [])),
        sources=sources,
        trend=list(reversed(trend_days)),
        sparklines=_sparklines(trend_days),
    )


# --- source priorities -----------------------------------------------------------------------


def import_source_overview() -> QuerySet[ImportSource]:
    """Import sources with how many files each delivered and when the last one came."""
    return ImportSource.objects.annotate(
        batches_count=Count("batches"), last_import=Max("batches__created_at")
    ).order_by("code")


def _parse_priority(value: Any) -> int:
    low, high = PRIORITY_RANGE
    message = _("Priority must be a whole number from %(low)s to %(high)s.") % {
        "low": low,
        "high": high,
    }
    try:
        priority = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(message, field="priority") from None
    if not low <= priority <= high:
        raise ApplicationError(message, field="priority")
    return priority


@transaction.atomic
def import_source_priority_set(
    *, actor: Actor | None, source_id: int, priority: Any
) -> ImportSource:
    """Set the survivorship priority of a source; the same value again writes nothing."""
    value = _parse_priority(priority)
    source = ImportSource.objects.select_for_update().filter(pk=source_id).first()
    if source is None:
        raise NotFoundError(_("No such import source."))
    if source.priority == value:
        return source
    before = {"priority": source.priority}
    source.priority = value
    source.save(update_fields=["priority", "updated_at"])
    audit_append(
        actor=actor,
        action="import_source.update",
        object_type="import_source",
        object_id=source.pk,
        before=before,
        after={"priority": value},
    )
    return source
