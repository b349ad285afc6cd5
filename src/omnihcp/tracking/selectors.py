"""Reads of tracking for pages and other modules: sources with their recent counts, a source's
latest events, and an HCP's timeline and activity summary (from the rollups)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.tracking.models import (
    Activity,
    HcpDailyActivity,
    StreamDailyActivity,
    TrackedIdentity,
    TrackingSource,
)

TIMELINE_PAGE = 50


@dataclass(frozen=True)
class SourceOverview:
    source: TrackingSource
    events_7d: int
    resolved_7d: int
    pending_identities: int

    @property
    def resolved_share(self) -> float | None:
        return self.resolved_7d / self.events_7d if self.events_7d else None


def source_list() -> list[SourceOverview]:
    since = timezone.localdate() - dt.timedelta(days=6)
    sums = {
        row["stream"]: row
        for row in StreamDailyActivity.objects.filter(day__gte=since)
        .values("stream")
        .annotate(events=Sum("count"), resolved=Sum("resolved"))
    }
    pending = dict(
        TrackedIdentity.objects.filter(hcp__isnull=True)
        .values("stream")
        .annotate(n=Count("id"))
        .values_list("stream", "n")
    )
    return [
        SourceOverview(
            source=source,
            events_7d=int(sums.get(source.code, {}).get("events") or 0),
            resolved_7d=int(sums.get(source.code, {}).get("resolved") or 0),
            pending_identities=pending.get(source.code, 0),
        )
        for source in TrackingSource.objects.all()
    ]


def source_get(*, source_id: int) -> TrackingSource:
    source = TrackingSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFoundError(_("No such tracking source."))
    return source


def source_recent_events(*, source: TrackingSource, limit: int = 50) -> list[Activity]:
    return list(Activity.objects.filter(stream=source.code).order_by("-id")[:limit])


def source_daily(*, source: TrackingSource, days: int = 14) -> list[StreamDailyActivity]:
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    return list(
        StreamDailyActivity.objects.filter(stream=source.code, day__gte=since).order_by("-day")
    )


@dataclass(frozen=True)
class TimelineFilter:
    event: str = ""
    channel: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before_id: int | None = None  # keyset paging: rows older than this one


def hcp_timeline(*, hcp_ids: list[int], filters: TimelineFilter) -> list[Activity]:
    """One page of the HCP's events, newest first (``hcp_ids``: the HCP and those merged
    into it, so a merged doctor's history stays on the survivor's timeline)."""
    rows: QuerySet[Activity] = Activity.objects.filter(hcp_id__in=hcp_ids)
    if filters.event:
        rows = rows.filter(event=filters.event)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    zone = timezone.get_current_timezone()
    if filters.since:
        rows = rows.filter(
            occurred_at__gte=dt.datetime.combine(filters.since, dt.time.min, tzinfo=zone)
        )
    if filters.until:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        rows = rows.filter(occurred_at__lt=end)
    if filters.before_id:
        anchor = Activity.objects.filter(pk=filters.before_id).values("occurred_at").first()
        if anchor is not None:
            rows = rows.filter(occurred_at__lte=anchor["occurred_at"]).exclude(
                occurred_at=anchor["occurred_at"], id__gte=filters.before_id
            )
    return list(rows.order_by("-occurred_at", "-id")[: TIMELINE_PAGE + 1])


@dataclass(frozen=True)
class ActivitySummary:
    event: str
    count: int
    seconds: float
    last_at: dt.datetime


def hcp_activity_summary(*, hcp_ids: list[int], days: int = 90) -> list[ActivitySummary]:
    """What the HCP did in the last ``days`` days, per event, from the rollups."""
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    rows = (
        HcpDailyActivity.objects.filter(hcp_id__in=hcp_ids, day__gte=since)
        .values("event")
        .annotate(count=Sum("count"), seconds=Sum("seconds"), last_at=Max("last_at"))
        .order_by("-count", "event")
    )
    return [
        ActivitySummary(row["event"], row["count"], row["seconds"], row["last_at"]) for row in rows
    ]


def hcp_timeline_choices(*, hcp_ids: list[int]) -> tuple[list[str], list[str]]:
    """The events and channels the HCP's rollups hold, for the filter menus."""
    rows = HcpDailyActivity.objects.filter(hcp_id__in=hcp_ids)
    events = sorted(set(rows.values_list("event", flat=True)))
    channels = sorted({c for c in rows.values_list("channel", flat=True) if c})
    return events, channels


def activity_recorded(*, stream: str, message_id: str) -> bool:
    """Whether a module's event with this message id is already on the timeline."""
    return Activity.objects.filter(stream=stream, message_id=message_id).exists()


def hcp_ids_active_since(moment: dt.datetime, *, limit: int = 200_000) -> set[int]:
    """Doctors whose rolled-up activity has an event at or after ``moment``."""
    rows = HcpDailyActivity.objects.filter(last_at__gte=moment).values_list("hcp_id", flat=True)
    return set(rows.distinct()[:limit])


def content_engagement(
    *, opened: tuple[str, ...], deep: tuple[str, ...], batch: int = 50_000
) -> Iterator[list[tuple[int, str, int, int, int]]]:
    """The doctor × content engagement matrix, in batches of rows
    ``(hcp_id, content_ref, times opened, deep views, first day)`` — the day as days since
    1970-01-01, so millions of pairs are read without a datetime per row. ``opened`` and
    ``deep`` name the events that count as an open and as a deep view (read to the end,
    watched). One grouped scan of the activity table, in the database."""
    table = Activity._meta.db_table
    names = opened + deep
    marks = ", ".join(["%s"] * len(names))
    deep_marks = ", ".join(["%s"] * len(deep))
    if connection.vendor == "postgresql":
        first_day = "(EXTRACT(EPOCH FROM MIN(occurred_at)) / 86400)::bigint"
    else:
        first_day = "CAST(julianday(MIN(occurred_at)) - 2440587.5 AS INTEGER)"
    sql = (
        f"SELECT hcp_id, content_ref, COUNT(*), "  # noqa: S608 - names are ours, values bound
        f"SUM(CASE WHEN event IN ({deep_marks}) THEN 1 ELSE 0 END), {first_day} "
        f"FROM {table} WHERE hcp_id IS NOT NULL AND content_ref <> '' AND event IN ({marks}) "
        f"GROUP BY hcp_id, content_ref"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*deep, *names])
        while rows := cursor.fetchmany(batch):
            yield rows


def hcp_events_after(
    *, last_id: int, events: Collection[str], settle: dt.timedelta, limit: int = 5000
) -> list[dict[str, Any]]:
    """Events of resolved doctors with an id after ``last_id`` and received more than
    ``settle`` ago (on PostgreSQL a lower id may still be committing), oldest first."""
    rows = (
        Activity.objects.filter(
            id__gt=last_id,
            event__in=list(events),
            hcp__isnull=False,
            received_at__lt=timezone.now() - settle,
        )
        .order_by("id")
        .values("id", "hcp_id", "event", "content_ref", "occurred_at", "properties")
    )
    return [dict(row) for row in rows[:limit]]


def activity_last_id(*, settle: dt.timedelta) -> int:
    """The id of the last event received more than ``settle`` ago (0 when none)."""
    return (
        Activity.objects.filter(received_at__lt=timezone.now() - settle)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def hcp_engaged_days(
    *, hcp_ids: Collection[int], since: dt.date, events: Collection[str]
) -> set[tuple[int, dt.date]]:
    """(doctor, day) pairs on which the doctors did one of these things, from the rollups."""
    rows = HcpDailyActivity.objects.filter(
        hcp_id__in=list(hcp_ids), day__gte=since, event__in=list(events)
    ).values_list("hcp_id", "day")
    return set(rows)
