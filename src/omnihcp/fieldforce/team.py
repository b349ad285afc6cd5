"""The manager's view of the team: calls judged by what the doctor did afterwards, not by
count. A visit is *followed* when, within ``FOLLOW_DAYS`` after it, the doctor engaged (opened
or read content, watched a video, answered a quiz or survey, attended a meeting — from the
activity rollups) or moved on the adoption ladder; call quality is the share of judged visits
that were followed (a visit is judged once its 14 days are over, or earlier when already
followed). ``visits_judge`` stores each judgment on the visit every few minutes, so the team
page only counts; the drill into a rep judges its last visits on the spot.

Beside it: this week's visits against last week's, the call plan's attainment, a red / amber /
green status, coverage of the planned doctors per tier (visited at least once this month),
content shared and quiz answers from it this week, training. Rows add up per unit one level
down, so an area manager sees red / amber / green per district manager, a regional manager per
area manager. The drill into a
rep shows where the rep's doctors stand on the adoption ladder, per product, down to the
doctors of one step. A nudge sends the rep a WeCom message and leaves a task.
"""

from __future__ import annotations

import datetime as dt
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.models import Delivery, Response
from omnihcp.engagement.training import training_summary
from omnihcp.fieldforce.callplans import month_bounds, month_of
from omnihcp.fieldforce.models import CallPlanLine, Task, TaskSource, Visit
from omnihcp.fieldforce.notify import task_notify
from omnihcp.fieldforce.services import task_open
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Employee, OrgNode, Role
from omnihcp.profiles.models import Adoption, AdoptionStage
from omnihcp.profiles.nba import rep_doctors
from omnihcp.profiles.selectors import adoption_moves
from omnihcp.tracking.selectors import hcp_engaged_days

FOLLOW_DAYS = 14
LOOK_BACK_DAYS = 44  # visits whose follow-up window overlaps the last 30 days
ENGAGEMENT = (
    "Content Opened",
    "Content Read",
    "Video Watched",
    "Quiz Answered",
    "Survey Answered",
    "Meeting Attended",
)
GREEN_ATTAINMENT, RED_ATTAINMENT = 0.8, 0.5
GREEN_QUALITY, RED_QUALITY = 0.3, 0.15
MIN_JUDGED = 5  # fewer judged visits say nothing about quality
JUDGE_BATCH = 5000


class VisitRef(NamedTuple):
    """What judging a visit needs; the team page reads these, not whole visits."""

    pk: int
    rep_id: int
    hcp_id: int
    started_at: dt.datetime
    created_at: dt.datetime


@dataclass(frozen=True)
class VisitJudged:
    visit: Any  # a Visit, or a VisitRef
    followed: bool
    judged: bool


TIERS = ("A", "B", "C")


@dataclass(frozen=True)
class RepRow:
    rep: Employee | None  # None: a district's total
    this_week: int
    last_week: int
    followed: int
    judged: int
    planned: int
    made: int
    # tier → (planned doctors visited at least once this month, planned doctors)
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    shares: int = 0  # content shared this week
    quiz_answers: int = 0  # quiz answers this week to content the rep shared
    quiz_score: float | None = None
    training: tuple[int, int] = (0, 0)  # courses passed, courses assigned

    @property
    def coverage_cells(self) -> list[tuple[str, int, int]]:
        return [(tier, *self.coverage.get(tier, (0, 0))) for tier in TIERS]

    @property
    def quality(self) -> float | None:
        return self.followed / self.judged if self.judged else None

    @property
    def attainment(self) -> float | None:
        return self.made / self.planned if self.planned else None

    @property
    def status(self) -> str:
        attainment, quality = self.attainment, self.quality
        if self.judged < MIN_JUDGED:
            quality = None
        if (attainment is not None and attainment < RED_ATTAINMENT) or (
            quality is not None and quality < RED_QUALITY
        ):
            return "red"
        if (attainment is None or attainment >= GREEN_ATTAINMENT) and (
            quality is None or quality >= GREEN_QUALITY
        ):
            return "green"
        return "amber"


@dataclass(frozen=True)
class GroupRow:
    """A unit's reps added up (a district, or an area for a regional manager)."""

    node: OrgNode
    reps: list[RepRow]

    @property
    def total(self) -> RepRow:
        coverage: dict[str, tuple[int, int]] = {}
        for row in self.reps:
            for tier, (seen, planned) in row.coverage.items():
                before = coverage.get(tier, (0, 0))
                coverage[tier] = (before[0] + seen, before[1] + planned)
        scored = [r for r in self.reps if r.quiz_score is not None]
        return RepRow(
            rep=None,
            this_week=sum(r.this_week for r in self.reps),
            last_week=sum(r.last_week for r in self.reps),
            followed=sum(r.followed for r in self.reps),
            judged=sum(r.judged for r in self.reps),
            planned=sum(r.planned for r in self.reps),
            made=sum(r.made for r in self.reps),
            coverage=coverage,
            shares=sum(r.shares for r in self.reps),
            quiz_answers=sum(r.quiz_answers for r in self.reps),
            quiz_score=sum(r.quiz_score or 0 for r in scored) / len(scored) if scored else None,
        )


def judge_visits(visits: Sequence[Visit | VisitRef], *, now: dt.datetime) -> list[VisitJudged]:
    """Each visit with whether the doctor engaged or moved a stage in the 14 days after it."""
    if not visits:
        return []
    ids = {v.hcp_id for v in visits}
    zone = timezone.get_current_timezone()
    first = min(v.started_at for v in visits)
    engaged_on: dict[int, list[dt.date]] = defaultdict(list)
    since = first.astimezone(zone).date()
    for hcp_id, day in hcp_engaged_days(hcp_ids=ids, since=since, events=ENGAGEMENT):
        engaged_on[hcp_id].append(day)
    for days in engaged_on.values():
        days.sort()
    moves_of: dict[int, list[dt.datetime]] = defaultdict(list)
    for hcp_id, at in adoption_moves(hcp_ids=list(ids), since=first):
        moves_of[hcp_id].append(at)
    window, nudge = dt.timedelta(days=FOLLOW_DAYS), dt.timedelta(minutes=1)
    judged = []
    for visit in visits:
        day = visit.started_at.astimezone(zone).date()
        days = engaged_on.get(visit.hcp_id, [])
        after_day = bisect_right(days, day)  # the first engaged day after the visit's
        engaged = after_day < len(days) and days[after_day] <= day + window
        # the stage the visit itself recorded does not count: a later move does
        after, until = visit.created_at + nudge, visit.started_at + window
        moved = any(after < at <= until for at in moves_of.get(visit.hcp_id, ()))
        followed = engaged or moved
        judged.append(VisitJudged(visit, followed, followed or now - visit.started_at >= window))
    return judged


def visits_judge(*, now: dt.datetime | None = None, batch: int = JUDGE_BATCH) -> int:
    """Store the call-quality judgment of every visit still waiting (``Visit.followed``): True
    once the doctor engaged or moved a stage within 14 days, False once the 14 days passed
    without; the team page counts these. Visits judged."""
    now = now or timezone.now()
    waiting = Visit.objects.filter(followed__isnull=True, started_at__lte=now).order_by("pk")
    done, last = 0, 0
    while True:
        refs = [
            VisitRef(*row)
            for row in waiting.filter(pk__gt=last).values_list(
                "pk", "rep_id", "hcp_id", "started_at", "created_at"
            )[:batch]
        ]
        if not refs:
            return done
        last = refs[-1].pk
        judged = [j for j in judge_visits(refs, now=now) if j.judged]
        for value in (True, False):
            ids = [j.visit.pk for j in judged if j.followed is value]
            if ids:
                Visit.objects.filter(pk__in=ids, followed__isnull=True).update(followed=value)
        done += len(judged)


def team_reps(*, manager: Employee) -> list[Employee]:
    if manager.position == Role.REP:
        return []
    return list(
        Employee.objects.filter(
            position=Role.REP, is_active=True, org_node__path__startswith=manager.org_node.path
        )
        .select_related("org_node")
        .order_by("name")
    )


def team_rows(*, manager: Employee) -> list[RepRow]:
    now = timezone.now()
    week = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=6), dt.time.min)
    )
    reps = team_reps(manager=manager)
    # counted in the database from the judgments ``visits_judge`` stored: one grouped read
    counts = {
        row["rep_id"]: row
        for row in Visit.objects.filter(
            rep__in=reps, started_at__gte=now - dt.timedelta(days=LOOK_BACK_DAYS)
        )
        .values("rep_id")
        .annotate(
            this_week=Count("id", filter=Q(started_at__gte=week)),
            last_week=Count(
                "id", filter=Q(started_at__gte=week - dt.timedelta(days=7), started_at__lt=week)
            ),
            n_followed=Count("id", filter=Q(followed=True)),
            n_judged=Count("id", filter=Q(followed__isnull=False)),
        )
    }
    figures = _plan_figures(reps)
    users = [rep.user_id for rep in reps if rep.user_id]
    shares: dict[int | None, int] = dict(
        Delivery.objects.filter(sender_id__in=users, created_at__gte=week)
        .values("sender_id")
        .annotate(n=Count("id"))
        .values_list("sender_id", "n")
    )
    quizzes: dict[int | None, tuple[int, float | None]] = {
        sender: (n, score)
        for sender, n, score in Response.objects.filter(
            sender_id__in=users, submitted_at__gte=week, score__isnull=False
        )
        .values("sender_id")
        .annotate(n=Count("id"), avg=Avg("score"))
        .values_list("sender_id", "n", "avg")
    }
    courses = training_summary(employee_ids=[rep.pk for rep in reps])
    rows = []
    none = {"this_week": 0, "last_week": 0, "n_followed": 0, "n_judged": 0}
    for rep in reps:
        count = counts.get(rep.pk, none)
        planned, made, coverage = figures.get(rep.pk, (0, 0, {}))
        answers, score = quizzes.get(rep.user_id, (0, None))
        rows.append(
            RepRow(
                rep=rep,
                this_week=count["this_week"],
                last_week=count["last_week"],
                followed=count["n_followed"],
                judged=count["n_judged"],
                planned=planned,
                made=made,
                coverage=coverage,
                shares=shares.get(rep.user_id, 0),
                quiz_answers=answers,
                quiz_score=score,
                training=courses.get(rep.pk, (0, 0)),
            )
        )
    return rows


def _plan_figures(reps: list[Employee]) -> dict[int, tuple[int, int, dict[str, tuple[int, int]]]]:
    """Per rep this month: calls planned, planned calls made (a doctor's visits beyond the
    plan do not count, as on the plan page) and per tier (doctors visited, doctors planned) —
    two grouped reads for the whole team, no plan line loaded as an object."""
    month = month_of(timezone.localdate())
    start, end = month_bounds(month)
    made_to = {
        (rep_id, hcp_id): n
        for rep_id, hcp_id, n in Visit.objects.filter(
            rep__in=reps, started_at__gte=start, started_at__lt=end
        )
        .values("rep_id", "hcp_id")
        .annotate(n=Count("id"))
        .values_list("rep_id", "hcp_id", "n")
    }
    lines = CallPlanLine.objects.filter(plan__rep__in=reps, plan__month=month).values_list(
        "plan__rep_id", "hcp_id", "tier", "planned"
    )
    figures: dict[int, tuple[int, int, dict[str, tuple[int, int]]]] = {}
    for rep_id, hcp_id, tier, planned in lines:
        total, made, coverage = figures.get(rep_id, (0, 0, {}))
        visits = made_to.get((rep_id, hcp_id), 0)
        seen, doctors = coverage.get(tier, (0, 0))
        coverage[tier] = (seen + (visits > 0), doctors + 1)
        figures[rep_id] = (total + planned, made + min(visits, planned), coverage)
    return figures


def team_groups(rows: list[RepRow], *, manager: Employee) -> list[GroupRow]:
    """The rows per unit one level below the manager — districts for an area manager, areas
    for a regional manager — each with its manager; none when the team is one unit."""
    base = manager.org_node.path
    child_of: dict[int, str] = {}
    for row in rows:
        if row.rep is not None:
            rest = row.rep.org_node.path.removeprefix(base).strip("/").split("/")
            child_of[row.rep.pk] = f"{base}{rest[0]}/" if rest and rest[0] else base
    units = {
        node.path: node
        for node in OrgNode.objects.filter(path__in=set(child_of.values())).select_related(
            "manager"
        )
    }
    by_unit: dict[str, list[RepRow]] = defaultdict(list)
    for row in rows:
        if row.rep is not None and child_of[row.rep.pk] in units:
            by_unit[child_of[row.rep.pk]].append(row)
    groups = [GroupRow(units[path], unit_rows) for path, unit_rows in by_unit.items()]
    return sorted(groups, key=lambda g: g.node.path) if len(groups) > 1 else []


@dataclass(frozen=True)
class LadderRow:
    product: str
    product_id: int
    counts: list[int]  # doctors per stage, in the ladder's order
    assessed: int


def rep_ladder(*, rep: Employee) -> tuple[list[LadderRow], int]:
    """Where the rep's doctors stand per product (doctors per stage) and how many doctors."""
    doctors = rep_doctors(employee=rep)
    stages = [value for value, _label in AdoptionStage.choices]
    cells = (
        Adoption.objects.filter(hcp_id__in=doctors.values("id"))
        .values("product_id", "product__brand_name", "stage")
        .annotate(n=Count("id"))
    )
    rows: dict[int, LadderRow] = {}
    for cell in cells:
        row = rows.setdefault(
            cell["product_id"],
            LadderRow(cell["product__brand_name"], cell["product_id"], [0] * len(stages), 0),
        )
        row.counts[stages.index(cell["stage"])] += cell["n"]
    ladder = [
        LadderRow(r.product, r.product_id, r.counts, sum(r.counts))
        for r in sorted(rows.values(), key=lambda r: r.product)
    ]
    return ladder, doctors.count()


def rep_ladder_doctors(*, rep: Employee, product_id: int, stage: str) -> QuerySet[HCP]:
    """The rep's doctors at one step of one product's ladder."""
    at_step = Adoption.objects.filter(product_id=product_id, stage=stage).values("hcp_id")
    return (
        rep_doctors(employee=rep)
        .filter(id__in=at_step)
        .select_related("primary_hco")
        .order_by("name_pinyin")
    )


def team_rep(*, manager: Employee, rep_id: int) -> Employee:
    rep = next((r for r in team_reps(manager=manager) if r.pk == rep_id), None)
    if rep is None:
        raise NotFoundError(_("No such rep in your team."))
    return rep


def rep_recent_visits(*, rep: Employee, limit: int = 20) -> list[VisitJudged]:
    visits = list(
        Visit.objects.filter(rep=rep).select_related("hcp").order_by("-started_at")[:limit]
    )
    return judge_visits(visits, now=timezone.now())


def nudge_send(*, actor: Actor, manager: Employee, rep: Employee, text: str) -> Task:
    """A manager's nudge: a task on the rep's today page and a WeCom message, recorded."""
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write what the rep should do."), field="text")
    if len(text) > 200:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 200}, field="text")
    with transaction.atomic():
        task, _created = task_open(
            assignee=rep,
            hcp=None,
            source=TaskSource.MANAGER,
            title=text,
            due_on=timezone.localdate() + dt.timedelta(days=2),
            dedupe_key=f"nudge:{uuid.uuid4().hex}",
            detail={"why": "nudge", "from": manager.name},
        )
        audit_append(
            actor=actor,
            action="nudge.sent",
            object_type="task",
            object_id=task.pk,
            after={"rep": rep.pk, "text": text},
        )
    task_notify(task, rep, title=_("From %(manager)s") % {"manager": manager.name}, text=text)
    return task
