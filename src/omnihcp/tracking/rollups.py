"""The rollup job: the Activity store counted per HCP, content, stream and day, and events of
newly resolved identities attached to their HCP.

One run, in one transaction holding the cursor row (so two workers never count twice):

1. pending identities (``TrackedIdentity`` without an HCP) are looked up again in master data
   (an ``ExternalIdentity`` made since, a platform user matched, an anonymousId tied to a
   resolved userId by an identify call);
2. for those now resolved, their events already counted are attached to the HCP and added to
   the HCP rollups;
3. the events after the cursor are counted — those of identities resolved by now attached on
   the way — and the cursor moves on;
4. the activity windows of the doctors whose rollups changed are counted again
   (``tracking.windows``).

The cursor stops short of events received in the last few seconds: on PostgreSQL an id is
taken before its transaction commits, so a slightly older id may still appear.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from omnihcp.masterdata.selectors_identity import (
    hcp_ids_by_external_id,
    hcp_ids_by_hash,
    hcp_survivor_ids,
)
from omnihcp.tracking.identity import ANONYMOUS, HASH_FIELDS, USER
from omnihcp.tracking.models import (
    Activity,
    ContentDailyActivity,
    HcpDailyActivity,
    RollupCursor,
    StreamDailyActivity,
    TrackedIdentity,
)
from omnihcp.tracking.windows import windows_refresh

CURSOR = "activity"
BATCH = 20_000
PENDING_BATCH = 5_000
SETTLE = dt.timedelta(seconds=5)
_FIELDS = (
    "id",
    "stream",
    "type",
    "event",
    "hcp_id",
    "user_id",
    "anonymous_id",
    "channel",
    "content_ref",
    "occurred_at",
    "properties",
)


@dataclass
class RollupResult:
    events: int = 0
    identities_resolved: int = 0
    events_attached: int = 0
    last_id: int = 0


@dataclass
class _Counts:
    hcp: dict[tuple[int, dt.date, str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0.0, None])
    )
    content: dict[tuple[str, dt.date, str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0.0])
    )
    stream: dict[tuple[str, dt.date], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )


def _seconds(properties: Any) -> float:
    value = properties.get("dwell_seconds") if isinstance(properties, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86_400:
        return float(value)
    return 0.0


def _label(row: dict[str, Any]) -> str:
    return str(row["event"] or row["type"])


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _count_hcp(counts: _Counts, row: dict[str, Any], hcp_id: int) -> None:
    key = (hcp_id, _day(row["occurred_at"]), _label(row), row["channel"])
    entry = counts.hcp[key]
    entry[0] += 1
    entry[1] += _seconds(row["properties"])
    entry[2] = row["occurred_at"] if entry[2] is None else max(entry[2], row["occurred_at"])


def activity_rollup(*, batches: int = 50, settle: dt.timedelta = SETTLE) -> RollupResult:
    """Run the job once: at most ``batches`` × 20,000 events (the rest on the next run), up to
    those received ``settle`` ago."""
    result = RollupResult()
    with transaction.atomic(durable=True):
        cursor, _created = RollupCursor.objects.select_for_update().get_or_create(name=CURSOR)
        resolved = _resolve_pending()
        result.identities_resolved = len(resolved)
        counts = _Counts()
        result.events_attached = _attach(resolved, cursor.last_id, counts)
        settled = timezone.now() - settle
        upper = (
            Activity.objects.filter(received_at__lt=settled).aggregate(top=Max("id"))["top"] or 0
        )
        last = cursor.last_id
        for _batch in range(batches):
            if last >= upper:
                break
            rows = list(
                Activity.objects.filter(id__gt=last, id__lte=upper)
                .order_by("id")
                .values(*_FIELDS)[:BATCH]
            )
            if not rows:
                break
            _count_rows(rows, counts)
            result.events += len(rows)
            last = rows[-1]["id"]
        _write(counts)
        windows_refresh({key[0] for key in counts.hcp})
        cursor.last_id = last
        cursor.save(update_fields=["last_id", "updated_at"])
        result.last_id = last
    return result


def _resolve_pending() -> dict[tuple[str, str, str], int]:
    """Pending identities that master data (or an identify call) now resolves."""
    pending = list(TrackedIdentity.objects.filter(hcp__isnull=True).order_by("id")[:PENDING_BATCH])
    if not pending:
        return {}
    found: dict[int, int] = {}
    by_stream: dict[str, list[TrackedIdentity]] = defaultdict(list)
    for row in pending:
        by_stream[row.stream].append(row)
    for stream, rows in by_stream.items():
        users = {row.value for row in rows if row.kind == USER}
        users |= {row.user_id for row in rows if row.kind == ANONYMOUS and row.user_id}
        linked = hcp_ids_by_external_id(source=stream, external_ids=users) if users else {}
        known = dict(
            TrackedIdentity.objects.filter(
                stream=stream, kind=USER, value__in=users, hcp__isnull=False
            ).values_list("value", "hcp_id")
        )
        for row in rows:
            user = row.value if row.kind == USER else row.user_id
            hcp_id = linked.get(user) or known.get(user)
            if hcp_id:
                found[row.pk] = hcp_id
        for kind, field_name in HASH_FIELDS.items():
            wanted = {row.pk: getattr(row, field_name) for row in rows if getattr(row, field_name)}
            wanted = {pk: value for pk, value in wanted.items() if pk not in found}
            if wanted:
                by_hash = hcp_ids_by_hash(kind=kind, hashes=set(wanted.values()))
                found.update((pk, by_hash[v]) for pk, v in wanted.items() if v in by_hash)
    survivors = hcp_survivor_ids(set(found.values()))
    now = timezone.now()
    changed = []
    for row in pending:
        if row.pk in found:
            row.hcp_id = survivors[found[row.pk]]
            row.resolved_at = now
            changed.append(row)
    TrackedIdentity.objects.bulk_update(changed, ["hcp", "resolved_at"])
    return {(row.stream, row.kind, row.value): row.hcp_id for row in changed}  # type: ignore[misc]


def _identity_filter(keys: Iterable[tuple[str, str, str]]) -> Q:
    query = Q(pk__in=[])
    for stream, kind, value in keys:
        column = "user_id" if kind == USER else "anonymous_id"
        query |= Q(stream=stream, **{column: value})
    return query


def _attach(resolved: dict[tuple[str, str, str], int], last_id: int, counts: _Counts) -> int:
    """Events already counted of identities resolved now: given their HCP, counted for it."""
    attached = 0
    keys = list(resolved)
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = Activity.objects.filter(
            _identity_filter(chunk), hcp__isnull=True, id__lte=last_id
        ).values(*_FIELDS)
        by_hcp: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            hcp_id = _hcp_of(row, resolved)
            if hcp_id is None:
                continue
            by_hcp[hcp_id].append(row["id"])
            _count_hcp(counts, row, hcp_id)
            counts.stream[(row["stream"], _day(row["occurred_at"]))][1] += 1
        for hcp_id, ids in by_hcp.items():
            for id_start in range(0, len(ids), 500):
                Activity.objects.filter(id__in=ids[id_start : id_start + 500]).update(hcp_id=hcp_id)
            attached += len(ids)
    return attached


def _hcp_of(row: dict[str, Any], resolved: dict[tuple[str, str, str], int]) -> int | None:
    if row["user_id"]:
        hcp_id = resolved.get((row["stream"], USER, row["user_id"]))
        if hcp_id:
            return hcp_id
    if row["anonymous_id"]:
        return resolved.get((row["stream"], ANONYMOUS, row["anonymous_id"]))
    return None


def _count_rows(rows: list[dict[str, Any]], counts: _Counts) -> None:
    unresolved = [row for row in rows if row["hcp_id"] is None]
    late = _late_resolutions(unresolved) if unresolved else {}
    attach: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        hcp_id = row["hcp_id"]
        if hcp_id is None:
            hcp_id = _hcp_of(row, late)
            if hcp_id is not None:
                attach[hcp_id].append(row["id"])
        day = _day(row["occurred_at"])
        stream = counts.stream[(row["stream"], day)]
        stream[0] += 1
        if hcp_id is not None:
            stream[1] += 1
            _count_hcp(counts, row, hcp_id)
        if row["content_ref"]:
            content = counts.content[(row["content_ref"], day, _label(row), row["channel"])]
            content[0] += 1
            content[1] += _seconds(row["properties"])
    for hcp_id, ids in attach.items():
        for start in range(0, len(ids), 500):
            Activity.objects.filter(id__in=ids[start : start + 500]).update(hcp_id=hcp_id)


def _late_resolutions(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """Identities of unresolved events that are resolved by now (after the event came in)."""
    keys = {(row["stream"], USER, row["user_id"]) for row in rows if row["user_id"]}
    keys |= {(row["stream"], ANONYMOUS, row["anonymous_id"]) for row in rows if row["anonymous_id"]}
    found: dict[tuple[str, str, str], int] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 300):
        query = Q(pk__in=[])
        for stream, kind, value in ordered[start : start + 300]:
            query |= Q(stream=stream, kind=kind, value=value)
        identities = TrackedIdentity.objects.filter(query, hcp__isnull=False)
        found.update(
            ((s, k, v), hcp_id)
            for s, k, v, hcp_id in identities.values_list("stream", "kind", "value", "hcp_id")
        )
    return found


def _write(counts: _Counts) -> None:
    """Add the counts to the rollup rows (read, add, write back: both databases alike)."""
    hcp_key = ("hcp_id", "day", "event", "channel")
    _add(HcpDailyActivity, hcp_key, ("count", "seconds", "last_at"), counts.hcp)
    content_key = ("content_ref", "day", "event", "channel")
    _add(ContentDailyActivity, content_key, ("count", "seconds"), counts.content)
    _add(StreamDailyActivity, ("stream", "day"), ("count", "resolved"), counts.stream)


def _add(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    value_fields: tuple[str, ...],
    counts: Mapping[tuple[Any, ...], list[Any]],
) -> None:
    """Each key's values added to its row (``last_at`` kept as the latest), or a new row."""
    keys = list(counts)
    existing: dict[tuple[Any, ...], Any] = {}
    for start in range(0, len(keys), 300):
        query = Q(pk__in=[])
        for key in keys[start : start + 300]:
            query |= Q(**dict(zip(key_fields, key, strict=True)))
        for found in model._default_manager.filter(query):
            existing[tuple(getattr(found, name) for name in key_fields)] = found
    new: list[Any] = []
    changed: list[Any] = []
    for key, values in counts.items():
        row = existing.get(key)
        if row is None:
            fields = zip((*key_fields, *value_fields), (*key, *values), strict=True)
            new.append(model(**dict(fields)))
            continue
        for name, value in zip(value_fields, values, strict=True):
            current = getattr(row, name)
            setattr(row, name, max(current, value) if name == "last_at" else current + value)
        changed.append(row)
    model._default_manager.bulk_create(new, batch_size=500)
    if changed:
        model._default_manager.bulk_update(changed, list(value_fields), batch_size=500)
