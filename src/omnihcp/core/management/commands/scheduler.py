"""``omnihcp scheduler``: enqueue the periodic jobs of ``config/schedule.py`` when they are due.

The scheduler only enqueues; ``omnihcp worker`` runs the tasks. The last run of each task is
the newest row django-tasks-db keeps for its path, so a restarted scheduler (or a cron line
calling ``--once``) does not run a job again before its interval has passed. One check-and-
enqueue pass holds a lock (an advisory lock on PostgreSQL, an exclusive transaction on SQLite),
so two schedulers started by mistake do not both enqueue the same job.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

# The schedule lives in the project's configuration, above every app; like ROOT_URLCONF it is
# named by a setting rather than imported, so that core depends on no layer above it.
DEFAULT_SCHEDULE = "omnihcp.config.schedule.SCHEDULE"
_ADVISORY_LOCK_KEY = 0x6F6D6E69  # "omni": any constant shared by every scheduler process


class ScheduleEntry(Protocol):
    @property
    def task_path(self) -> str: ...
    @property
    def every_seconds(self) -> int: ...
    @property
    def reason(self) -> str: ...


def schedule_entries() -> tuple[ScheduleEntry, ...]:
    path = getattr(settings, "OMNIHCP_SCHEDULE", DEFAULT_SCHEDULE)
    return tuple(import_string(path))


def last_runs(task_paths: Iterable[str]) -> dict[str, dt.datetime]:
    """When each task was last enqueued, whoever enqueued it."""
    rows = (
        DBTaskResult.objects.filter(task_path__in=list(task_paths))
        .values("task_path")
        .annotate(last=Max("enqueued_at"))
        .order_by()
    )
    return {row["task_path"]: row["last"] for row in rows}


def due_entries(
    entries: Iterable[ScheduleEntry], *, now: dt.datetime, last: dict[str, dt.datetime]
) -> list[ScheduleEntry]:
    """The entries never run, or last run at least their interval before ``now``."""
    return [
        entry
        for entry in entries
        if entry.task_path not in last
        or now - last[entry.task_path] >= dt.timedelta(seconds=entry.every_seconds)
    ]


def enqueue_due(
    entries: Iterable[ScheduleEntry] | None = None, *, now: dt.datetime | None = None
) -> list[str]:
    """Enqueue every due task once; return their paths."""
    entries = tuple(schedule_entries() if entries is None else entries)
    enqueued: list[str] = []
    with exclusive_transaction():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = last_runs(entry.task_path for entry in entries)
        for entry in due_entries(entries, now=now or timezone.now(), last=last):
            task: Any = import_string(entry.task_path)
            task.enqueue()
            enqueued.append(entry.task_path)
    return enqueued


class Command(BaseCommand):
    help = "Enqueue the periodic jobs of config/schedule.py when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Enqueue what is due now, then exit."
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=10,
            help="Seconds between two looks at the schedule (default 10).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        entries = schedule_entries()
        self.stdout.write(f"Scheduler: {len(entries)} periodic task(s).")
        while True:
            for path in enqueue_due(entries):
                self.stdout.write(f"Enqueued {path}")
            if options["once"]:
                return
            time.sleep(max(options["interval"], 1))
