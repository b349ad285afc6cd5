"""The rollup job: counts per HCP, content and source, and late identity resolution."""

from __future__ import annotations

import datetime as dt
from typing import Any

from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.tracking.models import (
    Activity,
    ContentDailyActivity,
    HcpDailyActivity,
    StreamDailyActivity,
)
from omnihcp.tracking.rollups import activity_rollup

NOW = dt.timedelta(0)


def _read(message_id: str, user: str = "u-1", seconds: int = 30, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": user,
        "event": "Article Read",
        "timestamp": "2026-11-20T02:00:00Z",
        "properties": {"content_id": "c-7", "channel": "wecom", "dwell_seconds": seconds},
        **extra,
    }


def _hcp_reads(hcp: Any) -> list[tuple[Any, ...]]:
    return list(
        HcpDailyActivity.objects.filter(hcp=hcp, event="Article Read").values_list(
            "day", "event", "count", "seconds"
        )
    )


def test_reads_are_counted_per_hcp_content_and_source_once(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    segment("batch", {"batch": [_read("m-1", seconds=30), _read("m-2", seconds=12)]})

    first = activity_rollup(settle=NOW)
    again = activity_rollup(settle=NOW)

    assert (first.events, again.events) == (2, 0)
    assert _hcp_reads(hangzhou_hcp) == [(dt.date(2026, 11, 20), "Article Read", 2, 42.0)]
    content = ContentDailyActivity.objects.get(content_ref="c-7")
    assert (content.count, content.seconds, content.channel) == (2, 42.0, "wecom")
    stream = StreamDailyActivity.objects.get(stream="medplat")
    assert (stream.count, stream.resolved) == (2, 2)


def test_events_of_an_unmatched_user_wait_and_join_the_hcp_once_linked(segment, hangzhou_hcp):
    # given: a platform user nobody has matched yet reads twice; the job counts the source only
    segment("batch", {"batch": [_read("m-1", user="u-9"), _read("m-2", user="u-9")]})
    activity_rollup(settle=NOW)
    assert set(Activity.objects.values_list("hcp_id", flat=True)) == {None}
    assert _hcp_reads(hangzhou_hcp) == []

    # when: master data links the user (a platform user list was matched), and more arrive
    ExternalIdentity.objects.create(source="medplat", external_id="u-9", hcp=hangzhou_hcp)
    segment("track", _read("m-3", user="u-9"))
    result = activity_rollup(settle=NOW)

    # then: all three are the HCP's, each counted once
    assert result.identities_resolved == 1
    assert result.events_attached == 2
    assert set(Activity.objects.values_list("hcp_id", flat=True)) == {hangzhou_hcp.pk}
    assert _hcp_reads(hangzhou_hcp) == [(dt.date(2026, 11, 20), "Article Read", 3, 90.0)]
    assert StreamDailyActivity.objects.get(stream="medplat").resolved == 3


def test_anonymous_reads_join_the_hcp_after_an_identify_call(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    anonymous = {"userId": None, "anonymousId": "anon-5"}
    segment("batch", {"batch": [_read("m-1", **anonymous), _read("m-2", **anonymous)]})
    activity_rollup(settle=NOW)

    segment("identify", {"userId": "u-1", "anonymousId": "anon-5", "messageId": "m-id"})
    activity_rollup(settle=NOW)

    reads = Activity.objects.filter(event="Article Read")
    assert set(reads.values_list("hcp_id", flat=True)) == {hangzhou_hcp.pk}
    assert _hcp_reads(hangzhou_hcp) == [(dt.date(2026, 11, 20), "Article Read", 2, 60.0)]


def test_events_just_received_wait_for_the_next_run(segment):
    segment("track", _read("m-1"))

    assert activity_rollup(settle=dt.timedelta(minutes=5)).events == 0
    assert activity_rollup(settle=NOW).events == 1
