"""``omnihcp scheduler``: periodic jobs are enqueued when due, once, even across restarts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from omnihcp.config.schedule import SCHEDULE
from omnihcp.core.management.commands.scheduler import due_entries, enqueue_due

pytestmark = pytest.mark.django_db

SNAPSHOT = "omnihcp.masterdata.tasks.take_quality_snapshot_task"
EXPIRY = "omnihcp.masterdata.tasks.expire_abandoned_uploads_task"
ROLLUP = "omnihcp.tracking.tasks.roll_up_activity_task"
WINDOWS = "omnihcp.tracking.tasks.rebuild_activity_windows_task"
HANDOFFS = "omnihcp.fieldforce.tasks.handoffs_from_signals_task"
PLANS = "omnihcp.fieldforce.tasks.call_plans_task"
HANDOVERS = "omnihcp.fieldforce.tasks.handovers_apply_task"
DCR_OUTCOMES = "omnihcp.fieldforce.tasks.dcr_outcomes_task"
REMINDERS = "omnihcp.fieldforce.tasks.task_reminders_task"
NBA_LISTS = "omnihcp.profiles.tasks.nba_lists_refresh_task"
JUDGE = "omnihcp.fieldforce.tasks.visits_judge_task"
CONTENT = "omnihcp.engagement.tasks.expire_content_task"
CAMPAIGNS = "omnihcp.engagement.tasks.send_campaigns_task"
TAGS = "omnihcp.profiles.tasks.tags_follow_activity_task"
ALL_TAGS = "omnihcp.profiles.tasks.tags_recompute_all_task"
TIERS = "omnihcp.profiles.tasks.tiers_compute_task"
NBC = "omnihcp.profiles.tasks.nbc_train_task"


@dataclass(frozen=True)
class Entry:
    task_path: str
    every_seconds: int
    reason: str = "test"


def test_the_schedule_lists_each_periodic_job_with_its_interval() -> None:
    assert {(e.task_path, e.every_seconds) for e in SCHEDULE} == {
        (SNAPSHOT, 24 * 3600),
        (EXPIRY, 3600),
        (ROLLUP, 60),
        (WINDOWS, 300),
        (HANDOFFS, 15),
        (PLANS, 24 * 3600),
        (HANDOVERS, 3600),
        (DCR_OUTCOMES, 60),
        (REMINDERS, 900),
        (NBA_LISTS, 900),
        (JUDGE, 300),
        (NBC, 24 * 3600),
        (CONTENT, 3600),
        (CAMPAIGNS, 60),
        (TAGS, 60),
        (ALL_TAGS, 24 * 3600),
        (TIERS, 24 * 3600),
    }
    assert all(e.reason for e in SCHEDULE)


def test_a_task_is_due_when_never_run_or_its_interval_has_passed() -> None:
    now = timezone.now()
    hourly, daily, fresh = Entry("a", 3600), Entry("b", 86400), Entry("c", 60)
    last = {
        "a": now - dt.timedelta(minutes=61),
        "b": now - dt.timedelta(hours=23),
    }

    due = due_entries([hourly, daily, fresh], now=now, last=last)

    assert [e.task_path for e in due] == ["a", "c"]


def test_due_tasks_are_enqueued_once_and_not_again_before_their_interval() -> None:
    first = enqueue_due(SCHEDULE)
    again = enqueue_due(SCHEDULE)
    later = enqueue_due(SCHEDULE, now=timezone.now() + dt.timedelta(minutes=61))

    assert sorted(first) == sorted(
        [
            SNAPSHOT,
            EXPIRY,
            ROLLUP,
            WINDOWS,
            HANDOFFS,
            PLANS,
            HANDOVERS,
            DCR_OUTCOMES,
            REMINDERS,
            NBA_LISTS,
            JUDGE,
            CONTENT,
            CAMPAIGNS,
            TAGS,
            ALL_TAGS,
            TIERS,
            NBC,
        ]
    )
    assert again == []
    assert sorted(later) == sorted(
        [
            EXPIRY,
            ROLLUP,
            WINDOWS,
            HANDOFFS,
            HANDOVERS,
            DCR_OUTCOMES,
            REMINDERS,
            NBA_LISTS,
            JUDGE,
            CONTENT,
            CAMPAIGNS,
            TAGS,
        ]
    )
    assert DBTaskResult.objects.filter(task_path=SNAPSHOT).count() == 1
    assert DBTaskResult.objects.filter(task_path=EXPIRY).count() == 2


def test_once_enqueues_what_is_due_and_a_restart_does_not_run_it_twice() -> None:
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    restart = StringIO()
    call_command("scheduler", "--once", stdout=restart)

    assert f"Enqueued {SNAPSHOT}" in out.getvalue()
    assert f"Enqueued {EXPIRY}" in out.getvalue()
    assert "Enqueued" not in restart.getvalue()
    assert DBTaskResult.objects.filter(task_path__in=[SNAPSHOT, EXPIRY]).count() == 2


def test_the_enqueued_tasks_run() -> None:
    from omnihcp.masterdata.models import QualitySnapshot

    call_command("scheduler", "--once", stdout=StringIO())
    # The worker's own loop closes connections between tasks, which a test transaction cannot
    # survive; run each enqueued task as the worker would, from its stored path and arguments.
    results = {}
    for row in DBTaskResult.objects.filter(task_path__in=[SNAPSHOT, EXPIRY]):
        results[row.task_path] = row.task.call(
            *row.args_kwargs["args"], **row.args_kwargs["kwargs"]
        )

    assert results == {SNAPSHOT: timezone.localdate().isoformat(), EXPIRY: 0}
    assert QualitySnapshot.objects.filter(day=timezone.localdate()).exists()
