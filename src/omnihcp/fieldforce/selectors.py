"""Reads of field force: what a rep's today page shows, a visit and a task of the rep."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.fieldforce.models import Task, TaskSource, TaskStatus, Visit
from omnihcp.org.models import Employee

DUE_AHEAD = dt.timedelta(days=2)
HOT_SOURCES = (TaskSource.HOT_SIGNAL, TaskSource.VIRTUAL_REP)


def rep_tasks_due(*, employee: Employee, today: dt.date | None = None) -> QuerySet[Task]:
    """The rep's open tasks due by the day after tomorrow (hot leads first), oldest due first."""
    today = today or timezone.localdate()
    return (
        Task.objects.filter(
            assignee=employee, status=TaskStatus.OPEN, due_on__lte=today + DUE_AHEAD
        )
        .exclude(source__in=HOT_SOURCES)
        .select_related("hcp__primary_hco")
        .order_by("due_on", "-created_at")
    )


def rep_open_tasks(*, employee: Employee) -> QuerySet[Task]:
    """Every open task of the rep, soonest due first."""
    return Task.objects.filter(assignee=employee, status=TaskStatus.OPEN).order_by(
        "due_on", "-created_at"
    )


def rep_hot_leads(*, employee: Employee) -> QuerySet[Task]:
    """The rep's open hot leads — a doctor's own signals, or a virtual rep's hand-off — the
    latest first."""
    return (
        Task.objects.filter(assignee=employee, status=TaskStatus.OPEN, source__in=HOT_SOURCES)
        .select_related("hcp__primary_hco")
        .order_by("-signal_at")
    )


def rep_visits(*, employee: Employee, since: dt.datetime) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(rep=employee, started_at__gte=since)
        .select_related("hcp", "hco")
        .order_by("-started_at")
    )


def hcp_visits(*, hcp_ids: list[int], limit: int = 5) -> list[Visit]:
    """The doctor's latest visits by any rep (the history stays with the doctor)."""
    return list(
        Visit.objects.filter(hcp_id__in=hcp_ids)
        .select_related("rep")
        .prefetch_related("products")
        .order_by("-started_at")[:limit]
    )


def visit_get(*, employee: Employee, visit_id: int) -> Visit:
    visit = (
        Visit.objects.filter(pk=visit_id, rep=employee)
        .select_related("hcp", "hco")
        .prefetch_related("products", "content")
        .first()
    )
    if visit is None:
        raise NotFoundError(_("No such visit."))
    return visit


def task_get(*, employee: Employee, task_id: int) -> Task:
    task = Task.objects.filter(pk=task_id, assignee=employee).select_related("hcp").first()
    if task is None:
        raise NotFoundError(_("No such task."))
    return task
