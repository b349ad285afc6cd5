"""Next best actions: the rep's list of today (whom, how, with what, why), their feedback on
each row (done / not now / not relevant with a reason, answered in place with htmx), and the
feedback report per rep and per suggestion type for managers and marketing."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.org.models import Employee, Role
from omnihcp.org.permissions import request_scope
from omnihcp.org.selectors import employee_for_user
from omnihcp.profiles import nba


@login_required
def nba_list(request: HttpRequest) -> HttpResponse:
    employee = employee_for_user(user=request.user)  # type: ignore[arg-type]
    rows = nba.rep_actions(employee=employee) if employee is not None else []
    context = {"employee": employee, "rows": rows, "reasons": nba.NOT_RELEVANT_REASONS}
    return render(request, "profiles/nba_list.html", context)


@login_required
@require_POST
def nba_feedback(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    employee = employee_for_user(user=request.user)  # type: ignore[arg-type]
    if employee is None:
        raise NotFoundError(_("No such suggestion."))
    error = ""
    try:
        row = nba.action_feedback(
            employee=employee,
            suggestion_id=suggestion_id,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFoundError):
            raise
        row, error = nba.action_get(employee=employee, suggestion_id=suggestion_id), exc.message
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("profiles:nba")
    context = {"row": row, "error": error, "reasons": nba.NOT_RELEVANT_REASONS}
    return render(request, "profiles/_nba_row.html", context, status=400 if error else 200)


def _reps(request: HttpRequest) -> list[Employee]:
    scope = request_scope(request)
    reps = Employee.objects.filter(position__in=(Role.REP, Role.VIRTUAL_REP))
    if scope.hco_ids is not None:
        employee = employee_for_user(user=request.user)  # type: ignore[arg-type]
        if employee is None:
            return []
        reps = reps.filter(org_node__path__startswith=employee.org_node.path)
    return list(reps)


@login_required
def nba_report(request: HttpRequest) -> HttpResponse:
    days = 90 if request.GET.get("days") == "90" else 30
    reps = _reps(request)
    by_rep, by_type = nba.action_rates(reps=reps, days=days)
    context = {
        "days": days,
        "by_rep": by_rep,
        "by_type": by_type,
        "content": nba.content_open_rate(days=days),
    }
    return render(request, "profiles/nba_report.html", context)
