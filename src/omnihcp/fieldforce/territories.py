"""Territory changes with effective dates, and the handover to the new rep.

A manager hands a territory to another rep from a day, or moves HCOs to another territory of
the same business unit (``org.services`` keeps the dated periods, so who covered a hospital when
stays readable). Each change makes a ``Handover``; on its day (at once when the day is today or
past, else by the ``handovers_apply`` job) the open tasks about the doctors of those HCOs move
to the new rep, both reps' call plans are made again for the month, and the new rep gets a task
and a WeCom message that open the handover summary. Visits, adoption and the timeline belong to
the doctor, not to a rep, so nothing of the history moves or is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.fieldforce.callplans import call_plan_generate
from omnihcp.fieldforce.models import Handover, Task, TaskSource, TaskStatus, Visit
from omnihcp.fieldforce.notify import task_notify
from omnihcp.fieldforce.services import task_open
from omnihcp.fieldforce.team import team_reps
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.org.models import Employee, Role, Territory, TerritoryHCO, TerritoryRep
from omnihcp.org.selectors import territories_of
from omnihcp.org.selectors import territory_rep_on as territory_rep_on
from omnihcp.org.services import territory_hcos_move, territory_rep_assign
from omnihcp.profiles.models import Adoption, HCPTier

BACKDATE_DAYS = 31  # a change may be recorded late, by up to a month
AHEAD_DAYS = 366
ROWS_PER_PAGE = 50


def managed_territories(*, manager: Employee) -> QuerySet[Territory]:
    if manager.position == Role.REP:
        return Territory.objects.none()
    return territories_of(employee=manager).select_related("business_unit", "org_node")


def territory_get(*, manager: Employee, territory_id: int) -> Territory:
    territory = managed_territories(manager=manager).filter(pk=territory_id).first()
    if territory is None:
        raise NotFoundError(_("No such territory in your part of the organisation."))
    return territory


@dataclass(frozen=True)
class TerritoryRow:
    territory: Territory
    rep: Employee | None
    next_rep: Employee | None
    next_from: dt.date | None
    hcos: int


def territory_rows(*, manager: Employee) -> list[TerritoryRow]:
    today = timezone.localdate()
    territories = list(managed_territories(manager=manager))
    ids = [t.pk for t in territories]
    periods = TerritoryRep.objects.filter(territory_id__in=ids, valid_to__isnull=True)
    open_of = {p.territory_id: p for p in periods.select_related("employee")}
    counts = dict(
        TerritoryHCO.objects.filter(territory_id__in=ids, valid_to__isnull=True)
        .values("territory_id")
        .annotate(n=Count("id"))
        .values_list("territory_id", "n")
    )
    rows = []
    for territory in territories:
        period = open_of.get(territory.pk)
        upcoming = period is not None and period.valid_from > today
        rows.append(
            TerritoryRow(
                territory=territory,
                rep=territory_rep_on(territory=territory)
                if upcoming
                else getattr(period, "employee", None),
                next_rep=period.employee if upcoming and period else None,
                next_from=period.valid_from if upcoming and period else None,
                hcos=counts.get(territory.pk, 0),
            )
        )
    return rows


def _check_day(effective_on: dt.date | None) -> dt.date:
    if effective_on is None:
        raise ApplicationError(_("Give the date the change takes effect."), field="effective_on")
    today = timezone.localdate()
    if effective_on < today - dt.timedelta(days=BACKDATE_DAYS):
        raise ApplicationError(
            _("A change may be dated at most %(n)s days back.") % {"n": BACKDATE_DAYS},
            field="effective_on",
        )
    if effective_on > today + dt.timedelta(days=AHEAD_DAYS):
        raise ApplicationError(_("That date is more than a year ahead."), field="effective_on")
    return effective_on


def _apply_if_due(handover: Handover) -> Handover:
    if handover.effective_on <= timezone.localdate():
        handover_apply(handover=handover)
    return handover


def territory_rep_change(
    *,
    actor: Actor,
    manager: Employee,
    territory: Territory,
    rep_id: int | None,
    effective_on: dt.date | None,
) -> Handover:
    """Hand the territory to a rep of the manager's team from a day."""
    rep = next((r for r in team_reps(manager=manager) if r.pk == rep_id), None)
    if rep is None:
        raise ApplicationError(_("Choose an active rep of your team."), field="rep")
    day = _check_day(effective_on)
    with transaction.atomic():
        current = (
            TerritoryRep.objects.filter(territory=territory, valid_to__isnull=True)
            .select_related("employee")
            .first()
        )
        if current is not None and current.employee_id == rep.pk:
            raise ApplicationError(_("This rep already works this territory."), field="rep")
        territory_rep_assign(actor=actor, territory=territory, employee=rep, valid_from=day)
        hco_ids = sorted(
            TerritoryHCO.objects.filter(territory=territory, valid_to__isnull=True).values_list(
                "hco_id", flat=True
            )
        )
        handover = Handover.objects.create(
            territory=territory,
            from_rep=current.employee if current else None,
            to_rep=rep,
            effective_on=day,
            hco_ids=hco_ids,
            created_by_id=actor.pk,
        )
    return _apply_if_due(handover)


def territory_hcos_change(
    *,
    actor: Actor,
    manager: Employee,
    source: Territory,
    target_id: int | None,
    hco_ids: list[int],
    effective_on: dt.date | None,
) -> Handover | None:
    """Move HCOs to another territory from a day; a handover when the target has a rep."""
    target = managed_territories(manager=manager).filter(pk=target_id or 0).first()
    if target is None:
        raise ApplicationError(
            _("Choose a territory of your part of the organisation."), field="target"
        )
    day = _check_day(effective_on)
    with transaction.atomic():
        moved = territory_hcos_move(
            actor=actor, source=source, target=target, hco_ids=hco_ids, valid_from=day
        )
        to_rep = territory_rep_on(territory=target, on=day)
        if to_rep is None:
            return None
        handover = Handover.objects.create(
            territory=target,
            from_rep=territory_rep_on(territory=source, on=day - dt.timedelta(days=1)),
            to_rep=to_rep,
            effective_on=day,
            hco_ids=moved,
            created_by_id=actor.pk,
        )
    return _apply_if_due(handover)


def _doctors(handover: Handover) -> QuerySet[HCP]:
    return HCP.objects.filter(primary_hco_id__in=handover.hco_ids, status=RecordStatus.ACTIVE)


def _move_tasks(handover: Handover) -> int:
    """The previous rep's open tasks about these doctors, now the new rep's."""
    if handover.from_rep_id is None or handover.from_rep_id == handover.to_rep_id:
        return 0
    tasks = Task.objects.select_for_update().filter(
        assignee_id=handover.from_rep_id,
        status=TaskStatus.OPEN,
        hcp__primary_hco_id__in=handover.hco_ids,
    )
    moved = 0
    for task in tasks:
        task.detail = {**task.detail, "handed_over_from": handover.from_rep_id}
        task.assignee_id = handover.to_rep_id
        try:
            with transaction.atomic():
                task.save(update_fields=["assignee", "detail", "updated_at"])
            moved += 1
        except IntegrityError:  # the new rep already has the same task open: keep theirs
            Task.objects.filter(pk=task.pk).update(
                status=TaskStatus.CANCELLED, done_at=timezone.now()
            )
    return moved


def handover_apply(*, handover: Handover) -> bool:
    """Apply a handover on its day (once): move the tasks, remake the call plans, tell the rep."""
    with transaction.atomic():
        locked = Handover.objects.select_for_update().get(pk=handover.pk)
        if locked.applied_at is not None:
            return False
        locked.tasks_moved = _move_tasks(locked)
        locked.applied_at = timezone.now()
        locked.save(update_fields=["tasks_moved", "applied_at", "updated_at"])
        doctors = _doctors(locked).count()
        who = locked.from_rep.name if locked.from_rep else _("a vacant territory")
        title = _("Handover: %(n)s doctors in %(territory)s from %(who)s") % {
            "n": doctors,
            "territory": locked.territory.name,
            "who": who,
        }
        task, _created = task_open(
            assignee=locked.to_rep,
            hcp=None,
            source=TaskSource.MANAGER,
            title=title[:200],
            due_on=timezone.localdate(),  # read it before the first visit
            dedupe_key=f"handover:{locked.pk}",
            detail={"why": "handover", "handover": locked.pk, "doctors": doctors},
        )
        audit_append(
            actor=None,
            action="territory.handover_applied",
            object_type="handover",
            object_id=locked.pk,
            after={"to_rep": locked.to_rep_id, "tasks_moved": locked.tasks_moved},
        )
    handover.applied_at, handover.tasks_moved = locked.applied_at, locked.tasks_moved
    month = timezone.localdate()
    for rep in filter(None, (locked.to_rep, locked.from_rep)):
        if rep.is_active:
            call_plan_generate(rep=rep, month=month)
    task_notify(task, locked.to_rep, title=_("Handover"), text=title)
    return True


def handovers_apply() -> int:
    """Every handover whose day has come and that is not applied yet: how many applied."""
    due = Handover.objects.filter(applied_at__isnull=True, effective_on__lte=timezone.localdate())
    return sum(handover_apply(handover=h) for h in due.select_related("to_rep", "from_rep"))


def handover_get(*, employee: Employee, handover_id: int) -> Handover:
    """The new rep, the previous rep or a manager above the territory may read it."""
    handover = (
        Handover.objects.select_related("territory__org_node", "from_rep", "to_rep")
        .filter(pk=handover_id)
        .first()
    )
    allowed = handover is not None and (
        employee.pk in (handover.to_rep_id, handover.from_rep_id)
        or (
            employee.position != Role.REP
            and handover.territory.org_node.path.startswith(employee.org_node.path)
        )
    )
    if handover is None or not allowed:
        raise NotFoundError(_("No such handover."))
    return handover


def rep_handovers(*, employee: Employee) -> QuerySet[Handover]:
    return Handover.objects.filter(to_rep=employee).select_related("territory", "from_rep")


@dataclass
class HandoverRow:
    hcp: HCP
    tier: str
    adoptions: list[Adoption] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    visits_year: int = 0
    open_tasks: list[Task] = field(default_factory=list)

    @property
    def last_said(self) -> Visit | None:
        """The latest visit where the doctor said something (feedback or objections)."""
        return next((v for v in self.visits if v.feedback or v.objections), None)


@dataclass(frozen=True)
class HandoverPage:
    rows: list[HandoverRow]
    total: int
    page: int
    pages: int


def handover_rows(*, handover: Handover, page: int = 1) -> HandoverPage:
    """One row per doctor of the handed-over HCOs, the best tier first."""
    tiers: dict[int, Any] = dict(
        HCPTier.objects.filter(hcp_id__in=_doctors(handover).values("id"))
        .values("hcp_id")
        .annotate(best=Min("tier"))
        .values_list("hcp_id", "best")
    )
    names = list(_doctors(handover).values_list("id", "name_pinyin"))
    names.sort(key=lambda row: (tiers.get(row[0]) or "Z", row[1]))
    pages = max(1, -(-len(names) // ROWS_PER_PAGE))
    page = min(max(page, 1), pages)
    ids = [hcp_id for hcp_id, _name in names[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]]
    doctors = HCP.objects.select_related("primary_hco", "department").in_bulk(ids)
    rows = {i: HandoverRow(hcp=doctors[i], tier=tiers.get(i) or "") for i in ids}
    for adoption in Adoption.objects.filter(hcp_id__in=ids).select_related("product"):
        rows[adoption.hcp_id].adoptions.append(adoption)
    year_ago = timezone.now() - dt.timedelta(days=365)
    visits = Visit.objects.filter(hcp_id__in=ids, started_at__gte=year_ago).select_related("rep")
    for visit in visits.order_by("-started_at"):
        row = rows[visit.hcp_id]
        row.visits_year += 1
        if len(row.visits) < 3:
            row.visits.append(visit)
    open_tasks = Task.objects.filter(
        hcp_id__in=ids, assignee=handover.to_rep, status=TaskStatus.OPEN
    )
    for task in open_tasks:
        if task.hcp_id is not None:
            rows[task.hcp_id].open_tasks.append(task)
    return HandoverPage([rows[i] for i in ids], len(names), page, pages)
