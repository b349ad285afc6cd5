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


def task_notify(task: Task, employee: Employee, *, title: str, text: str) -> bool:
    """Send the rep a text card that opens the today page; True when WeCom accepted it."""
    userid = employee.user.wecom_userid if employee.user else ""
    problem = "" if userid else "no WeCom userid"
    if not wecom_configured():
        problem = "WeCom not configured"  # a laptop or the demo: the task page is enough
    if problem:
        task.notify_error = problem
        task.save(update_fields=["notify_error", "updated_at"])
        return False
    url = settings.OMNIHCP_BASE_URL.rstrip("/") + reverse("fieldforce:today")
    message = OutboundMessage(channel="wecom", to=userid, title=title, text=text, url=url)
    result = channel_for("wecom").send(message)
    if result.ok:
        task.notified_at = timezone.now()
    else:
        task.notify_error = f"{result.error_code} {result.error_text}".strip()[:200]
    task.save(update_fields=["notified_at", "notify_error", "updated_at"])
    return result.ok
