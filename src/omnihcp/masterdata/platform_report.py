"""Reads of doctor-platform lists: the lists, one list's match-rate report, its review rows.

Platform lists are HQ work (marketing judging a platform, stewards deciding matches), not
territory-scoped. A list's report counts the users whose latest list it is, as they stand now
(a steward's confirmation counts as matched); percentages are computed here, not in templates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.masterdata.models import HCP, HospitalLevel
from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUser, PlatformUserList

NO_HOSPITAL = "none"


@dataclass(frozen=True)
class Counts:
    total: int = 0
    auto: int = 0
    confirmed: int = 0
    review: int = 0
    unmatched: int = 0

    @property
    def matched(self) -> int:
        return self.auto + self.confirmed

    def _pct(self, part: int) -> float:
        return round(100 * part / self.total, 1) if self.total else 0.0

    @property
    def match_rate(self) -> float:
        return self._pct(self.matched)

    @property
    def auto_pct(self) -> float:
        return self._pct(self.auto)

    @property
    def confirmed_pct(self) -> float:
        return self._pct(self.confirmed)

    @property
    def review_pct(self) -> float:
        return self._pct(self.review)

    @property
    def unmatched_pct(self) -> float:
        return self._pct(self.unmatched)


@dataclass(frozen=True)
class Breakdown:
    key: str
    label: str
    counts: Counts


@dataclass(frozen=True)
class ListReport:
    overall: Counts
    by_province: list[Breakdown]
    by_level: list[Breakdown]


def _counts(pairs: Iterable[tuple[str, int]]) -> Counts:
    by_outcome: dict[str, int] = {}
    for outcome, n in pairs:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    return Counts(
        total=sum(by_outcome.values()),
        auto=by_outcome.get(PlatformOutcome.AUTO, 0),
        confirmed=by_outcome.get(PlatformOutcome.CONFIRMED, 0),
        review=by_outcome.get(PlatformOutcome.REVIEW, 0),
        unmatched=by_outcome.get(PlatformOutcome.UNMATCHED, 0),
    )


def platform_list_list() -> QuerySet[PlatformUserList]:
    """Every list, newest first, with the live counts of its users."""
    return (
        PlatformUserList.objects.select_related("created_by")
        .defer("content", "rejected_rows", "columns")
        .annotate(
            n_users=Count("users"),
            n_matched=Count(
                "users",
                filter=Q(users__outcome__in=[PlatformOutcome.AUTO, PlatformOutcome.CONFIRMED]),
            ),
            n_review=Count("users", filter=Q(users__outcome=PlatformOutcome.REVIEW)),
        )
        .order_by("-created_at", "-id")
    )


def platform_codes() -> list[tuple[str, str]]:
    """(code, name) of every platform a list was uploaded for, for the upload form."""
    names = PlatformUserList.objects.order_by("platform", "-created_at").values_list(
        "platform", "platform_name"
    )
    return sorted(dict(reversed(list(names))).items())


def platform_list_get(*, list_id: int) -> PlatformUserList:
    user_list = (
        PlatformUserList.objects.select_related("created_by").defer("content").filter(pk=list_id)
    ).first()
    if user_list is None:
        raise NotFoundError(_("No such platform list."))
    return user_list


def platform_report(*, user_list: PlatformUserList) -> ListReport:
    """Auto / confirmed / review / unmatched overall, by province and by hospital level."""
    rows = list(
        PlatformUser.objects.filter(user_list=user_list)
        .values_list("province", "hospital_level", "hco_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    provinces: dict[str, list[tuple[str, int]]] = {}
    levels: dict[str, list[tuple[str, int]]] = {}
    for province, level, hco_id, outcome, n in rows:
        provinces.setdefault(province, []).append((outcome, n))
        levels.setdefault(level if hco_id else NO_HOSPITAL, []).append((outcome, n))
    by_province = sorted(
        (
            Breakdown(key, key or _("Unknown province"), _counts(pairs))
            for key, pairs in provinces.items()
        ),
        key=lambda b: (-b.counts.total, b.key),
    )
    order = [*HospitalLevel.values, NO_HOSPITAL]
    labels = {**dict(HospitalLevel.choices), NO_HOSPITAL: _("Hospital not found")}
    by_level = [
        Breakdown(key, str(labels[key]), _counts(levels[key])) for key in order if key in levels
    ]
    overall = _counts((outcome, n) for _p, _l, _h, outcome, n in rows)
    return ListReport(overall, by_province, by_level)


def platform_review_users(*, user_list: PlatformUserList) -> QuerySet[PlatformUser]:
    return (
        PlatformUser.objects.filter(user_list=user_list, outcome=PlatformOutcome.REVIEW)
        .select_related("hco")
        .order_by("-best_probability", "row_number", "id")
    )


def platform_unmatched_users(*, user_list: PlatformUserList) -> QuerySet[PlatformUser]:
    return (
        PlatformUser.objects.filter(user_list=user_list, outcome=PlatformOutcome.UNMATCHED)
        .select_related("hco")
        .order_by("row_number", "id")
    )


def platform_candidate_hcps(*, users: Iterable[PlatformUser]) -> dict[int, HCP]:
    """The HCPs offered to a page of review rows, in one query."""
    ids = {int(c["hcp_id"]) for user in users for c in user.candidates}
    return {
        hcp.pk: hcp
        for hcp in HCP.objects.filter(pk__in=ids).select_related("primary_hco", "department")
    }
