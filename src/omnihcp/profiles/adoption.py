"""Adoption stages per doctor × product (unaware → aware → interested → trial → regular use →
advocate): set by reps, proposed by the platform from engagement, with history and a funnel.

A rep sets a stage (in a visit, or on the doctor's profile); every change is an
``AdoptionEvent`` with the stage before and after. ``adoption_propose`` looks at what doctors
did with a product's content — opened it (→ aware), scored ≥ 80 in its quiz (→ interested) —
and proposes a move up the ladder, never down, once per stage; the rep accepts or dismisses it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.selectors import hcp_product_engagement
from omnihcp.governance.services import Actor
from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Product
from omnihcp.profiles.models import STAGE_ORDER, Adoption, AdoptionEvent, AdoptionStage

QUIZ_INTERESTED = 80.0


def adoption_set(
    *, actor: Actor | None, hcp: HCP, product: Product, stage: str, reason: str = ""
) -> Adoption:
    """Put the doctor at ``stage`` for ``product``; a repeat of the current stage changes
    nothing. Open proposals for the product are closed."""
    if stage not in AdoptionStage.values:
        raise ApplicationError(_("Choose a stage."), field="stage")
    with transaction.atomic():
        current = Adoption.objects.select_for_update().filter(hcp=hcp, product=product).first()
        if current is not None and current.stage == stage:
            return current
        before = current.stage if current else ""
        current = current or Adoption(hcp=hcp, product=product)
        current.stage, current.set_by_id, current.set_at = (
            stage,
            getattr(actor, "pk", None),
            timezone.now(),
        )
        current.save()
        AdoptionEvent.objects.filter(hcp=hcp, product=product, open=True).update(open=False)
        AdoptionEvent.objects.create(
            hcp=hcp,
            product=product,
            kind=AdoptionEvent.Kind.CHANGE,
            from_stage=before,
            to_stage=stage,
            reason=reason.strip()[:300],
            actor_id=getattr(actor, "pk", None),
        )
    return current


def proposal_get(*, hcp: HCP, proposal_id: int) -> AdoptionEvent:
    proposal = AdoptionEvent.objects.filter(
        pk=proposal_id, hcp=hcp, kind=AdoptionEvent.Kind.PROPOSAL, open=True
    ).first()
    if proposal is None:
        raise NotFoundError(_("This proposal has already been decided."))
    return proposal


def proposal_accept(*, actor: Actor, proposal: AdoptionEvent) -> Adoption:
    return adoption_set(
        actor=actor,
        hcp=proposal.hcp,
        product=proposal.product,
        stage=proposal.to_stage,
        reason=proposal.why(),
    )


def proposal_dismiss(*, actor: Actor, proposal: AdoptionEvent, reason: str = "") -> None:
    with transaction.atomic():
        AdoptionEvent.objects.filter(pk=proposal.pk).update(open=False)
        AdoptionEvent.objects.create(
            hcp_id=proposal.hcp_id,
            product_id=proposal.product_id,
            kind=AdoptionEvent.Kind.DISMISSED,
            from_stage=proposal.from_stage,
            to_stage=proposal.to_stage,
            reason=reason.strip()[:300] or proposal.why(),
            actor_id=actor.pk,
        )


def adoption_propose(*, hcp_ids: Collection[int]) -> int:
    """Propose stage moves from the doctors' engagement; proposals made."""
    ids = sorted(hcp_ids)
    engagement = hcp_product_engagement(hcp_ids=ids)
    if not engagement:
        return 0
    current = {(a.hcp_id, a.product_id): a.stage for a in Adoption.objects.filter(hcp_id__in=ids)}
    asked = set(
        AdoptionEvent.objects.filter(
            hcp_id__in=ids, kind__in=[AdoptionEvent.Kind.PROPOSAL, AdoptionEvent.Kind.DISMISSED]
        ).values_list("hcp_id", "product_id", "to_stage")
    )
    names = dict(Product.objects.values_list("pk", "brand_name"))
    made = []
    for (hcp_id, product_id), (opened, best) in sorted(engagement.items()):
        product = names.get(product_id, "")
        if best is not None and best >= QUIZ_INTERESTED:
            stage, evidence = AdoptionStage.INTERESTED, {"quiz": round(best), "product": product}
        elif opened:
            stage, evidence = AdoptionStage.AWARE, {"opened": opened, "product": product}
        else:
            continue
        now = current.get((hcp_id, product_id), AdoptionStage.UNAWARE)
        if STAGE_ORDER[stage] <= STAGE_ORDER[now] or (hcp_id, product_id, stage) in asked:
            continue
        made.append(
            AdoptionEvent(
                hcp_id=hcp_id,
                product_id=product_id,
                kind=AdoptionEvent.Kind.PROPOSAL,
                from_stage=now,
                to_stage=stage,
                evidence=evidence,
                open=True,
            )
        )
    AdoptionEvent.objects.bulk_create(made)
    return len(made)


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    label: str
    count: int  # doctors at this stage or beyond
    share: float  # of the first step


def adoption_funnel(*, product: Product, hcps: QuerySet[HCP]) -> list[FunnelStep]:
    """Doctors of ``hcps`` at each stage or beyond for one product (the first step is all of
    them: a doctor without a stage is unaware)."""
    counts = dict(
        Adoption.objects.filter(product=product, hcp__in=hcps.values("pk"))
        .values("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    total = hcps.count()
    labels = dict(AdoptionStage.choices)
    steps, running = [], 0
    for stage in reversed(AdoptionStage.values[1:]):
        running += counts.get(stage, 0)
        steps.append(FunnelStep(stage, str(labels[stage]), running, running / (total or 1)))
    steps.append(FunnelStep(AdoptionStage.UNAWARE, str(labels["unaware"]), total, 1.0))
    return list(reversed(steps))
