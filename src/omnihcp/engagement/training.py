"""Rep training (``models_training``): marketing or medical make a course of approved content
items and a quiz; marketing or a manager assigns it (to chosen reps, or to every rep hired in the
last N days); the rep reads each item and takes the quiz — scored like a doctor's quiz, every
attempt counted, the best score kept, passed at the course's mark; managers see completion and
scores. When a course gates sharing, ``training_gate.share_block`` refuses a rep's share of
the course's brand content until the rep has passed it (``delivery.delivery_share`` asks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.models import ContentItem, ContentKind
from omnihcp.engagement.models_training import Course, CourseAssignment, CourseItem
from omnihcp.engagement.questionnaire import answer_check
from omnihcp.engagement.selectors import content_is_sendable
from omnihcp.engagement.training_gate import LEARNERS
from omnihcp.governance.services import Actor, audit_append
from omnihcp.org.models import Employee, Role

AUTHORS = {Role.MARKETING, Role.MEDICAL, Role.ADMIN}
ASSIGNERS = AUTHORS | {Role.DISTRICT_MANAGER, Role.AREA_MANAGER, Role.REGIONAL_MANAGER}
MAX_ITEMS = 20


def _role(actor: Any) -> str:
    return str(getattr(actor, "role", ""))


def may_author(actor: Any) -> bool:
    return _role(actor) in AUTHORS


def may_assign(actor: Any) -> bool:
    return _role(actor) in ASSIGNERS


@dataclass(frozen=True)
class CourseDraft:
    title: str
    item_ids: Sequence[int]
    quiz_id: int | None
    description: str = ""
    product_id: int | None = None
    pass_score: int = 80
    gates_sharing: bool = False


def course_create(*, actor: Actor, draft: CourseDraft) -> Course:
    if not may_author(actor):
        raise ApplicationError(_("Only marketing and medical make courses."), code="denied")
    title = draft.title.strip()
    if not title:
        raise ApplicationError(_("This field is required."), field="title")
    if Course.objects.filter(title=title).exists():
        raise ApplicationError(_("A course of this title exists."), field="title")
    ids = list(dict.fromkeys(draft.item_ids))
    items = ContentItem.objects.in_bulk(ids)
    if not ids or len(ids) > MAX_ITEMS:
        raise ApplicationError(
            _("Choose from 1 to %(n)s content items.") % {"n": MAX_ITEMS}, field="items"
        )
    if any(i not in items or not content_is_sendable(item=items[i]) for i in ids):
        raise ApplicationError(_("Choose approved content that is valid."), field="items")
    quiz = ContentItem.objects.filter(pk=draft.quiz_id).first() if draft.quiz_id else None
    if quiz is None or quiz.kind != ContentKind.QUIZ or not content_is_sendable(item=quiz):
        raise ApplicationError(_("Choose an approved quiz."), field="quiz")
    if not 1 <= draft.pass_score <= 100:
        raise ApplicationError(_("Give a mark from 1 to 100."), field="pass_score")
    if draft.gates_sharing and draft.product_id is None:
        raise ApplicationError(
            _("Choose the brand whose sharing the course gates."), field="product"
        )
    with transaction.atomic():
        course = Course.objects.create(
            title=title,
            description=draft.description.strip()[:500],
            product_id=draft.product_id,
            quiz=quiz,
            pass_score=draft.pass_score,
            gates_sharing=draft.gates_sharing,
            created_by_id=actor.pk,
        )
        CourseItem.objects.bulk_create(
            CourseItem(course=course, item_id=i, position=n) for n, i in enumerate(ids, start=1)
        )
        audit_append(
            actor=actor,
            action="course.create",
            object_type="engagement.course",
            object_id=course.pk,
            after={"items": ids, "quiz": quiz.pk, "gates_sharing": draft.gates_sharing},
        )
    return course


def assignable(*, actor: Any) -> QuerySet[Employee]:
    """The reps an assigner may give a course to: a manager's own reps, or everyone's."""
    reps = Employee.objects.filter(position__in=LEARNERS, is_active=True)
    employee = getattr(actor, "employee", None)
    if _role(actor) in AUTHORS or employee is None:
        return reps.order_by("name")
    return reps.filter(org_node__path__startswith=employee.org_node.path).order_by("name")


def course_assign(
    *,
    actor: Actor,
    course: Course,
    employee_ids: Sequence[int] = (),
    hired_within_days: int | None = None,
    due_on: dt.date | None = None,
) -> int:
    """Assign the course to reps (chosen, and/or hired lately); reps who have it keep it."""
    if not may_assign(actor):
        raise ApplicationError(_("Only managers and marketing assign courses."), code="denied")
    if due_on is not None and due_on < timezone.localdate():
        raise ApplicationError(_("The due date has passed."), field="due_on")
    reps = assignable(actor=actor)
    chosen = set(reps.filter(pk__in=employee_ids).values_list("pk", flat=True))
    if len(chosen) != len(set(employee_ids)):
        raise ApplicationError(_("Choose reps of your team."), field="employees")
    if hired_within_days is not None:
        since = timezone.localdate() - dt.timedelta(days=hired_within_days)
        chosen |= set(reps.filter(hired_on__gte=since).values_list("pk", flat=True))
    if not chosen:
        raise ApplicationError(_("Choose at least one rep."), field="employees")
    with transaction.atomic():
        have = set(course.assignments.values_list("employee_id", flat=True))
        new = sorted(chosen - have)
        CourseAssignment.objects.bulk_create(
            CourseAssignment(course=course, employee_id=e, assigned_by_id=actor.pk, due_on=due_on)
            for e in new
        )
        audit_append(
            actor=actor,
            action="course.assign",
            object_type="engagement.course",
            object_id=course.pk,
            after={"employees": new, "due_on": due_on},
        )
    return len(new)


def my_assignments(*, employee: Employee) -> QuerySet[CourseAssignment]:
    return employee.courses.select_related("course").order_by("passed_at", "due_on", "id")


def assignment_get(*, employee: Employee, course_id: int) -> CourseAssignment:
    assignment = (
        CourseAssignment.objects.select_related("course__quiz__approved_version", "course__product")
        .filter(course_id=course_id, employee=employee)
        .first()
    )
    if assignment is None:
        raise NotFoundError(_("This course is not assigned to you."))
    return assignment


def item_read(*, assignment: CourseAssignment, item_id: int) -> ContentItem:
    """Open one of the course's items; it counts as read."""
    link = assignment.course.items.select_related("item__approved_version").filter(item_id=item_id)
    found = link.first()
    if found is None:
        raise NotFoundError(_("No such item in this course."))
    if item_id not in assignment.items_read:
        with transaction.atomic():
            locked = CourseAssignment.objects.select_for_update().get(pk=assignment.pk)
            if item_id not in locked.items_read:
                locked.items_read = [*locked.items_read, item_id]
                locked.save(update_fields=["items_read", "updated_at"])
            assignment.items_read = locked.items_read
    return found.item


@dataclass(frozen=True)
class QuizResult:
    score: float
    passed: bool
    wrong: list[Any]  # the questions answered wrongly, with their explanations


def quiz_submit(
    *, actor: Actor, assignment: CourseAssignment, values: Mapping[str, Sequence[str]]
) -> QuizResult:
    """Score an attempt; the quiz opens once every item has been read."""
    course = assignment.course
    total = course.items.count()
    if len(set(assignment.items_read)) < total:
        raise ApplicationError(_("Read every item of the course first."), field="quiz")
    version = course.quiz.approved_version if course.quiz else None
    questions = list(version.questions.all()) if version else []
    scored = [q for q in questions if q.scored]
    if not scored:
        raise ApplicationError(_("This course's quiz has no scored question."), field="quiz")
    checked = [(q, answer_check(q, values.get(f"q{q.position}", ()))) for q in questions]
    right = sum(1 for q, a in checked if q.scored and a is not None and a.correct)
    score = round(100 * right / len(scored), 1)
    passed = score >= course.pass_score
    with transaction.atomic():
        locked = CourseAssignment.objects.select_for_update().get(pk=assignment.pk)
        locked.attempts += 1
        locked.best_score = max(score, locked.best_score or 0)
        if passed and locked.passed_at is None:
            locked.passed_at = timezone.now()
        locked.save(update_fields=["attempts", "best_score", "passed_at", "updated_at"])
        audit_append(
            actor=actor,
            action="course.attempt",
            object_type="engagement.course",
            object_id=course.pk,
            after={"score": score, "passed": passed},
        )
    assignment.attempts, assignment.best_score, assignment.passed_at = (
        locked.attempts,
        locked.best_score,
        locked.passed_at,
    )
    wrong = [q for q, a in checked if q.scored and (a is None or not a.correct)]
    return QuizResult(score, passed, wrong)


@dataclass(frozen=True)
class CourseProgress:
    assignment: CourseAssignment
    items: int

    @property
    def read(self) -> int:
        return len(set(self.assignment.items_read))


def course_progress(*, course: Course, employees: QuerySet[Employee]) -> list[CourseProgress]:
    items = course.items.count()
    rows = course.assignments.filter(employee__in=employees).select_related("employee")
    return [CourseProgress(a, items) for a in rows.order_by("employee__name")]


def training_summary(*, employee_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per employee: (courses passed, courses assigned)."""
    summary: dict[int, tuple[int, int]] = {}
    rows = CourseAssignment.objects.filter(employee_id__in=employee_ids).values_list(
        "employee_id", "passed_at"
    )
    for employee_id, passed_at in rows:
        done, total = summary.get(employee_id, (0, 0))
        summary[employee_id] = (done + (passed_at is not None), total + 1)
    return summary
