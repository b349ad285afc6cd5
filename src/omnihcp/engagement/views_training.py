"""Rep training pages (``training.py``): a rep's courses, an item to read, the quiz and its
result; marketing and medical make courses; managers and marketing assign them and follow
completion and scores."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement import training
from omnihcp.engagement.models import ContentItem, ContentKind
from omnihcp.engagement.models_training import Course
from omnihcp.engagement.selectors import ContentFilter, content_list
from omnihcp.org.selectors import employee_for_user, product_list


def _employee(request: HttpRequest) -> Any:
    return employee_for_user(user=request.user)  # type: ignore[arg-type]


def _ints(values: list[str], field: str) -> list[int]:
    try:
        return [int(v) for v in values if v]
    except ValueError:
        raise ApplicationError(_("Choose from the list."), field=field) from None


@login_required
def training_home(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    mine = list(training.my_assignments(employee=employee)) if employee else []
    courses = (
        list(Course.objects.select_related("product").order_by("title"))
        if training.may_assign(request.user)
        else []
    )
    context = {"mine": mine, "courses": courses, "can_author": training.may_author(request.user)}
    return render(request, "engagement/training.html", context)


@login_required
def course_new(request: HttpRequest) -> HttpResponse:
    if not training.may_author(request.user):
        raise NotFoundError(_("No such page."))
    sendable = content_list(filters=ContentFilter(sendable=True)).order_by("title")
    context: dict[str, Any] = {
        "content": sendable.exclude(kind=ContentKind.QUIZ)[:200],
        "quizzes": sendable.filter(kind=ContentKind.QUIZ)[:100],
        "products": product_list(),
        "data": request.POST,
    }
    if request.method == "POST":
        data = request.POST
        try:
            mark = data.get("pass_score", "80").strip()
            if not mark.isdigit():
                raise ApplicationError(_("This is not a number."), field="pass_score")
            product = data.get("product", "")
            course = training.course_create(
                actor=request.user,
                draft=training.CourseDraft(
                    title=data.get("title", ""),
                    description=data.get("description", ""),
                    item_ids=_ints(data.getlist("items"), "items"),
                    quiz_id=int(data["quiz"]) if data.get("quiz", "").isdigit() else None,
                    product_id=int(product) if product.isdigit() else None,
                    pass_score=int(mark),
                    gates_sharing=data.get("gates_sharing") == "on",
                ),
            )
        except ApplicationError as exc:
            context |= {"error": exc.message, "field": exc.field}
            return render(request, "engagement/course_form.html", context, status=400)
        return redirect("engagement:course", course_id=course.pk)
    return render(request, "engagement/course_form.html", context)


def _course(course_id: int) -> Course:
    course = Course.objects.select_related("product", "quiz").filter(pk=course_id).first()
    if course is None:
        raise NotFoundError(_("No such course."))
    return course


@login_required
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course(course_id)
    employee = _employee(request)
    context: dict[str, Any] = {
        "course": course,
        "items": course.items.select_related("item"),
        "today": timezone.localdate(),
    }
    if training.may_assign(request.user):
        reps = training.assignable(actor=request.user)
        if request.method == "POST":
            data = request.POST
            days = data.get("hired_within_days", "").strip()
            due = data.get("due_on", "")
            try:
                if days and not days.isdigit():
                    raise ApplicationError(_("This is not a number."), field="hired_within_days")
                if due and parse_date(due) is None:
                    raise ApplicationError(_("This is not a date."), field="due_on")
                added = training.course_assign(
                    actor=request.user,
                    course=course,
                    employee_ids=_ints(data.getlist("employees"), "employees"),
                    hired_within_days=int(days) if days else None,
                    due_on=parse_date(due) if due else None,
                )
                context["notice"] = _("Assigned to %(n)s more reps.") % {"n": added}
            except ApplicationError as exc:
                context |= {"error": exc.message, "field": exc.field}
        context |= {
            "reps": reps[:500],
            "progress": training.course_progress(course=course, employees=reps),
        }
    if employee is not None and course.assignments.filter(employee=employee).exists():
        context["assignment"] = training.assignment_get(employee=employee, course_id=course.pk)
    elif not training.may_assign(request.user):
        raise NotFoundError(_("This course is not assigned to you."))
    status = 400 if "error" in context else 200
    return render(request, "engagement/course.html", context, status=status)


def _assignment(request: HttpRequest, course_id: int) -> Any:
    employee = _employee(request)
    if employee is None:
        raise NotFoundError(_("This course is not assigned to you."))
    return training.assignment_get(employee=employee, course_id=course_id)


@login_required
def course_item(request: HttpRequest, course_id: int, item_id: int) -> HttpResponse:
    assignment = _assignment(request, course_id)
    item: ContentItem = training.item_read(assignment=assignment, item_id=item_id)
    context = {"course": assignment.course, "item": item, "version": item.approved_version}
    return render(request, "engagement/course_item.html", context)


@login_required
@require_POST
def course_quiz(request: HttpRequest, course_id: int) -> HttpResponse:
    assignment = _assignment(request, course_id)
    course = assignment.course
    context: dict[str, Any] = {"course": course, "items": course.items.select_related("item")}
    values = {k: request.POST.getlist(k) for k in request.POST if k.startswith("q")}
    try:
        context["result"] = training.quiz_submit(
            actor=request.user, assignment=assignment, values=values
        )
    except ApplicationError as exc:
        context |= {"error": exc.message, "field": exc.field}
    context["assignment"] = assignment
    status = 400 if "error" in context else 200
    return render(request, "engagement/course.html", context, status=status)
