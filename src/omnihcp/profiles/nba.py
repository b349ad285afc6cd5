"""Next best action: for a rep, a ranked list of whom to contact, how, with what, and why.

Each doctor of the rep's territories today can earn a row from the strongest of these signals:

* a hot signal — read a content item to the end in the last 7 days, or answered a quiz or a
  survey (only for doctors who consented to profiling; the others are not watched);
* an adoption opportunity — an open proposal to move the doctor's stage for a product;
* a call-plan gap — the tier's calls a month against this month's contacts by the rep;
* no contact for long — tier A or B with no contact by the rep for 30 days or more.

A row carries its context: the reason (the others that also hold follow it), how to reach the
doctor (a visit, or a message on a channel they consented to), and what to bring — the doctor's
next best content (``profiles.recommend``), so the row is compliant by construction: only
sendable content, consent and caps are checked before it is offered.

The rep's feedback changes what comes next. *Done* retires the row's type for the doctor for a
week (a newer hot signal brings it back); *not now* for a week; *not relevant* for 90 days — and
for every type when the reason is that the doctor left, and the content is not suggested to
the doctor again when the reason is that it did not fit. Each type's weight for the rep falls
with the share of that type the rep dismissed in the last 90 days. ``action_rates`` reports
acceptance and dismissal per rep and per type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.models_consent import Consent, ConsentPurpose
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.models_questionnaire import Response
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.org.models import Employee, Role
from omnihcp.org.selectors import rep_hco_ids
from omnihcp.profiles.models import (
    ActionType,
    AdoptionEvent,
    Feedback,
    HCPTier,
    RepActionList,
    Suggestion,
    SuggestionKind,
    TierMatrix,
)
from omnihcp.profiles.recommend import next_best_content

HOT_DAYS = 7
DORMANT_DAYS = 30
SNOOZE_DAYS = 7
NOT_RELEVANT_DAYS = 90
LIST_SIZE = 10  # a rep's stored list of the day
LIST_MAX_AGE = dt.timedelta(minutes=20)  # older than the refresh job's interval: recompute
MAX_DOCTORS = 20_000
BASE = {
    ActionType.HOT_READ: 100.0,
    ActionType.QUIZ: 90.0,
    ActionType.ADOPTION: 70.0,
    ActionType.CALL_GAP: 40.0,
    ActionType.DORMANT: 30.0,
}
TIER_BONUS = {"A": 30.0, "B": 15.0, "C": 0.0}
NOT_RELEVANT_REASONS = {
    "left": gettext_lazy("The doctor left or changed role"),
    "content": gettext_lazy("The content does not fit this doctor"),
    "handled": gettext_lazy("Already handled another way"),
    "timing": gettext_lazy("Wrong moment in the doctor's treatment decisions"),
    "other": gettext_lazy("Other"),
}


@dataclass
class Candidate:
    hcp_id: int
    type: str
    score: float
    evidence: dict[str, Any]
    also: list[dict[str, Any]]


def rep_doctors(*, employee: Employee, on: dt.date | None = None) -> QuerySet[HCP]:
    """The active doctors whose primary HCO is in the rep's territories today."""
    return HCP.objects.filter(
        status=RecordStatus.ACTIVE, primary_hco_id__in=rep_hco_ids(employee=employee, on=on)
    )


def _profiled(doctors: QuerySet[HCP]) -> set[int]:
    return set(
        Consent.objects.filter(
            hcp_id__in=doctors.values("id"), purpose=ConsentPurpose.PROFILING, granted=True
        ).values_list("hcp_id", flat=True)
    )


def _reachable(doctors: QuerySet[HCP]) -> dict[int, str]:
    """A channel each doctor consented to marketing on (WeCom first)."""
    order = {"wecom": 0, "sms": 1, "email": 2}
    best: dict[int, str] = {}
    rows = Consent.objects.filter(
        hcp_id__in=doctors.values("id"), purpose=ConsentPurpose.MARKETING, granted=True
    ).values_list("hcp_id", "channel")
    for hcp_id, channel in rows:
        if channel in order and order[channel] < order.get(best.get(hcp_id, ""), 9):
            best[hcp_id] = channel
    return best


def _dismissal_rates(employee: Employee, today: dt.date) -> dict[str, float]:
    rows = (
        Suggestion.objects.filter(
            rep=employee, kind=SuggestionKind.ACTION, day__gte=today - dt.timedelta(days=90)
        )
        .exclude(status=Feedback.OPEN)
        .values("action_type")
        .annotate(
            answered=Count("id"),
            dismissed=Count("id", filter=Q(status=Feedback.NOT_RELEVANT)),
        )
    )
    return {r["action_type"]: r["dismissed"] / r["answered"] for r in rows if r["answered"]}


def _suppressed(employee: Employee, doctors: QuerySet[HCP], today: dt.date) -> dict[int, Any]:
    """Per doctor: the types the rep's feedback retired, and when ("*" for every type)."""
    rows = Suggestion.objects.filter(
        Q(status=Feedback.NOT_NOW, snoozed_until__gt=today)
        | Q(status=Feedback.DONE, feedback_at__gte=timezone.now() - dt.timedelta(days=SNOOZE_DAYS))
        | Q(
            status=Feedback.NOT_RELEVANT,
            feedback_at__gte=timezone.now() - dt.timedelta(days=NOT_RELEVANT_DAYS),
        ),
        rep=employee,
        kind=SuggestionKind.ACTION,
        hcp_id__in=doctors.values("id"),
    ).values_list("hcp_id", "action_type", "status", "feedback_reason", "feedback_at")
    retired: dict[int, dict[str, dt.datetime]] = {}
    for hcp_id, action_type, status, reason, at in rows:
        key = "*" if status == Feedback.NOT_RELEVANT and reason == "left" else action_type
        retired.setdefault(hcp_id, {})[key] = at or timezone.now()
    return retired


def _signals(
    employee: Employee, doctors: QuerySet[HCP], now: dt.datetime
) -> dict[int, list[Candidate]]:
    ids = doctors.values("id")
    profiled = _profiled(doctors)
    found: dict[int, list[Candidate]] = {}

    def add(hcp_id: int, kind: str, score: float, evidence: dict[str, Any]) -> None:
        found.setdefault(hcp_id, []).append(Candidate(hcp_id, kind, score, evidence, []))

    hot = (
        Delivery.objects.filter(
            hcp_id__in=ids, read_through=True, opened_at__gte=now - dt.timedelta(days=HOT_DAYS)
        )
        .select_related("item")
        .order_by("hcp_id", "-opened_at")
    )
    seen: set[int] = set()
    for delivery in hot:
        if delivery.hcp_id in profiled and delivery.hcp_id not in seen and delivery.opened_at:
            seen.add(delivery.hcp_id)
            days = (now - delivery.opened_at).days
            add(
                delivery.hcp_id,
                ActionType.HOT_READ,
                BASE[ActionType.HOT_READ] - days,
                {
                    "why": "hot_read",
                    "title": delivery.item.title,
                    "days": days,
                    "at": str(delivery.opened_at),
                },
            )
    answers = (
        Response.objects.filter(hcp_id__in=ids, submitted_at__gte=now - dt.timedelta(days=HOT_DAYS))
        .select_related("item")
        .order_by("hcp_id", "-submitted_at")
    )
    seen = set()
    for response in answers:
        if response.hcp_id in profiled and response.hcp_id not in seen:
            seen.add(response.hcp_id)
            score = None if response.score is None else round(response.score)
            add(
                response.hcp_id,
                ActionType.QUIZ,
                BASE[ActionType.QUIZ] + (score or 0) / 10,
                {
                    "why": "quiz",
                    "title": response.item.title,
                    "score": score,
                    "at": str(response.submitted_at),
                },
            )
    proposals = AdoptionEvent.objects.filter(
        hcp_id__in=ids, kind=AdoptionEvent.Kind.PROPOSAL, open=True
    ).select_related("product")
    for proposal in proposals:
        if proposal.hcp_id in profiled:
            add(
                proposal.hcp_id,
                ActionType.ADOPTION,
                BASE[ActionType.ADOPTION],
                {
                    "why": "adoption",
                    "product": proposal.product.brand_name,
                    "stage": proposal.to_stage,
                },
            )
    frequencies = {m.product_id: m.frequencies for m in TierMatrix.objects.all()}
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    contacts = Delivery.objects.filter(hcp_id__in=ids, sender_id=employee.user_id, sent_ok=True)
    this_month = dict(
        contacts.filter(created_at__gte=month_start)
        .values("hcp_id")
        .annotate(n=Count("id"))
        .values_list("hcp_id", "n")
    )
    last = dict(
        contacts.values("hcp_id").annotate(at=Max("created_at")).values_list("hcp_id", "at")
    )
    # A and B doctors may be dormant; any tier may have a call gap where its matrix plans
    # calls. Read as tuples: a rep may have thousands of tiered doctors.
    planned_tiers = Q(tier__in=("A", "B"))
    for product_id, by_tier in frequencies.items():
        wanted = [t for t, n in (by_tier or {}).items() if int(n or 0) > 0]
        planned_tiers |= Q(product_id=product_id, tier__in=wanted)
    tiers = HCPTier.objects.filter(planned_tiers, hcp_id__in=ids).values_list(
        "hcp_id", "product_id", "tier", "product__brand_name"
    )
    for hcp_id, product_id, tier, brand in tiers:
        planned = int(frequencies.get(product_id, {}).get(tier, 0) or 0)
        done = this_month.get(hcp_id, 0)
        if planned > done:
            add(
                hcp_id,
                ActionType.CALL_GAP,
                BASE[ActionType.CALL_GAP] + 5 * (planned - done) + TIER_BONUS.get(tier, 0),
                {
                    "why": "call_gap",
                    "tier": tier,
                    "product": brand,
                    "planned": planned,
                    "done": done,
                },
            )
        if tier in ("A", "B"):
            at = last.get(hcp_id)
            idle = (now - at).days if at else None
            if idle is None or idle >= DORMANT_DAYS:
                add(
                    hcp_id,
                    ActionType.DORMANT,
                    BASE[ActionType.DORMANT] + min(idle or 90, 90) / 3 + TIER_BONUS[tier],
                    {"why": "dormant", "tier": tier, "days": idle},
                )
    return found


def _choose(
    found: dict[int, list[Candidate]],
    retired: dict[int, Any],
    rates: dict[str, float],
) -> list[Candidate]:
    rows = []
    for hcp_id, candidates in found.items():
        gone = retired.get(hcp_id, {})
        if "*" in gone:
            continue
        alive = []
        for c in candidates:
            at = gone.get(c.type)
            signal_at = c.evidence.get("at")
            if at is None or (signal_at and signal_at > str(at)):
                alive.append(c)
        if not alive:
            continue
        for c in alive:
            c.score *= 1 - 0.6 * rates.get(c.type, 0.0)
        alive.sort(key=lambda c: -c.score)
        best = alive[0]
        best.also = [c.evidence for c in alive[1:3] if c.type != best.type]
        rows.append(best)
    rows.sort(key=lambda c: (-c.score, c.hcp_id))
    return rows


def _how(candidate: Candidate, channel: str) -> str:
    if candidate.type in (ActionType.ADOPTION, ActionType.CALL_GAP) or not channel:
        return "visit"
    return channel


def rep_actions(
    *, employee: Employee, limit: int = 20, now: dt.datetime | None = None
) -> list[Suggestion]:
    """The rep's next best actions of today, best first, recorded with their reasons; the ones
    the rep already answered today are left out."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    doctors = rep_doctors(employee=employee, on=today)
    found = _signals(employee, doctors, now)
    chosen = _choose(
        found, _suppressed(employee, doctors, today), _dismissal_rates(employee, today)
    )
    answered = set(
        Suggestion.objects.filter(rep=employee, kind=SuggestionKind.ACTION, day=today)
        .exclude(status=Feedback.OPEN)
        .values_list("hcp_id", flat=True)
    )
    chosen = [c for c in chosen if c.hcp_id not in answered][:limit]
    hcps = HCP.objects.in_bulk([c.hcp_id for c in chosen])
    reach = _reachable(doctors.filter(id__in=list(hcps)))
    profiled = _profiled(doctors.filter(id__in=list(hcps)))
    rows = []
    for rank, candidate in enumerate(chosen, start=1):
        advice = next_best_content(hcp=hcps[candidate.hcp_id], limit=1, record=False, now=now)
        item = advice.suggestions[0].item if advice.suggestions else None
        evidence = {**candidate.evidence, "also": candidate.also}
        if item is not None:
            evidence["content"] = advice.suggestions[0].evidence
        rows.append(
            Suggestion(
                hcp_id=candidate.hcp_id,
                kind=SuggestionKind.ACTION,
                action_type=candidate.type,
                key=f"{candidate.type}:rep{employee.pk}",
                day=today,
                item=item,
                rep=employee,
                channel=_how(candidate, reach.get(candidate.hcp_id, "")),
                rank=rank,
                score=round(candidate.score, 2),
                personalised=candidate.hcp_id in profiled,
                method="rules",
                evidence=evidence,
                created_at=now,
            )
        )
    Suggestion.objects.bulk_create(rows, ignore_conflicts=True)
    listed = list(
        Suggestion.objects.filter(
            rep=employee,
            kind=SuggestionKind.ACTION,
            day=today,
            status=Feedback.OPEN,
            hcp_id__in=[r.hcp_id for r in rows],
        )
        .select_related("hcp", "hcp__primary_hco", "item")
        .order_by("rank", "id")
    )
    RepActionList.objects.update_or_create(
        rep=employee,
        defaults={"day": today, "computed_at": now, "suggestion_ids": [s.pk for s in listed]},
    )
    return listed


def rep_actions_today(
    *, employee: Employee, limit: int, max_age: dt.timedelta = LIST_MAX_AGE
) -> list[Suggestion]:
    """The rep's list as last computed today when it is fresh (the refresh job keeps it so),
    else computed now; answered suggestions drop out either way."""
    now = timezone.now()
    stored = RepActionList.objects.filter(
        rep=employee, day=timezone.localdate(now), computed_at__gte=now - max_age
    ).first()
    if stored is None or limit > LIST_SIZE:  # a shorter list means no more candidates
        return rep_actions(employee=employee, limit=max(limit, LIST_SIZE), now=now)[:limit]
    order = {pk: n for n, pk in enumerate(stored.suggestion_ids)}
    rows = Suggestion.objects.filter(pk__in=stored.suggestion_ids, status=Feedback.OPEN)
    found = sorted(
        rows.select_related("hcp", "hcp__primary_hco", "item"), key=lambda s: order[s.pk]
    )
    return found[:limit]


def nba_lists_refresh() -> int:
    """Every active rep's list of today, computed again: reps refreshed."""
    reps = Employee.objects.filter(position=Role.REP, is_active=True).order_by("pk")
    count = 0
    for employee in reps.iterator(chunk_size=100):
        rep_actions(employee=employee, limit=LIST_SIZE)
        count += 1
    return count


def action_feedback(
    *, employee: Employee, suggestion_id: int, outcome: str, reason: str = ""
) -> Suggestion:
    """The rep's answer to one of their suggestions: done, not now, or not relevant (with a
    reason from ``NOT_RELEVANT_REASONS``). Answering twice keeps the first answer."""
    if outcome not in (Feedback.DONE, Feedback.NOT_NOW, Feedback.NOT_RELEVANT):
        raise ApplicationError(_("Choose done, not now or not relevant."), field="outcome")
    if outcome == Feedback.NOT_RELEVANT and reason not in NOT_RELEVANT_REASONS:
        raise ApplicationError(_("Say why it is not relevant."), field="reason")
    with transaction.atomic():
        suggestion = (
            Suggestion.objects.select_for_update()
            .filter(pk=suggestion_id, rep=employee, kind=SuggestionKind.ACTION)
            .first()
        )
        if suggestion is None:
            raise NotFoundError(_("No such suggestion."))
        if suggestion.status != Feedback.OPEN:
            return action_get(employee=employee, suggestion_id=suggestion.pk)
        now = timezone.now()
        suggestion.status = outcome
        suggestion.feedback_reason = reason if outcome == Feedback.NOT_RELEVANT else ""
        suggestion.feedback_at = now
        if outcome == Feedback.NOT_NOW:
            suggestion.snoozed_until = timezone.localdate(now) + dt.timedelta(days=SNOOZE_DAYS)
        suggestion.save(update_fields=["status", "feedback_reason", "feedback_at", "snoozed_until"])
        if outcome == Feedback.NOT_RELEVANT and reason == "content" and suggestion.item_id:
            Suggestion.objects.get_or_create(
                hcp_id=suggestion.hcp_id,
                kind=SuggestionKind.CONTENT,
                key=f"item:{suggestion.item_id}",
                day=suggestion.day,
                defaults={
                    "action_type": ActionType.CONTENT,
                    "item_id": suggestion.item_id,
                    "method": "rules",
                    "evidence": suggestion.evidence.get("content", {}),
                    "status": Feedback.NOT_RELEVANT,
                    "feedback_reason": reason,
                    "feedback_at": now,
                },
            )
            Suggestion.objects.filter(
                hcp_id=suggestion.hcp_id,
                kind=SuggestionKind.CONTENT,
                key=f"item:{suggestion.item_id}",
            ).update(status=Feedback.NOT_RELEVANT, feedback_reason=reason, feedback_at=now)
    return action_get(employee=employee, suggestion_id=suggestion.pk)


@dataclass(frozen=True)
class Rate:
    label: str
    shown: int
    done: int
    not_now: int
    not_relevant: int

    @property
    def answered(self) -> int:
        return self.done + self.not_now + self.not_relevant

    @property
    def acceptance(self) -> float | None:
        return self.done / self.shown if self.shown else None

    @property
    def dismissal(self) -> float | None:
        return self.not_relevant / self.shown if self.shown else None


def action_rates(*, reps: Collection[Employee], days: int = 30) -> tuple[list[Rate], list[Rate]]:
    """Acceptance (done) and dismissal (not relevant) of next best actions over the last days,
    per rep and per suggestion type."""
    rows = Suggestion.objects.filter(
        kind=SuggestionKind.ACTION,
        rep__in=reps,
        day__gte=timezone.localdate() - dt.timedelta(days=days),
    )
    counts = {
        "shown": Count("id"),
        "done": Count("id", filter=Q(status=Feedback.DONE)),
        "not_now": Count("id", filter=Q(status=Feedback.NOT_NOW)),
        "not_relevant": Count("id", filter=Q(status=Feedback.NOT_RELEVANT)),
    }
    by_rep = rows.values("rep__name").annotate(**counts).order_by("rep__name")
    by_type = rows.values("action_type").annotate(**counts).order_by("action_type")
    labels = dict(ActionType.choices)
    return (
        [
            Rate(r["rep__name"], r["shown"], r["done"], r["not_now"], r["not_relevant"])
            for r in by_rep
        ],
        [
            Rate(
                str(labels.get(r["action_type"], r["action_type"])),
                r["shown"],
                r["done"],
                r["not_now"],
                r["not_relevant"],
            )
            for r in by_type
        ],
    )


@dataclass(frozen=True)
class ContentRate:
    shown: int
    opened: int

    @property
    def rate(self) -> float | None:
        return self.opened / self.shown if self.shown else None


def content_open_rate(*, days: int = 30) -> ContentRate:
    """How many next-best-content suggestions the doctor then opened."""
    rows = Suggestion.objects.filter(
        item__isnull=False, day__gte=timezone.localdate() - dt.timedelta(days=days)
    )
    counts = rows.aggregate(
        shown=Count("id"), opened=Count("id", filter=Q(opened_at__isnull=False))
    )
    return ContentRate(counts["shown"], counts["opened"])


def action_get(*, employee: Employee, suggestion_id: int) -> Suggestion:
    row = (
        Suggestion.objects.filter(pk=suggestion_id, rep=employee, kind=SuggestionKind.ACTION)
        .select_related("hcp", "hcp__primary_hco", "item")
        .first()
    )
    if row is None:
        raise NotFoundError(_("No such suggestion."))
    return row
