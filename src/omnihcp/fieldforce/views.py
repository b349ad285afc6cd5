"""The rep's pages: today (hot leads, due tasks, next best actions, today's visits — each row
opens the doctor's 360 page in one tap), the visit form (a phone form that keeps its draft on
the device and submits it once when the network is back: ``static/fieldforce/visit.js``), a
visit and its late edit, and closing a task in place (htmx)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.selectors import ContentFilter, content_list
from omnihcp.engagement.training import my_assignments
from omnihcp.fieldforce import callplans, selectors, services, team
from omnihcp.fieldforce.models import Task, VisitKind
from omnihcp.masterdata.selectors import hcp_get
from omnihcp.masterdata.selectors_identity import hcp_with_merged_ids
from omnihcp.org.models import Employee, Role
from omnihcp.org.permissions import request_scope
from omnihcp.org.selectors import employee_for_user, product_list
from omnihcp.profiles.models import AdoptionStage
from omnihcp.profiles.nba import rep_actions_today

NBA_ON_TODAY = 5
PLANNED_ON_TODAY = 8


def _employee(request: HttpRequest) -> Employee | None:
    return employee_for_user(user=request.user)  # type: ignore[arg-type]


@login_required
def today(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    context: dict[str, Any] = {"employee": employee}
    if employee is not None:
        midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
        plan = callplans.rep_plan(rep=employee)
        gaps = callplans.call_plan_gaps(plan=plan, limit=PLANNED_ON_TODAY) if plan else None
        context |= {
            "progress": gaps,
            "planned": gaps.rows if gaps else [],
            "hot": list(selectors.rep_hot_leads(employee=employee)[:20]),
            "due": list(selectors.rep_tasks_due(employee=employee)[:20]),
            "actions": rep_actions_today(employee=employee, limit=NBA_ON_TODAY),
            "visits": list(selectors.rep_visits(employee=employee, since=midnight)),
            "courses": list(my_assignments(employee=employee).filter(passed_at__isnull=True)[:5]),
        }
    return render(request, "fieldforce/today.html", context)


def _float(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ApplicationError(_("This is not a number."), field=name) from None


def _location(data: Any, prefix: str) -> services.Location | None:
    lat, lng = _float(data.get(f"{prefix}_lat"), prefix), _float(data.get(f"{prefix}_lng"), prefix)
    if lat is None or lng is None:
        return None
    return services.Location(lat, lng)


def _moment(value: str, name: str, *, required: bool) -> dt.datetime | None:
    if not value:
        if required:
            raise ApplicationError(_("Give the time."), field=name)
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise ApplicationError(_("This is not a date and time."), field=name)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _int(value: str) -> int | None:
    """A form's id field, or None when it is empty or not a number."""
    return int(value) if value.strip().isdigit() else None


def _ids(data: Any, name: str) -> list[int]:
    try:
        return [int(v) for v in data.getlist(name) if v]
    except ValueError:
        raise ApplicationError(_("Choose from the list."), field=name) from None


def _draft(data: Any) -> services.VisitDraft:
    hcp_id = data.get("hcp", "")
    if not hcp_id.isdigit():
        raise ApplicationError(_("Choose a doctor."), field="hcp")
    due = data.get("next_step_due", "")
    next_step_due = parse_date(due) if due else None
    if due and next_step_due is None:
        raise ApplicationError(_("This is not a date."), field="next_step_due")
    stages = {
        int(key.removeprefix("stage_")): value
        for key, value in data.items()
        if key.startswith("stage_") and key.removeprefix("stage_").isdigit() and value
    }
    started = _moment(data.get("started_at", ""), "started_at", required=True)
    if started is None:  # required: _moment has refused an empty value already
        raise ApplicationError(_("Give the time."), field="started_at")
    return services.VisitDraft(
        hcp_id=int(hcp_id),
        kind=data.get("kind", ""),
        started_at=started,
        ended_at=_moment(data.get("ended_at", ""), "ended_at", required=False),
        client_key=data.get("client_key", ""),
        check_in=_location(data, "check_in"),
        check_out=_location(data, "check_out"),
        product_ids=_ids(data, "products"),
        content_ids=_ids(data, "content"),
        key_messages=data.get("key_messages", ""),
        feedback=data.get("feedback", ""),
        objections=data.get("objections", ""),
        stages=stages,
        next_step=data.get("next_step", ""),
        next_step_due=next_step_due,
    )


def _form_context(request: HttpRequest, hcp: Any, **extra: Any) -> dict[str, Any]:
    return {
        "hcp": hcp,
        "kinds": VisitKind.choices,
        "products": list(product_list()),
        "stages": AdoptionStage.choices,
        "content": list(content_list(filters=ContentFilter(sendable=True)).order_by("title")[:50]),
        "client_key": uuid.uuid4().hex,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


@login_required
def visit_new(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    return render(request, "fieldforce/visit_form.html", _form_context(request, hcp))


@login_required
@require_POST
def visit_submit(request: HttpRequest) -> HttpResponse:
    """The form's POST: from the page, or from the device's outbox (``Accept: JSON``)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        visit, created = services.visit_log(actor=request.user, draft=_draft(request.POST))
    except ApplicationError as exc:
        if wants_json:
            return JsonResponse(
                {"error": exc.message, "field": exc.field},
                status=exc.status,
                json_dumps_params={"ensure_ascii": False},
            )
        hcp_id = request.POST.get("hcp", "")
        if not hcp_id.isdigit():
            raise
        hcp = hcp_get(scope=request_scope(request), hcp_id=int(hcp_id))
        context = _form_context(request, hcp, error=exc.message, field=exc.field, data=request.POST)
        context["client_key"] = request.POST.get("client_key") or context["client_key"]
        return render(request, "fieldforce/visit_form.html", context, status=400)
    if wants_json:
        return JsonResponse({"visit": visit.pk, "created": created}, status=201 if created else 200)
    return redirect("fieldforce:visit", visit_id=visit.pk)


@login_required
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise NotFoundError(_("No such visit."))
    visit = selectors.visit_get(employee=employee, visit_id=visit_id)
    context: dict[str, Any] = {"visit": visit, "late": services.visit_edit_is_late(visit)}
    if request.method == "POST":
        changes = {k: request.POST.get(k, "") for k in services.EDITABLE if k in request.POST}
        try:
            services.visit_edit(
                actor=request.user,
                visit=visit,
                changes=changes,
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            context |= {"error": exc.message, "field": exc.field}
            return render(request, "fieldforce/visit_detail.html", context, status=400)
        return redirect("fieldforce:visit", visit_id=visit.pk)
    return render(request, "fieldforce/visit_detail.html", context)


@login_required
@require_POST
def task_close(request: HttpRequest, task_id: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise NotFoundError(_("No such task."))
    task: Task = selectors.task_get(employee=employee, task_id=task_id)
    services.task_close(
        actor=request.user,
        task=task,
        done=request.POST.get("outcome") != "cancel",
    )
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("fieldforce:today")
    return render(request, "fieldforce/_task.html", {"task": task})


@login_required
def hcp_visits(request: HttpRequest, hcp_id: int) -> HttpResponse:
    """The 360 page's visits section (loaded by htmx): the doctor's latest visits by any rep,
    with feedback — the history stays with the doctor, not with the rep who left."""
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    context = {
        "hcp": hcp,
        "visits": selectors.hcp_visits(hcp_ids=hcp_with_merged_ids(hcp.pk)),
        "can_log": _employee(request) is not None,
    }
    return render(request, "fieldforce/_hcp_visits.html", context)


@login_required
def plan_mine(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if employee is not None and employee.position != Role.REP:
        team = callplans.team_plans(manager=employee)
        return render(request, "fieldforce/plan_team.html", {"team": team})
    plan = callplans.rep_plan(rep=employee) if employee is not None else None
    if plan is None:
        return render(request, "fieldforce/plan.html", {"progress": None})
    return redirect("fieldforce:plan", plan_id=plan.pk)


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan, editable = callplans.plan_get(actor=request.user, plan_id=plan_id)
    context: dict[str, Any] = {"editable": editable}
    if request.method == "POST" and editable:
        line_id = request.POST.get("line", "")
        try:
            callplans.call_plan_edit(
                actor=request.user,
                plan=plan,
                line_id=int(line_id) if line_id.isdigit() else 0,
                planned=request.POST.get("planned", ""),
            )
        except ApplicationError as exc:
            if isinstance(exc, NotFoundError):
                raise
            context |= {"error": exc.message, "error_line": line_id}
    context["progress"] = callplans.call_plan_progress(plan=plan)
    status = 400 if "error" in context else 200
    return render(request, "fieldforce/plan.html", context, status=status)


def _manager(request: HttpRequest) -> Employee:
    employee = _employee(request)
    if employee is None or employee.position == Role.REP:
        raise NotFoundError(_("The team page is for managers."))
    return employee


@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    rows = team.team_rows(manager=manager)
    context = {
        "manager": manager,
        "rows": rows,
        "groups": team.team_groups(rows, manager=manager),
        "tiers": team.TIERS,
        "follow_days": team.FOLLOW_DAYS,
    }
    return render(request, "fieldforce/team.html", context)


@login_required
def team_rep(request: HttpRequest, rep_id: int) -> HttpResponse:
    manager = _manager(request)
    rep = team.team_rep(manager=manager, rep_id=rep_id)
    ladder, doctors = team.rep_ladder(rep=rep)
    context: dict[str, Any] = {
        "rep": rep,
        "visits": team.rep_recent_visits(rep=rep),
        "ladder": ladder,
        "doctors": doctors,
        "stages": AdoptionStage.choices,
    }
    product, stage = request.GET.get("product", ""), request.GET.get("stage", "")
    if product.isdigit() and stage in AdoptionStage.values:
        context["step"] = {
            "stage": AdoptionStage(stage).label,
            "product": next((r.product for r in ladder if r.product_id == int(product)), ""),
            "doctors": team.rep_ladder_doctors(rep=rep, product_id=int(product), stage=stage)[:100],
        }
    if request.method == "POST":
        try:
            task = team.nudge_send(
                actor=request.user, manager=manager, rep=rep, text=request.POST.get("text", "")
            )
        except ApplicationError as exc:
            context |= {"error": exc.message, "text": request.POST.get("text", "")}
            return render(request, "fieldforce/team_rep.html", context, status=400)
        context["nudged"] = task
    plan = callplans.rep_plan(rep=rep)
    context["progress"] = callplans.call_plan_progress(plan=plan) if plan else None
    return render(request, "fieldforce/team_rep.html", context)


@login_required
@require_POST
def task_from_action(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """ "Add to my tasks" on a next best action of the today page (htmx swaps the row)."""
    employee = _employee(request)
    if employee is None:
        raise NotFoundError(_("No such suggestion."))
    task = services.task_from_action(
        actor=request.user, employee=employee, suggestion_id=suggestion_id
    )
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("fieldforce:today")
    return render(request, "fieldforce/_task.html", {"task": task})
