"""A WeCom app message to a rep about a task (engagement's ``WeComChannel``, wechatpy): sent
when WeCom is configured and the rep has a WeCom userid; the outcome is kept on the task
(``notified_at``, or ``notify_error``), so a task is never lost when a message is."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from omnihcp.engagement.channels import OutboundMessage, channel_for
from omnihcp.fieldforce.models import Task
from omnihcp.org.models import Employee
from omnihcp.org.wecom import wecom_configured


def wecom_send(employee: Employee, *, title: str, text: str, url: str = "") -> str:
    """Send an employee a WeCom text card (opening the today page unless ``url`` says where);
    the problem as text ("" when WeCom accepted it)."""
    userid = employee.user.wecom_userid if employee.user else ""
    if not wecom_configured():
        return "WeCom not configured"  # a laptop or the demo: the pages are enough
    if not userid:
        return "no WeCom userid"
    target = settings.OMNIHCP_BASE_URL.rstrip("/") + (url or reverse("fieldforce:today"))
    message = OutboundMessage(channel="wecom", to=userid, title=title, text=text, url=target)
    result = channel_for("wecom").send(message)
    return "" if result.ok else f"{result.error_code} {result.error_text}".strip()[:200]


def task_notify(task: Task, employee: Employee, *, title: str, text: str) -> bool:
    """Tell the rep about a task; the outcome is kept on the task. True when WeCom took it."""
    problem = wecom_send(employee, title=title, text=text)
    if problem:
        task.notify_error = problem
    else:
        task.notified_at = timezone.now()
    task.save(update_fields=["notified_at", "notify_error", "updated_at"])
    return not problem
