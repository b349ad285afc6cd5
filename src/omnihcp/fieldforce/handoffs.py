"""Hot signals to the owning rep within a minute: when a doctor shows interest — reads a
content item to the end, scores ≥ 80 in a quiz, answers a survey, or a platform or virtual
rep sends "Visit Requested" — each rep who covers the doctor's hospital gets a task on their
today page and a WeCom app message (engagement's ``WeComChannel``, wechatpy).

The job (``handoffs_from_signals``, every minute) reads the Activity store after its cursor
(``SignalCursor``), so every event is looked at once; one open hot-signal task per rep and
doctor (``Task.dedupe_key`` "hot:<doctor>") gathers the doctor's later signals instead of
making another task and another message. A message that WeCom refused is recorded on the task
(``notify_error``) and not sent again: the task is on the page either way. A rep who left
(inactive employee) gets no task; the territory's active reps do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from omnihcp.fieldforce.models import SignalCursor, Task, TaskSource
from omnihcp.fieldforce.notify import task_notify
from omnihcp.fieldforce.services import task_open
from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Employee
from omnihcp.org.selectors import reps_covering_hco
from omnihcp.tracking.selectors import activity_last_id, hcp_events_after

CURSOR = "hot-signals"
SETTLE = dt.timedelta(seconds=3)
QUIZ_INTERESTED = 80.0
HOT_EVENTS = ("Content Read", "Quiz Answered", "Survey Answered", "Visit Requested")
MAX_SIGNALS = 10  # evidence kept on one task
RESEND_WITHIN = dt.timedelta(hours=1)  # a message not sent by then is no longer news


@dataclass
class HandoffResult:
    signals: int = 0
    tasks_opened: int = 0
    messages_sent: int = 0


def _is_hot(row: dict[str, Any]) -> bool:
    if row["event"] != "Quiz Answered":
        return True
    score = (row["properties"] or {}).get("score")
    return isinstance(score, int | float) and score >= QUIZ_INTERESTED


def _signal(row: dict[str, Any]) -> dict[str, Any]:
    properties = row["properties"] or {}
    return {
        "event": row["event"],
        "at": row["occurred_at"].isoformat(),
        "when": timezone.localtime(row["occurred_at"]).strftime("%m-%d %H:%M"),
        "content": row["content_ref"],
        **({"score": properties["score"]} if "score" in properties else {}),
        **({"title": str(properties["title"])[:100]} if properties.get("title") else {}),
    }


def _title(hcp: HCP, event: str) -> str:
    titles = {
        "Content Read": _("%(doctor)s read an article to the end"),
        "Quiz Answered": _("%(doctor)s scored well in a quiz"),
        "Survey Answered": _("%(doctor)s answered a survey"),
        "Visit Requested": _("%(doctor)s asked for a visit"),
    }
    return titles[event] % {"doctor": hcp.name}


def _notify(task: Task, employee: Employee) -> bool:
    with override(settings.LANGUAGE_CODE):
        text = _("Contact the doctor while the interest is fresh. Due %(day)s.") % {
            "day": task.due_on.isoformat()
        }
    return task_notify(task, employee, title=task.title, text=text)


def handoffs_from_signals(*, limit: int = 5000, settle: dt.timedelta = SETTLE) -> HandoffResult:
    """Read the signals after the cursor (received ``settle`` ago or earlier), open or extend
    the reps' tasks, message the reps."""
    result = HandoffResult()
    with transaction.atomic():
        cursor, _created = SignalCursor.objects.select_for_update().get_or_create(
            name=CURSOR, defaults={"last_id": activity_last_id(settle=settle)}
        )
        rows = hcp_events_after(
            last_id=cursor.last_id, events=HOT_EVENTS, settle=settle, limit=limit
        )
        upper = rows[-1]["id"] if len(rows) == limit else activity_last_id(settle=settle)
        hot: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if _is_hot(row):
                hot[row["hcp_id"]].append(row)
        result.signals = sum(len(v) for v in hot.values())
        doctors = HCP.objects.in_bulk(list(hot))
        today = timezone.localdate()
        for hcp_id, signals in hot.items():
            hcp = doctors.get(hcp_id)
            if hcp is None or hcp.primary_hco_id is None:
                continue
            reps = reps_covering_hco(hco_id=hcp.primary_hco_id).filter(is_active=True)
            evidence = [_signal(row) for row in signals]
            latest = signals[-1]["occurred_at"]
            for rep in reps.select_related("user"):  # a rep who left gets nothing
                task, created = task_open(
                    assignee=rep,
                    hcp=hcp,
                    source=TaskSource.HOT_SIGNAL,
                    title=_title(hcp, signals[-1]["event"]),
                    due_on=today + dt.timedelta(days=2),
                    dedupe_key=f"hot:{hcp.pk}",
                    detail={"why": "hot_signal", "signals": evidence[-MAX_SIGNALS:]},
                    signal_at=latest,
                )
                result.tasks_opened += created
                if not created:  # the doctor's open task gathers the new signals
                    kept = task.detail.get("signals", [])
                    task.detail = {**task.detail, "signals": [*kept, *evidence][-MAX_SIGNALS:]}
                    task.signal_at = max(filter(None, (task.signal_at, latest)))
                    task.save(update_fields=["detail", "signal_at", "updated_at"])
        cursor.last_id = max(cursor.last_id, upper)
        cursor.save(update_fields=["last_id", "updated_at"])
    # messages after the commit, so a slow WeCom never holds the cursor; a task whose message
    # was not sent yet (the worker stopped in between) is sent on the next run
    unsent = Task.objects.filter(
        source=TaskSource.HOT_SIGNAL,
        notified_at__isnull=True,
        notify_error="",
        created_at__gte=timezone.now() - RESEND_WITHIN,
    ).select_related("assignee__user")
    for task in unsent:
        result.messages_sent += _notify(task, task.assignee)
    return result


__all__ = ["HOT_EVENTS", "HandoffResult", "handoffs_from_signals"]
