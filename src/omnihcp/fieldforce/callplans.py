"""Call plans: per rep and month, which doctors to see how often — generated from the tiers of
the doctors in the rep's territories (profiles' tier matrix gives the calls a month of each
tier), editable by the rep's manager (an edited number survives regeneration), and set
against what happened: the rep's visits to each doctor that month.

``call_plans_generate`` makes every active rep's plan for a month (the scheduler asks daily;
a plan already generated is left alone unless ``refresh``); the whole company in one run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.fieldforce.models import CallPlan, CallPlanLine, Visit
from omnihcp.governance.services import Actor, audit_append
from omnihcp.org.models import Employee, Role
from omnihcp.org.selectors import employee_for_user, territories_of
from omnihcp.profiles.nba import rep_doctors
from omnihcp.profiles.selectors import planned_calls

MAX_PLANNED = 31


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def call_plan_generate(*, rep: Employee, month: dt.date) -> CallPlan:
    """The rep's plan for the month from today's tiers; lines a manager edited are kept."""
    month = month_of(month)
    business_units = list(
        territories_of(employee=rep, on=month).values_list("business_unit_id", flat=True)
    )
    planned = planned_calls(doctors=rep_doctors(employee=rep), business_unit_ids=business_units)
    with transaction.atomic():
        plan, _created = CallPlan.objects.select_for_update().get_or_create(rep=rep, month=month)
        edited = set(plan.lines.filter(edited_by__isnull=False).values_list("hcp_id", flat=True))
        plan.lines.filter(edited_by__isnull=True).delete()
        CallPlanLine.objects.bulk_create(
            [
                CallPlanLine(plan=plan, hcp_id=hcp_id, tier=tier, planned=min(n, MAX_PLANNED))
                for hcp_id, (tier, n) in planned.items()
                if hcp_id not in edited
            ],
            batch_size=1000,
        )
        plan.generated_at = timezone.now()
        plan.save(update_fields=["generated_at", "updated_at"])
    return plan


def call_plans_generate(*, month: dt.date | None = None, refresh: bool = False) -> int:
    """Every active rep's plan for the month (this month by default): plans generated."""
    month = month_of(month or timezone.localdate())
    reps = Employee.objects.filter(position=Role.REP, is_active=True).select_related("org_node")
    done = set(
        CallPlan.objects.filter(month=month, generated_at__isnull=False).values_list(
            "rep_id", flat=True
        )
    )
    count = 0
    for rep in reps.iterator(chunk_size=200):
        if refresh or rep.pk not in done:
            call_plan_generate(rep=rep, month=month)
            count += 1
    return count


@dataclass(frozen=True)
class PlanRow:
    line: CallPlanLine
    actual: int

    @property
    def gap(self) -> int:
        return max(self.line.planned - self.actual, 0)


@dataclass(frozen=True)
class PlanProgress:
    plan: CallPlan
    rows: list[PlanRow]

    @property
    def planned(self) -> int:
        return sum(r.line.planned for r in self.rows)

    @property
    def actual(self) -> int:
        return sum(min(r.actual, r.line.planned) for r in self.rows)

    @property
    def attainment(self) -> float | None:
        return self.actual / self.planned if self.planned else None


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of the month and of the next, local time."""
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(_next_month(month), dt.time.min))


def month_visits(*, rep_id: int, month: dt.date) -> dict[int, int]:
    """The rep's visits per doctor in the month."""
    start, end = month_bounds(month)
    return dict(
        Visit.objects.filter(rep_id=rep_id, started_at__gte=start, started_at__lt=end)
        .values("hcp_id")
        .annotate(n=Count("id"))
        .values_list("hcp_id", "n")
    )


def call_plan_progress(*, plan: CallPlan) -> PlanProgress:
    """Plan against actual: the rep's visits to each planned doctor in the plan's month."""
    visits = month_visits(rep_id=plan.rep_id, month=plan.month)
    lines = plan.lines.select_related("hcp__primary_hco").order_by("tier", "hcp__name_pinyin")
    return PlanProgress(plan, [PlanRow(line, visits.get(line.hcp_id, 0)) for line in lines])


@dataclass(frozen=True)
class PlanGaps:
    """A plan's totals and its doctors still to see, best tier and widest gap first."""

    plan: CallPlan
    planned: int
    actual: int
    rows: list[PlanRow]


def call_plan_gaps(*, plan: CallPlan, limit: int) -> PlanGaps:
    """What the today page needs of a plan: totals from tuples, and only ``limit`` lines
    loaded as objects (a rep may have hundreds of planned doctors)."""
    visits = month_visits(rep_id=plan.rep_id, month=plan.month)
    lines = list(plan.lines.values_list("pk", "hcp_id", "tier", "planned"))
    planned = sum(n for _pk, _hcp, _tier, n in lines)
    actual = sum(min(visits.get(hcp, 0), n) for _pk, hcp, _tier, n in lines)
    gaps = sorted(
        ((tier or "Z", visits.get(hcp, 0) - n, pk) for pk, hcp, tier, n in lines),
    )
    wanted = [pk for _tier, gap, pk in gaps if gap < 0][:limit]
    loaded = plan.lines.select_related("hcp__primary_hco").in_bulk(wanted)
    rows = [PlanRow(loaded[pk], visits.get(loaded[pk].hcp_id, 0)) for pk in wanted]
    return PlanGaps(plan, planned, actual, rows)


def rep_plan(*, rep: Employee, month: dt.date | None = None) -> CallPlan | None:
    return CallPlan.objects.filter(rep=rep, month=month_of(month or timezone.localdate())).first()


def plan_get(*, actor: Actor, plan_id: int) -> tuple[CallPlan, bool]:
    """A plan the actor may see, and whether they may edit it (the rep's managers may)."""
    plan = CallPlan.objects.select_related("rep__org_node").filter(pk=plan_id).first()
    employee = employee_for_user(user=actor)  # type: ignore[arg-type]
    if plan is None or employee is None:
        raise NotFoundError(_("No such call plan."))
    if plan.rep_id == employee.pk:
        return plan, False
    manages = employee.position != Role.REP and plan.rep.org_node.path.startswith(
        employee.org_node.path
    )
    if not manages:
        raise NotFoundError(_("No such call plan."))
    return plan, True


def call_plan_edit(*, actor: Actor, plan: CallPlan, line_id: int, planned: str) -> CallPlanLine:
    """A manager sets a doctor's planned calls for the month (0 to 31)."""
    line = plan.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFoundError(_("No such doctor in this plan."))
    if not planned.strip().isdigit() or int(planned) > MAX_PLANNED:
        raise ApplicationError(
            _("Planned calls must be a whole number from 0 to %(n)s.") % {"n": MAX_PLANNED},
            field="planned",
        )
    before = line.planned
    with transaction.atomic():
        line.planned = int(planned)
        line.edited_by_id = actor.pk
        line.save(update_fields=["planned", "edited_by"])
        audit_append(
            actor=actor,
            action="call_plan.edited",
            object_type="call_plan_line",
            object_id=line.pk,
            before={"planned": before},
            after={"planned": line.planned, "hcp": line.hcp_id, "plan": plan.pk},
        )
    return line


def team_plans(*, manager: Employee, month: dt.date | None = None) -> list[PlanProgress]:
    """This month's plans of the reps under the manager's node, with plan against actual."""
    plans = CallPlan.objects.filter(
        month=month_of(month or timezone.localdate()),
        rep__org_node__path__startswith=manager.org_node.path,
    ).select_related("rep")
    return [call_plan_progress(plan=plan) for plan in plans.order_by("rep__name")]
