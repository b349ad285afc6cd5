"""Background jobs of tracking (django-tasks), run by ``omnihcp scheduler`` as listed in
``config/schedule.py``; each is idempotent and works in bounded batches."""

from __future__ import annotations

from django_tasks import task

from omnihcp.tracking.rollups import activity_rollup
from omnihcp.tracking.windows import windows_rebuild


@task()
def roll_up_activity_task() -> int:
    """Count new events into the rollups and attach newly resolved identities' events."""
    return activity_rollup().events


@task()
def rebuild_activity_windows_task() -> int:
    """Every doctor's activity windows, once the day has turned: rows written (0 when they
    already end today)."""
    return windows_rebuild() or 0
