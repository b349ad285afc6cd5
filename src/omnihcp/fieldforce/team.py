"""The manager's view of the team: calls judged by what the doctor did afterwards, not by
count. A visit is *followed* when, within ``FOLLOW_DAYS`` after it, the doctor engaged (opened
or read content, watched a video, answered a quiz or survey, attended a meeting — from the
activity rollups) or moved on the adoption ladder; call quality is the share of judged visits
that were followed (a visit is judged once its 14 days are over, or earlier when already
followed). Beside it: this week's visits against last week's, the call plan's attainment, and
a red / amber / green status. A nudge sends the rep a WeCom message and leaves a task.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.fieldforce.callplans import call_plan_progress, month_of
from omnihcp.fieldforce.models import CallPlan, Task, TaskSource, Visit
from omnihcp.fieldforce.notify import task_notify
from omnihcp.fieldforce.services import task_open
from omnihcp.governance.services import Actor, audit_append
from omnihcp.org.models import Employee, Role
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


@dataclass(frozen=True)
class VisitJudged:
    visit: Visit
    followed: bool
    judged: bool


@dataclass(frozen=True)
class RepRow:
    rep: Employee
    this_week: int
    last_week: int
    followed: int
    judged: int
    planned: int
    made: int

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


def judge_visits(visits: list[Visit], *, now: dt.datetime) -> list[VisitJudged]:
    """Each visit with whether the doctor engaged or moved a stage in the 14 days after it."""
    if not visits:
        return []
    ids = {v.hcp_id for v in visits}
    first = min(v.started_at for v in visits)
    days = hcp_engaged_days(hcp_ids=ids, since=timezone.localtime(first).date(), events=ENGAGEMENT)
    moves_of: dict[int, list[dt.datetime]] = defaultdict(list)
    for hcp_id, at in adoption_moves(hcp_ids=list(ids), since=first):
        moves_of[hcp_id].append(at)
    judged = []
    for visit in visits:
        day = timezone.localtime(visit.started_at).date()
        window = {day + dt.timedelta(days=n) for n in range(1, FOLLOW_DAYS + 1)}
        engaged = any((visit.hcp_id, d) in days for d in window)
        # the stage the visit itself recorded does not count: a later move does
        after = visit.created_at + dt.timedelta(minutes=1)
        until = visit.started_at + dt.timedelta(days=FOLLOW_DAYS)
        moved = any(after < at <= until for at in moves_of.get(visit.hcp_id, ()))
        over = now - visit.started_at >= dt.timedelta(days=FOLLOW_DAYS)
        followed = engaged or moved
        judged.append(VisitJudged(visit, followed, over or followed))
    return judged


def team_reps(*, manager: Employee) -> list[Employee]:
    if manager.position == Role.REP:
        return []
    return list(
        Employee.objects.filter(
            position=Role.REP, is_active=True, org_node__path__startswith=manager.org_node.path
        ).order_by("name")
    )


def team_rows(*, manager: Employee) -> list[RepRow]:
    now = timezone.now()
    week = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=6), dt.time.min)
    )
    reps = team_reps(manager=manager)
    # the whole team's visits judged at once: three queries, however many reps
    recent = Visit.objects.filter(
        rep__in=reps, started_at__gte=now - dt.timedelta(days=LOOK_BACK_DAYS)
    ).order_by("started_at")
    visits_of: dict[int, list[Visit]] = defaultdict(list)
    judged_of: dict[int, list[VisitJudged]] = defaultdict(list)
    for judged_visit in judge_visits(list(recent), now=now):
        visits_of[judged_visit.visit.rep_id].append(judged_visit.visit)
        if judged_visit.judged:
            judged_of[judged_visit.visit.rep_id].append(judged_visit)
    plans = {
        p.rep_id: p
        for p in CallPlan.objects.filter(rep__in=reps, month=month_of(timezone.localdate()))
    }
    rows = []
    for rep in reps:
        visits, judged = visits_of[rep.pk], judged_of[rep.pk]
        plan = plans.get(rep.pk)
        progress = call_plan_progress(plan=plan) if plan else None
        rows.append(
            RepRow(
                rep=rep,
                this_week=sum(v.started_at >= week for v in visits),
                last_week=sum(week - dt.timedelta(days=7) <= v.started_at < week for v in visits),
                followed=sum(j.followed for j in judged),
                judged=len(judged),
                planned=progress.planned if progress else 0,
                made=progress.actual if progress else 0,
            )
        )
    return rows


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
