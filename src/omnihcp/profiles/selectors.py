"""Reads of doctors' tags: the definitions with how many doctors hold each, a doctor's tags by
category with their history, and the live count of doctors a rule would match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.core.scope import DataScope
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.org.models import Employee
from omnihcp.profiles.adoption import FunnelStep, adoption_funnel
from omnihcp.profiles.models import (
    Adoption,
    AdoptionEvent,
    Feedback,
    HCPTag,
    HCPTagEvent,
    HCPTier,
    Suggestion,
    SuggestionKind,
    TagDefinition,
    TierMatrix,
)
from omnihcp.profiles.rules import rule_compile

SAMPLE = 20


def tag_definitions(*, category: str = "", kind: str = "") -> QuerySet[TagDefinition]:
    rows = TagDefinition.objects.annotate(holders=Count("values"))
    if category:
        rows = rows.filter(category=category)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("category", "name")


def tag_definition_get(*, tag_id: int) -> TagDefinition:
    definition = TagDefinition.objects.filter(pk=tag_id).first()
    if definition is None:
        raise NotFoundError(_("No such tag."))
    return definition


def hcp_tags(*, hcp: HCP) -> QuerySet[HCPTag]:
    return HCPTag.objects.filter(hcp=hcp).select_related("definition", "set_by")


def hcp_tag_history(*, hcp: HCP, limit: int = 50) -> QuerySet[HCPTagEvent]:
    return HCPTagEvent.objects.filter(hcp=hcp).select_related("definition", "actor")[:limit]


@dataclass(frozen=True)
class RulePreview:
    count: int
    sample: list[HCP]


def rule_preview(*, rule: str, scope: DataScope) -> RulePreview:
    """How many active doctors in the scope a rule matches, and a few of them (RuleError if the
    rule is refused)."""
    compiled = rule_compile(rule)
    doctors = scope.filter_hcos(HCP.objects.filter(status=RecordStatus.ACTIVE), "primary_hco_id")
    matched = compiled.apply(doctors)
    sample = list(matched.select_related("primary_hco").order_by("name_pinyin", "id")[:SAMPLE])
    return RulePreview(count=matched.count(), sample=sample)


def hcp_adoptions(*, hcp: HCP) -> QuerySet[Adoption]:
    return (
        Adoption.objects.filter(hcp=hcp)
        .select_related("product", "set_by")
        .order_by("product__code")
    )


def hcp_proposals(*, hcp: HCP) -> QuerySet[AdoptionEvent]:
    return AdoptionEvent.objects.filter(
        hcp=hcp, kind=AdoptionEvent.Kind.PROPOSAL, open=True
    ).select_related("product")


def hcp_adoption_history(*, hcp: HCP, limit: int = 30) -> QuerySet[AdoptionEvent]:
    return (
        AdoptionEvent.objects.filter(hcp=hcp)
        .exclude(kind=AdoptionEvent.Kind.PROPOSAL, open=True)
        .select_related("product", "actor")[:limit]
    )


def funnel(*, product: Any, scope: DataScope, province: str = "") -> list[FunnelStep]:
    """The adoption funnel of a product over the scope's active doctors (of a province)."""
    doctors = scope.filter_hcos(HCP.objects.filter(status=RecordStatus.ACTIVE), "primary_hco_id")
    if province:
        doctors = doctors.filter(primary_hco__province=province)
    return adoption_funnel(product=product, hcps=doctors)


def hcp_tiers(*, hcp: HCP) -> QuerySet[HCPTier]:
    return HCPTier.objects.filter(hcp=hcp).select_related("product").order_by("product__code")


def hcp_open_actions(*, hcp: HCP, employee: Employee | None) -> list[Suggestion]:
    """The rep's next best actions of today for this doctor that wait for an answer."""
    if employee is None:
        return []
    rows = Suggestion.objects.filter(
        hcp=hcp,
        rep=employee,
        kind=SuggestionKind.ACTION,
        day=timezone.localdate(),
        status=Feedback.OPEN,
    )
    return list(rows.select_related("hcp", "hcp__primary_hco", "item"))


def planned_calls(
    *, doctors: QuerySet[HCP], business_unit_ids: list[int]
) -> dict[int, tuple[str, int]]:
    """For each doctor with a tier in a product of these business units: the best tier and
    the calls a month the tier matrix gives it (the most any of the doctor's products asks)."""
    frequencies = {
        m.product_id: m.frequencies
        for m in TierMatrix.objects.filter(product__business_unit_id__in=business_unit_ids)
    }
    found: dict[int, tuple[str, int]] = {}
    rows = HCPTier.objects.filter(
        hcp_id__in=doctors.values("id"), product_id__in=list(frequencies)
    ).values_list("hcp_id", "product_id", "tier")
    for hcp_id, product_id, tier in rows.iterator(chunk_size=5000):
        planned = int(frequencies[product_id].get(tier, 0) or 0)
        best = found.get(hcp_id)
        if planned and (
            best is None or planned > best[1] or (planned == best[1] and tier < best[0])
        ):
            found[hcp_id] = (tier, planned)
    return found


def adoption_moves(*, hcp_ids: list[int], since: Any) -> list[tuple[int, Any]]:
    """(doctor, when) of every adoption-stage change of these doctors since a moment."""
    return list(
        AdoptionEvent.objects.filter(
            hcp_id__in=hcp_ids, kind=AdoptionEvent.Kind.CHANGE, created_at__gte=since
        ).values_list("hcp_id", "created_at")
    )
