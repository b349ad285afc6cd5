"""Reads of master data, every one scoped by the caller's DataScope.

Search finds an HCP by Chinese name prefix, by pinyin ("zhangwei" → 张伟) or pinyin initials
("zw"), and by hospital name. Prefix matches run on indexed columns, so a search touches only
the rows it returns, even with a million HCPs: the search keys are compared byte-wise
(``sort_key``: SQLite's default, PostgreSQL's "C" collation, whose expression indexes, migration
0002, answer both the prefix range and the ORDER BY). List filters on Chinese names use
``prefix`` (``LIKE 'x%'`` with ``varchar_pattern_ops`` indexes on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Collate
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.core.scope import DataScope
from omnihcp.masterdata import textkeys
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    FieldLineage,
    HCODepartment,
    MatchCandidate,
    MergeEvent,
    RecordStatus,
    StandardDepartment,
    Title,
)
from omnihcp.masterdata.selectors_identity import hcp_survivor_ids

_MAX_CODE_POINT = "\U0010ffff"
# The search box looks for doctors in at most this many matching hospitals, taken in pinyin
# order from the first HOSPITALS_SCANNED that match.
HOSPITALS_SEARCHED = 30
HOSPITALS_SCANNED = 2000


def prefix(field: str, value: str) -> Q:
    """``field`` starts with ``value``, in the form each backend can answer from an index."""
    if connection.vendor == "sqlite":
        # SQLite's LIKE folds case and so cannot use a binary index; a range can.
        return Q(**{f"{field}__gte": value, f"{field}__lt": value + _MAX_CODE_POINT})
    return Q(**{f"{field}__startswith": value})


def sort_key(field: str) -> Any:
    """``field`` compared byte-wise, as the pinyin-key indexes store it on each backend."""
    if connection.vendor == "postgresql":
        return Collate(F(field), "C")
    return F(field)


def key_prefix(field: str, value: str) -> Q:
    """The ASCII key ``field`` starts with ``value``: a range on ``sort_key(field)``."""
    key = sort_key(field)
    return Q(GreaterThanOrEqual(key, value), LessThan(key, value + _MAX_CODE_POINT))


@dataclass(frozen=True)
class HCOFilter:
    q: str = ""
    hco_type: str = ""
    level: str = ""
    province: str = ""
    city: str = ""
    status: str = RecordStatus.ACTIVE


@dataclass(frozen=True)
class HCPFilter:
    q: str = ""
    hco_id: int | None = None
    title: str = ""
    city: str = ""
    standard_department: str = ""
    status: str = RecordStatus.ACTIVE


def _hco_name_match(term: str) -> Q:
    key = textkeys.query_key(term)
    if textkeys.CJK.search(term):
        return Q(name__contains=term.strip()) | Q(short_name__contains=term.strip())
    if not key:
        return Q(pk__in=[])
    return key_prefix("name_pinyin", key) | key_prefix("name_initials", key)


def hco_list(*, scope: DataScope, filters: HCOFilter | None = None) -> QuerySet[HCO]:
    filters = filters or HCOFilter()
    qs = scope.filter_hcos(HCO.objects.all())
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        for term in filters.q.split():
            qs = qs.filter(_hco_name_match(term))
    for name in ("hco_type", "level", "province", "city"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    return qs.order_by(sort_key("name_pinyin"), "id")


def hco_get(*, scope: DataScope, hco_id: int) -> HCO:
    hco = scope.filter_hcos(HCO.objects.select_related("parent")).filter(pk=hco_id).first()
    if hco is None:
        raise NotFoundError(_("No such HCO."))
    return hco


def _hcp_base(scope: DataScope) -> QuerySet[HCP]:
    qs = HCP.objects.select_related("primary_hco", "department")
    return scope.filter_hcos(qs, "primary_hco_id")


def _hcp_name_match(term: str) -> Q:
    if textkeys.CJK.search(term):
        return prefix("name", term.strip())
    key = textkeys.query_key(term)
    if not key:
        return Q(pk__in=[])
    return key_prefix("name_pinyin", key) | key_prefix("name_initials", key)


def _hcp_term_match(term: str) -> Q:
    """One search term matches the HCP's name or the name of their primary HCO."""
    hcos = HCO.objects.filter(_hco_name_match(term)).values("id")
    return _hcp_name_match(term) | Q(primary_hco_id__in=hcos)


def hcp_list(*, scope: DataScope, filters: HCPFilter | None = None) -> QuerySet[HCP]:
    filters = filters or HCPFilter()
    qs = _hcp_base(scope)
    if filters.status:
        qs = qs.filter(status=filters.status)
    for term in filters.q.split():
        qs = qs.filter(_hcp_term_match(term))
    if filters.hco_id is not None:
        qs = qs.filter(primary_hco_id=filters.hco_id)
    if filters.title:
        qs = qs.filter(title=filters.title)
    if filters.city:
        qs = qs.filter(primary_hco__city=filters.city)
    if filters.standard_department:
        qs = qs.filter(department__standard__code=filters.standard_department)
    return qs.order_by(sort_key("name_pinyin"), "id")


def _hcp_name_hits(base: QuerySet[HCP], term: str, limit: int) -> list[HCP]:
    """HCPs whose name matches ``term``, in pinyin order; pinyin matches before initials.

    Each query is ordered by the column it filters on, so the database walks one index and
    stops after ``limit`` rows; one OR over both columns would collect and sort every match.
    """
    if textkeys.CJK.search(term):
        by_name = base.filter(key_prefix("name", term.strip()))
        return list(by_name.order_by(sort_key("name"), "id")[:limit])
    key = textkeys.query_key(term)
    if not key:
        return []
    hits = list(
        base.filter(key_prefix("name_pinyin", key)).order_by(sort_key("name_pinyin"), "id")[:limit]
    )
    if len(hits) < limit:
        by_initials = base.filter(key_prefix("name_initials", key)).order_by(
            sort_key("name_initials"), "id"
        )
        seen = {hcp.pk for hcp in hits}
        extra = [hcp for hcp in by_initials[:limit] if hcp.pk not in seen]
        hits += sorted(extra, key=lambda hcp: (hcp.name_pinyin, hcp.pk))[: limit - len(hits)]
    return hits


def _hospitals_named(scope: DataScope, term: str) -> list[int]:
    """Ids of at most ``HOSPITALS_SEARCHED`` HCOs whose name matches ``term``, in pinyin order.

    A name fragment ("人民医院") is matched with ``LIKE '%…%'``, which reads the table whatever
    the order; sorting the first ``HOSPITALS_SCANNED`` matches here stops that read early for
    a common fragment and keeps the database from walking a name index row by row.
    """
    hcos = scope.filter_hcos(HCO.objects.filter(_hco_name_match(term)))
    rows = sorted(hcos.values_list("name_pinyin", "id")[:HOSPITALS_SCANNED])
    return [hco_id for _pinyin, hco_id in rows[:HOSPITALS_SEARCHED]]


def hcp_search(*, scope: DataScope, q: str, limit: int = 20) -> list[HCP]:
    """The search box: name matches first, then doctors of matching hospitals.

    Indexed queries, each limited, beat one OR that the planner may answer with a scan.
    """
    terms = q.split()
    if not terms:
        return []
    base = _hcp_base(scope).filter(status=RecordStatus.ACTIVE)
    narrowed = base
    for term in terms[1:]:
        narrowed = narrowed.filter(_hcp_term_match(term))
    found: dict[int, HCP] = {hcp.pk: hcp for hcp in _hcp_name_hits(narrowed, terms[0], limit)}
    if len(found) < limit:
        # Doctors of matching hospitals, hospital by hospital: each query walks the
        # (primary_hco, name_pinyin) index of one HCO, whatever the size of the table; one
        # ``IN (subquery)`` lets the planner walk the whole name index hoping to meet them.
        for hco_id in _hospitals_named(scope, terms[0]):
            of_hco = narrowed.filter(primary_hco_id=hco_id).order_by("name_pinyin", "id")
            for hcp in of_hco[: limit - len(found)]:
                found.setdefault(hcp.pk, hcp)
            if len(found) >= limit:
                break
    return list(found.values())


def hcp_get(*, scope: DataScope, hcp_id: int) -> HCP:
    """One HCP in scope; a merged-away HCP resolves to the record that survived."""
    hcp = _hcp_base(scope).filter(pk=hcp_id).first()
    hops = 0
    while hcp is not None and hcp.merged_into_id is not None and hops < 10:
        hcp = _hcp_base(scope).filter(pk=hcp.merged_into_id).first()
        hops += 1
    if hcp is None:
        raise NotFoundError(_("No such HCP."))
    return hcp


def hcp_affiliations(*, hcp: HCP) -> QuerySet[Affiliation]:
    return (
        Affiliation.objects.filter(hcp=hcp)
        .select_related("hco", "department")
        .order_by("-is_primary", "hco__name")
    )


def hco_department_list(*, scope: DataScope, hco: HCO) -> QuerySet[HCODepartment]:
    hco_get(scope=scope, hco_id=hco.pk)
    return HCODepartment.objects.filter(hco=hco).select_related("standard").order_by("name")


def hco_department_get(*, scope: DataScope, department_id: int) -> HCODepartment:
    qs = scope.filter_hcos(HCODepartment.objects.select_related("hco", "standard"), "hco_id")
    department = qs.filter(pk=department_id).first()
    if department is None:
        raise NotFoundError(_("No such department."))
    return department


def standard_department_list(*, q: str = "") -> QuerySet[StandardDepartment]:
    qs = StandardDepartment.objects.all()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(name_en__icontains=q) | Q(code__iexact=q))
    return qs.order_by("code")


def hco_hcp_count(*, hco: HCO) -> int:
    return HCP.objects.filter(primary_hco=hco, status=RecordStatus.ACTIVE).count()


def hco_cities(*, scope: DataScope) -> list[Any]:
    qs = scope.filter_hcos(HCO.objects.filter(status=RecordStatus.ACTIVE))
    return list(qs.values_list("province", "city").distinct().order_by("province", "city"))


def standard_department_get(*, code: str) -> StandardDepartment:
    department = StandardDepartment.objects.filter(code=code).first()
    if department is None:
        raise NotFoundError(_("No such standard department."))
    return department


# ------------------------------------------------------------------ the steward's review queue
# Score bands of the queue's filter: (lowest probability, highest); "none": no probability.
SCORE_BANDS: dict[str, tuple[float, float]] = {
    "high": (0.9, 1.01),
    "medium": (0.7, 0.9),
    "low": (0.0, 0.7),
}


@dataclass(frozen=True)
class CandidateFilter:
    source: str = ""
    entity_type: str = ""
    band: str = ""  # a key of SCORE_BANDS, or "none"
    status: str = MatchCandidate.Status.OPEN


def candidate_list(*, filters: CandidateFilter | None = None) -> QuerySet[MatchCandidate]:
    """Undecided candidates for stewards (who see all master data), newest first."""
    filters = filters or CandidateFilter()
    qs = MatchCandidate.objects.select_related(
        "source_record__batch", "left_hcp", "right_hcp", "right_hco", "left_hco"
    )
    qs = qs.filter(status=filters.status or MatchCandidate.Status.OPEN)
    if filters.source:
        qs = qs.filter(source_record__source=filters.source)
    if filters.entity_type:
        qs = qs.filter(entity_type=filters.entity_type)
    if filters.band == "none":
        qs = qs.filter(probability__isnull=True)
    elif filters.band in SCORE_BANDS:
        low, high = SCORE_BANDS[filters.band]
        qs = qs.filter(probability__gte=low, probability__lt=high)
    return qs.order_by("-created_at", "-id")


def candidate_get(*, candidate_id: int) -> MatchCandidate:
    candidate = (
        MatchCandidate.objects.select_related(
            "source_record__batch",
            "left_hcp__primary_hco",
            "left_hcp__department",
            "right_hcp__primary_hco",
            "right_hcp__department",
            "right_hco",
            "left_hco",
            "decided_by",
        )
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise NotFoundError(_("No such match candidate."))
    return candidate


def candidate_others(*, candidate: MatchCandidate) -> QuerySet[MatchCandidate]:
    """The other candidates of the same imported row."""
    if candidate.source_record_id is None:
        return MatchCandidate.objects.none()
    return (
        MatchCandidate.objects.filter(source_record_id=candidate.source_record_id)
        .exclude(pk=candidate.pk)
        .select_related("right_hcp", "right_hco")
        .order_by("id")
    )


def candidate_sources() -> list[str]:
    """Codes of the sources that have rows in the queue, for its filter."""
    qs = MatchCandidate.objects.exclude(source_record=None)
    return sorted(set(qs.values_list("source_record__source", flat=True)))


def hcp_merge_events(*, hcp: HCP) -> QuerySet[MergeEvent]:
    """Merges into ``hcp``, newest first, with who merged and who undid them."""
    return (
        MergeEvent.objects.filter(survivor_hcp=hcp)
        .select_related("merged_hcp", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")
    )


def merge_event_get(*, event_id: int) -> MergeEvent:
    qs = MergeEvent.objects.select_related("survivor_hcp", "merged_hcp")
    event = qs.filter(pk=event_id, survivor_hcp__isnull=False).first()
    if event is None:
        raise NotFoundError(_("No such merge."))
    return event


def hcp_lineage(*, hcp: HCP) -> QuerySet[FieldLineage]:
    return FieldLineage.objects.filter(hcp=hcp).order_by("field", "-chosen_at", "-id")


def hcps_by_code(*, scope: DataScope, codes: list[str]) -> dict[str, HCP]:
    """Code → HCP for the codes the scope may see (a merged doctor's code gives the survivor)."""
    ids: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = _hcp_base(scope).filter(code__in=codes[start : start + 500])
        ids.update(chunk.values_list("code", "pk"))
    survivors = hcp_survivor_ids(list(ids.values()))
    by_id = HCP.objects.select_related("primary_hco").in_bulk(set(survivors.values()))
    return {code: by_id[survivors[pk]] for code, pk in ids.items()}


def hcp_title_choices() -> list[tuple[str, str]]:
    """The professional titles a doctor may hold, as (code, label) in the user's language."""
    return [(code, str(label)) for code, label in Title.choices]
