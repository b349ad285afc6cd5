"""Messages that come to a rep without anyone pressing a button: a data steward's decision on
the rep's data change request (a task, and a WeCom message), and the morning reminder of the
tasks due today.

DCR outcomes: every minute the job looks at the requests decided in the last two days and opens
a task (``dcr:<id>``) for the requester's employee record unless one was ever made for that
request, so a task the rep closed is not opened again and a restart sends nothing twice.
Reminders: once a day, from ``REMINDER_HOUR`` local time, one WeCom message per rep with open
tasks due today or overdue; ``SignalCursor("reminders")`` holds the last day sent.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.fieldforce.models import SignalCursor, Task, TaskSource, TaskStatus
from omnihcp.fieldforce.notify import task_notify, wecom_send
from omnihcp.fieldforce.services import task_open
from omnihcp.masterdata.models_dcr import DataChangeRequest
from omnihcp.org.models import Employee

DCR_LOOK_BACK = dt.timedelta(days=2)
DCR_TASK_DAYS = 3
REMINDER_HOUR = 8


def _dcr_title(dcr: DataChangeRequest) -> str:
    name = dcr.name
    if dcr.status == DataChangeRequest.Status.APPROVED:
        if dcr.kind == DataChangeRequest.Kind.NEW_HCP:
            return _("%(name)s is now in the master data: plan a first visit.") % {"name": name}
        return _("Your change to %(name)s was approved.") % {"name": name}
    return _("Your request about %(name)s was rejected: %(reason)s") % {
        "name": name,
        "reason": dcr.reason or "—",
    }


def dcr_outcomes_notify(*, now: dt.datetime | None = None) -> int:
    """A task and a WeCom message per decided DCR not told yet: how many tasks opened."""
    now = now or timezone.now()
    decided = DataChangeRequest.objects.filter(
        status__in=(DataChangeRequest.Status.APPROVED, DataChangeRequest.Status.REJECTED),
        decided_at__gte=now - DCR_LOOK_BACK,
    ).select_related("hcp", "result_hcp")
    keys = {f"dcr:{d.pk}": d for d in decided}
    told = set(
        Task.objects.filter(source=TaskSource.DCR, dedupe_key__in=list(keys)).values_list(
            "dedupe_key", flat=True
        )
    )
    employees = {
        e.user_id: e
        for e in Employee.objects.filter(
            user_id__in=[d.requested_by_id for d in keys.values()], is_active=True
        ).select_related("user")
    }
    opened = 0
    for key, dcr in keys.items():
        employee = employees.get(dcr.requested_by_id)
        if key in told or employee is None:
            continue
        title = _dcr_title(dcr)
        with transaction.atomic():
            task, created = task_open(
                assignee=employee,
                hcp=dcr.result_hcp or dcr.hcp,
                source=TaskSource.DCR,
                title=title,
                due_on=timezone.localdate(now) + dt.timedelta(days=DCR_TASK_DAYS),
                dedupe_key=key,
                detail={"why": "dcr", "dcr": dcr.pk, "status": dcr.status},
            )
        if created:
            opened += 1
            task_notify(task, employee, title=_("Data change request"), text=title)
    return opened


def task_reminders_send(*, now: dt.datetime | None = None) -> int:
    """The morning WeCom reminder of today's and overdue tasks, once a day: reps reminded."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    if now.hour < REMINDER_HOUR:
        return 0
    with transaction.atomic():
        cursor, _created = SignalCursor.objects.select_for_update().get_or_create(name="reminders")
        if cursor.last_id >= today.toordinal():
            return 0
        cursor.last_id = today.toordinal()
        cursor.save(update_fields=["last_id", "updated_at"])
    due: dict[int, list[Task]] = {}
    open_due = Task.objects.filter(status=TaskStatus.OPEN, due_on__lte=today).only(
        "assignee_id", "title", "due_on"
    )
    for task in open_due.order_by("assignee_id", "due_on", "id"):
        due.setdefault(task.assignee_id, []).append(task)
    employees = Employee.objects.filter(pk__in=list(due), is_active=True).select_related("user")
    sent = 0
    for employee in employees:
        tasks = due[employee.pk]
        text = _("%(n)s tasks due today (%(overdue)s overdue), first: %(title)s") % {
            "n": len(tasks),
            "overdue": sum(t.due_on < today for t in tasks),
            "title": tasks[0].title,
        }
        sent += not wecom_send(employee, title=_("Today's tasks"), text=text)
    return sent
