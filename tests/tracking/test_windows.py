"""Activity windows: per doctor and event, the events of the last 7 … 365 days, rebuilt once the
day turns and kept up to date by every rollup run."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.tracking.models import HcpActivityWindow
from omnihcp.tracking.rollups import activity_rollup
from omnihcp.tracking.tasks import rebuild_activity_windows_task
from omnihcp.tracking.windows import windows_as_of, windows_rebuild

NOW = dt.timedelta(0)


def _event(message_id: str, name: str, days_ago: int) -> dict[str, Any]:
    moment = timezone.now() - dt.timedelta(days=days_ago)
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u-1",
        "event": name,
        "timestamp": moment.isoformat(),
        "properties": {"channel": "wecom"},
    }


def _windows(hcp: Any) -> dict[str, tuple[int, ...]]:
    rows = HcpActivityWindow.objects.filter(hcp=hcp)
    return {r.event: (r.d7, r.d30, r.d90, r.d365) for r in rows}


def test_windows_count_each_event_and_follow_every_rollup_run(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    segment(
        "batch",
        {
            "batch": [
                _event("m-1", "Content Read", 1),
                _event("m-2", "Content Read", 20),
                _event("m-3", "Content Read", 60),
                _event("m-4", "Quiz Answered", 200),
                _event("m-5", "Content Read", 400),  # older than every window
            ]
        },
    )
    activity_rollup(settle=NOW)
    assert windows_as_of() is None
    assert _windows(hangzhou_hcp) == {}  # nothing before the first build

    windows_rebuild()

    assert windows_as_of() == timezone.localdate()
    assert _windows(hangzhou_hcp) == {
        "Content Read": (1, 2, 3, 3),
        "Quiz Answered": (0, 0, 0, 1),
        "": (1, 2, 3, 4),
    }

    # a new read: the rollup run that counts it counts the doctor's windows again
    segment("batch", {"batch": [_event("m-6", "Content Read", 0)]})
    activity_rollup(settle=NOW)

    assert _windows(hangzhou_hcp)["Content Read"] == (2, 3, 4, 4)
    assert _windows(hangzhou_hcp)[""] == (2, 3, 4, 5)


def test_the_scheduled_rebuild_runs_once_a_day(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    segment("batch", {"batch": [_event("m-1", "Content Read", 5)]})
    activity_rollup(settle=NOW)

    assert rebuild_activity_windows_task.call() == 2  # the event's row and the all-events row
    assert rebuild_activity_windows_task.call() == 0  # already ends today

    # the 7-day window is today and the 6 days before: the 5-day-old read is in it tomorrow,
    # not the day after
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    windows_rebuild(today=tomorrow)
    assert _windows(hangzhou_hcp)["Content Read"][0] == 1
    windows_rebuild(today=tomorrow + dt.timedelta(days=1))
    assert _windows(hangzhou_hcp)["Content Read"][:2] == (0, 1)
    assert windows_as_of() == tomorrow + dt.timedelta(days=1)

    # after a bulk load, on demand: back to today's windows
    out = StringIO()
    call_command("tracking", "windows", stdout=out)
    assert "2 rows" in out.getvalue()
    assert windows_as_of() == timezone.localdate()


def test_a_rollup_run_leaves_windows_that_end_an_earlier_day_to_the_rebuild(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    windows_rebuild(today=timezone.localdate() - dt.timedelta(days=1))
    segment("batch", {"batch": [_event("m-1", "Content Read", 0)]})

    activity_rollup(settle=NOW)

    assert _windows(hangzhou_hcp) == {}  # yesterday's windows: not mixed with today's counts
    windows_rebuild()
    assert _windows(hangzhou_hcp)["Content Read"][0] == 1
