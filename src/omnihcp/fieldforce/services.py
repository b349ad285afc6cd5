"""Every write of field force: visits and tasks.

``visit_log`` takes what the visit form sent — from a phone that may have kept it as a draft
while the network was down — and stores it once: the form's ``client_key`` is unique per
rep, so a draft submitted again returns the visit already stored. It refuses a doctor
outside the rep's territory, a face-to-face visit without a check-in location, and times in
the future; it measures the check-in's distance to the hospital (haversine) and flags it when
implausible. The adoption stages the rep assessed go to profiles, the next step becomes a
task, the visit and each content item shown go onto the doctor's timeline ("Visit Logged",
"Content Shown"), the whole visit is one transaction with its audit event.

``visit_edit`` changes what was said (feedback, objections, key messages, next step); within
``EDIT_WINDOW`` of logging it is a correction, after it a late edit that needs a reason and
is audited as such.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.models import ContentItem
from omnihcp.engagement.selectors import content_is_sendable
from omnihcp.fieldforce.models import Task, TaskSource, TaskStatus, Visit, VisitKind
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCO, HCP
from omnihcp.org.models import Employee, Product, User
from omnihcp.org.selectors import employee_for_user
from omnihcp.profiles.adoption import adoption_set
from omnihcp.profiles.models import AdoptionStage
from omnihcp.profiles.nba import action_get, rep_doctors
from omnihcp.tracking.services import activity_record

EDIT_WINDOW = dt.timedelta(hours=24)
FAR_METRES = 1000  # a check-in farther than this from the hospital is flagged
CLOCK_SKEW = dt.timedelta(minutes=5)  # a phone's clock may run a little ahead
LONGEST_VISIT = dt.timedelta(hours=8)
EARTH_METRES = 6_371_000
NBA_TASK_DAYS = 3


@dataclass(frozen=True)
class Location:
    lat: float
    lng: float


@dataclass(frozen=True)
class VisitDraft:
    hcp_id: int
    kind: str
    started_at: dt.datetime
    client_key: str
    ended_at: dt.datetime | None = None
    check_in: Location | None = None
    check_out: Location | None = None
    product_ids: Sequence[int] = ()
    key_messages: str = ""
    content_ids: Sequence[int] = ()
    feedback: str = ""
    objections: str = ""
    stages: Mapping[int, str] = field(default_factory=dict)  # product id → adoption stage
    next_step: str = ""
    next_step_due: dt.date | None = None


def distance_metres(a: Location, b: Location) -> float:
    """Great-circle distance (haversine) between two WGS-84 points."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlng = lat2 - lat1, math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_METRES * math.asin(math.sqrt(min(1.0, h)))


def _rep(actor: Actor) -> Employee:
    employee = employee_for_user(user=cast(User, actor))
    if employee is None or not employee.is_active:
        raise ApplicationError(_("Only a rep with an employee record can log visits."))
    return employee


def _check_location(location: Location | None, name: str) -> None:
    if location is None:
        return
    if not (-90 <= location.lat <= 90 and -180 <= location.lng <= 180):
        raise ApplicationError(_("This is not a location on Earth."), field=name)


def _validate(draft: VisitDraft, now: dt.datetime) -> None:
    if draft.kind not in VisitKind.values:
        raise ApplicationError(_("Choose how you met the doctor."), field="kind")
    key = draft.client_key.strip()
    if not key or len(key) > 64:
        raise ApplicationError(_("The form's key is missing; reload the page."), field="client_key")
    if draft.kind == VisitKind.FACE_TO_FACE and draft.check_in is None:
        raise ApplicationError(
            _("A face-to-face visit needs a check-in location: allow location and try again."),
            field="check_in",
        )
    _check_location(draft.check_in, "check_in")
    _check_location(draft.check_out, "check_out")
    if draft.started_at > now + CLOCK_SKEW:
        raise ApplicationError(_("The visit cannot start in the future."), field="started_at")
    if draft.ended_at is not None:
        if draft.ended_at < draft.started_at:
            raise ApplicationError(_("The visit ends before it starts."), field="ended_at")
        if draft.ended_at > now + CLOCK_SKEW:
            raise ApplicationError(_("The visit cannot end in the future."), field="ended_at")
        if draft.ended_at - draft.started_at > LONGEST_VISIT:
            raise ApplicationError(_("A visit lasts at most 8 hours."), field="ended_at")
    for product_id, stage in draft.stages.items():
        if stage not in AdoptionStage.values:
            raise ApplicationError(_("Choose a stage."), field=f"stage_{product_id}")
    if draft.next_step_due is not None and not draft.next_step.strip():
        raise ApplicationError(_("Say what the next step is."), field="next_step")
    if draft.next_step.strip() and draft.next_step_due is None:
        raise ApplicationError(_("Give the next step a due date."), field="next_step_due")


def _where(hcp: HCP, check_in: Location | None) -> tuple[HCO | None, int | None, bool]:
    hco = hcp.primary_hco
    if hco is None or check_in is None or hco.latitude is None or hco.longitude is None:
        return hco, None, False
    metres = distance_metres(check_in, Location(hco.latitude, hco.longitude))
    return hco, round(metres), metres > FAR_METRES


def visit_log(*, actor: Actor, draft: VisitDraft) -> tuple[Visit, bool]:
    """Store the visit (or find the one this form already stored); ``(visit, created)``."""
    rep = _rep(actor)
    key = draft.client_key.strip()
    stored = Visit.objects.filter(rep=rep, client_key=key).first()
    if stored is not None:
        return stored, False
    now = timezone.now()
    _validate(draft, now)
    hcp = rep_doctors(employee=rep).select_related("primary_hco").filter(pk=draft.hcp_id).first()
    if hcp is None:
        raise ApplicationError(
            _("This doctor is not in your territory: ask your manager for a territory change."),
            field="hcp",
        )
    products = list(Product.objects.filter(pk__in=[*draft.product_ids, *draft.stages]))
    if len({p.pk for p in products}) != len({*draft.product_ids, *draft.stages}):
        raise ApplicationError(_("Choose products from the list."), field="products")
    content = list(ContentItem.objects.filter(pk__in=draft.content_ids))
    if len(content) != len(set(draft.content_ids)) or not all(
        content_is_sendable(item=item) for item in content
    ):
        raise ApplicationError(_("Show only approved, valid content."), field="content")
    hco, metres, far = _where(hcp, draft.check_in)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                rep=rep,
                hcp=hcp,
                hco=hco,
                kind=draft.kind,
                started_at=draft.started_at,
                ended_at=draft.ended_at,
                check_in_lat=draft.check_in.lat if draft.check_in else None,
                check_in_lng=draft.check_in.lng if draft.check_in else None,
                check_out_lat=draft.check_out.lat if draft.check_out else None,
                check_out_lng=draft.check_out.lng if draft.check_out else None,
                distance_m=metres,
                far_from_hco=far,
                key_messages=draft.key_messages.strip(),
                feedback=draft.feedback.strip(),
                objections=draft.objections.strip(),
                next_step=draft.next_step.strip()[:200],
                next_step_due=draft.next_step_due,
                client_key=key,
            )
            visit.products.set([p for p in products if p.pk in set(draft.product_ids)])
            visit.content.set(content)
            by_id = {p.pk: p for p in products}
            for product_id, stage in draft.stages.items():
                adoption_set(
                    actor=actor,
                    hcp=hcp,
                    product=by_id[product_id],
                    stage=stage,
                    reason=_("Assessed in a visit"),
                )
            if visit.next_step:
                task_open(
                    assignee=rep,
                    hcp=hcp,
                    source=TaskSource.VISIT,
                    title=visit.next_step,
                    due_on=visit.next_step_due or timezone.localdate(),
                    dedupe_key=f"visit:{visit.pk}",
                    detail={"why": "visit_next_step", "visit": visit.pk},
                    visit=visit,
                )
            activity_record(
                module="fieldforce",
                events=[
                    {
                        "message_id": f"visit-{visit.pk}",
                        "hcp_id": hcp.pk,
                        "event": "Visit Logged",
                        "occurred_at": visit.started_at,
                        "channel": "visit" if visit.kind == VisitKind.FACE_TO_FACE else visit.kind,
                        "properties": {
                            "visit": visit.pk,
                            "kind": visit.kind,
                            "rep": rep.name,
                            "content": [item.code for item in content],
                        },
                    },
                    *(
                        {
                            "message_id": f"visit-{visit.pk}-shown-{item.pk}",
                            "hcp_id": hcp.pk,
                            "event": "Content Shown",
                            "occurred_at": visit.started_at,
                            "channel": "visit",
                            "content_ref": item.code,
                            "properties": {"visit": visit.pk, "title": item.title},
                        }
                        for item in content
                    ),
                ],
            )
            audit_append(
                actor=actor,
                action="visit.logged",
                object_type="visit",
                object_id=visit.pk,
                after=_visit_fields(visit),
            )
    except IntegrityError:
        # the same draft submitted twice at once: the other request stored it
        stored = Visit.objects.filter(rep=rep, client_key=key).first()
        if stored is None:
            raise
        return stored, False
    return visit, True


def _visit_fields(visit: Visit) -> dict[str, Any]:
    return {
        "hcp": visit.hcp_id,
        "kind": visit.kind,
        "started_at": visit.started_at.isoformat(),
        "distance_m": visit.distance_m,
        "far_from_hco": visit.far_from_hco,
        "key_messages": visit.key_messages,
        "feedback": visit.feedback,
        "objections": visit.objections,
        "next_step": visit.next_step,
    }


EDITABLE = ("key_messages", "feedback", "objections", "next_step")


def visit_edit_is_late(visit: Visit) -> bool:
    """Whether an edit now is a late one (after ``EDIT_WINDOW``), needing a reason."""
    return timezone.now() - visit.created_at > EDIT_WINDOW


def visit_edit(
    *, actor: Actor, visit: Visit, changes: Mapping[str, str], reason: str = ""
) -> Visit:
    """Change what was said in the visit; after ``EDIT_WINDOW`` only with a reason."""
    if employee_for_user(user=cast(User, actor)) != visit.rep:
        raise ApplicationError(_("Only the rep who logged a visit can edit it."), code="forbidden")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ApplicationError(_("This cannot be edited."), field=sorted(unknown)[0])
    late = visit_edit_is_late(visit)
    if late and not reason.strip():
        raise ApplicationError(
            _("This visit was logged more than 24 hours ago: say why you change it."),
            field="reason",
        )
    before = _visit_fields(visit)
    with transaction.atomic():
        for name, value in changes.items():
            setattr(visit, name, value.strip()[:200] if name == "next_step" else value.strip())
        visit.save(update_fields=[*changes, "updated_at"])
        audit_append(
            actor=actor,
            action="visit.edited_late" if late else "visit.edited",
            object_type="visit",
            object_id=visit.pk,
            before=before,
            after={**_visit_fields(visit), **({"reason": reason.strip()} if late else {})},
        )
    return visit


def task_open(
    *,
    assignee: Employee,
    hcp: HCP | None,
    source: str,
    title: str,
    due_on: dt.date,
    dedupe_key: str,
    detail: dict[str, Any] | None = None,
    signal_at: dt.datetime | None = None,
    visit: Visit | None = None,
) -> tuple[Task, bool]:
    """Open a task, or find the open one with the same key for this rep (``created`` False):
    a doctor's second signal adds to the open task instead of making another."""
    existing = Task.objects.filter(
        assignee=assignee, dedupe_key=dedupe_key, status=TaskStatus.OPEN
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            task = Task.objects.create(
                assignee=assignee,
                hcp=hcp,
                source=source,
                title=title[:200],
                detail=detail or {},
                due_on=due_on,
                dedupe_key=dedupe_key[:120],
                signal_at=signal_at,
                visit=visit,
            )
    except IntegrityError:
        task = Task.objects.get(assignee=assignee, dedupe_key=dedupe_key, status=TaskStatus.OPEN)
        return task, False
    return task, True


def task_close(*, actor: Actor, task: Task, done: bool = True) -> Task:
    """Mark the rep's task done (or cancelled); closing a closed task changes nothing."""
    if employee_for_user(user=cast(User, actor)) != task.assignee:
        raise ApplicationError(_("This task is someone else's."), code="forbidden")
    if task.status != TaskStatus.OPEN:
        return task
    with transaction.atomic():
        task.status = TaskStatus.DONE if done else TaskStatus.CANCELLED
        task.done_at = timezone.now()
        task.save(update_fields=["status", "done_at", "updated_at"])
        audit_append(
            actor=actor,
            action=f"task.{task.status}",
            object_type="task",
            object_id=task.pk,
            after={"title": task.title, "source": task.source},
        )
    return task


__all__ = [
    "EDITABLE",
    "EDIT_WINDOW",
    "FAR_METRES",
    "Location",
    "VisitDraft",
    "distance_metres",
    "task_close",
    "task_open",
    "visit_edit",
    "visit_edit_is_late",
    "visit_log",
]


def task_from_action(*, actor: Actor, employee: Employee, suggestion_id: int) -> Task:
    """The rep keeps one of today's next best actions as a task (due in three days); the same
    doctor and kind of action twice is one task."""
    suggestion = action_get(employee=employee, suggestion_id=suggestion_id)
    with transaction.atomic():
        task, created = task_open(
            assignee=employee,
            hcp=suggestion.hcp,
            source=TaskSource.NEXT_BEST_ACTION,
            title=suggestion.why()[:200],
            due_on=timezone.localdate() + dt.timedelta(days=NBA_TASK_DAYS),
            dedupe_key=f"nba:{suggestion.hcp_id}:{suggestion.action_type}",
            detail={"why": "nba", "suggestion": suggestion.pk},
        )
        if created:
            audit_append(
                actor=actor,
                action="task.from_action",
                object_type="task",
                object_id=task.pk,
                after={"suggestion": suggestion.pk, "hcp": suggestion.hcp_id},
            )
    return task
