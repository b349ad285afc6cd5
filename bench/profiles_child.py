"""The Django side of ``bench/profiles.py``: run as ``python bench/profiles_child.py STEP`` with
the environment of a bench database (``benchlib.Database.env``).

Steps:

* ``load EVENTS`` — a content library (280 approved items in 14 topic clusters of the two
  therapy areas, made through the content services), consent (marketing and profiling on
  WeCom) for 70 % of the doctors, EVENTS activity events and their daily rollups, deliveries
  for one doctor in five of what they opened, and eight rule tags. The events carry structure
  a recommender can learn: each doctor reads mostly one cluster, then a neighbouring one, then
  whatever is popular; item popularity within a cluster is Zipf-shaped; items are released
  over the 180 days and read only after their release. Rows go in by the driver's bulk path
  (``executemany`` on SQLite, ``COPY`` on PostgreSQL) with the secondary indexes dropped and
  rebuilt after, as a backfill would do.
* ``segments N`` — N counts of three-condition rules (``rule_compile(...).apply(...).count()``,
  what the segment editor's live count runs), printed as JSON milliseconds.
  ``segments-rollups N`` — the same rules with ``events()`` summed from the daily rollups, as
  the compiler does when the activity windows do not end today (the figure before windows).
* ``pages N`` — N HCP 360 pages (Django's test client, the full middleware and template
  stack, signed in as marketing — national scope) for random doctors, after 5 warm-up pages;
  printed as JSON milliseconds.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import sys
import time

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from omnihcp.engagement import services as content  # noqa: E402
from omnihcp.engagement.models import ContentItem  # noqa: E402
from omnihcp.masterdata.models import HCP, RecordStatus  # noqa: E402
from omnihcp.org.models import TherapyArea, User  # noqa: E402
from omnihcp.profiles import services as tags  # noqa: E402
from omnihcp.profiles.rules import rule_compile  # noqa: E402

CLUSTERS = {
    "CV": ["高血压", "心力衰竭", "冠心病", "心房颤动", "高脂血症", "糖尿病", "慢性肾脏病", "卒中"],
    "GI": ["胃溃疡", "胃食管反流病", "幽门螺杆菌感染", "炎症性肠病", "肝硬化", "功能性消化不良"],
}
KINDS = ["指南解读", "病例分享", "用药要点", "最新研究", "专家共识"]
PER_CLUSTER = 20
DAYS = 180
EVENT_NAMES = np.array(["Content Opened", "Content Read", "Video Watched", "Content Forwarded"])
OTHER_NAMES = np.array(["Page Viewed", "Article Read", "Meeting Joined", "Login"])
TAGS = {
    "近期阅读者": 'events(name="Content Opened", days=30) >= 3',
    "深度阅读者": 'events(name="Content Read", days=90) >= 5',
    "视频偏好": 'events(name="Video Watched", days=60) >= 2',
    "主任活跃": 'title = "chief_physician" and events(days=30) >= 5',
    "高职称沉寂": 'title in ("chief_physician", "associate_chief") and events(days=90) = 0',
    "上海活跃": 'province = "上海市" and events(days=30) >= 2',
    "三甲医生": 'hco_level = "3A"',
    "投递已读": "reads(days=90) >= 2",
}
SEGMENTS = [
    'title = "{title}" and province = "{province}" and events(days=30) >= {n}',
    'hco_level = "{level}" and title = "{title}" and events(name="Content Read", days=90) >= {n}',
    'province = "{province}" and hco_level = "{level}" and reads(days=90) >= 1',
]


def _library() -> list[ContentItem]:
    marketing = User.objects.get(username="marketing")
    medical = User.objects.get(username="medical")
    today = timezone.localdate()
    items = []
    for area_code, terms in CLUSTERS.items():
        area = TherapyArea.objects.get(code=area_code)
        for term in terms:
            for k in range(PER_CLUSTER):
                draft = content.ContentDraft(
                    title=f"{term}{KINDS[k % len(KINDS)]}（第{k + 1}期）",
                    kind="article",
                    therapy_area_id=area.pk,
                    summary=f"{term}诊疗要点",
                    body=f"{term}。" * 20,
                    topics=(term,),
                )
                item = content.content_create(actor=marketing, draft=draft)
                content.content_submit(actor=marketing, item=item)
                content.content_approve(
                    actor=medical,
                    item=item,
                    approval_number=f"MLR-B-{item.pk}",
                    valid_from=today - dt.timedelta(days=DAYS),
                    valid_until=today + dt.timedelta(days=365),
                )
                item.refresh_from_db()
                items.append(item)
    return items


def _bulk(table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _stamp(values: np.ndarray) -> list[str]:
    text = np.datetime_as_string(values, unit="s")
    suffix = "+00:00" if connection.vendor == "postgresql" else ""
    return [t + suffix for t in text.tolist()] if suffix else text.tolist()


SECONDARY = {
    "activity_hcp_time_idx": ("tracking_activity", "hcp_id, occurred_at"),
    "activity_user_idx": ("tracking_activity", "stream, user_id"),
    "activity_anonymous_idx": ("tracking_activity", "stream, anonymous_id"),
}


def load(total: int) -> None:
    started = time.perf_counter()
    items = _library()
    print(f"library: {len(items)} items in {time.perf_counter() - started:.0f}s", flush=True)
    rng = np.random.default_rng(11)
    hcp_ids = np.array(
        HCP.objects.filter(status=RecordStatus.ACTIVE).order_by("id").values_list("id", flat=True),
        dtype=np.int64,
    )
    n_hcps = len(hcp_ids)
    n_clusters = sum(len(t) for t in CLUSTERS.values())
    now = timezone.now().replace(microsecond=0, tzinfo=None)
    start = np.datetime64(now - dt.timedelta(days=DAYS), "s")

    # consent: marketing + profiling on WeCom for 70 % of doctors
    consenting = hcp_ids[rng.random(n_hcps) < 0.7]
    stamp = (now - dt.timedelta(days=DAYS)).isoformat(sep=" ")
    if connection.vendor == "postgresql":
        stamp += "+00:00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM engagement_consentevent")
        first_event = cursor.fetchone()[0] + 1
    events, consents = [], []
    for i, hcp in enumerate(consenting.tolist()):
        for j, purpose in enumerate(("marketing", "profiling")):
            event_id = first_event + 2 * i + j
            events.append((event_id, purpose, "wecom", True, "import", "v1", "{}", hcp, stamp))
            consents.append((purpose, "wecom", True, stamp, hcp, event_id))
    with transaction.atomic():
        _bulk(
            "engagement_consentevent",
            [
                "id",
                "purpose",
                "channel",
                "granted",
                "source",
                "notice_version",
                "evidence",
                "hcp_id",
                "created_at",
            ],
            events,
        )
        _bulk(
            "engagement_consent",
            ["purpose", "channel", "granted", "updated_at", "hcp_id", "event_id"],
            consents,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('engagement_consentevent', 'id'), "
                "(SELECT MAX(id) FROM engagement_consentevent))"
            )
    print(f"consent: {len(consents):,} rows", flush=True)

    # each doctor: a main cluster, a neighbouring one, an activity level (lognormal)
    main = rng.integers(0, n_clusters, n_hcps)
    second = (main + rng.integers(1, 4, n_hcps)) % n_clusters
    level = rng.lognormal(0, 1.0, n_hcps)
    per_doctor = np.maximum(1, np.round(level / level.sum() * total)).astype(np.int64)
    per_doctor[-1] += total - per_doctor.sum()
    per_doctor = np.maximum(per_doctor, 1)
    codes = np.array([item.code for item in items])
    versions = np.array([item.approved_version_id for item in items])
    item_ids = np.array([item.pk for item in items])
    with connection.cursor() as cursor:
        for name in SECONDARY:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    written, chunk, pairs_seen = 0, 1_000_000, []
    doctor_of_event = np.repeat(np.arange(n_hcps), per_doctor)
    loaded = time.perf_counter()
    for begin in range(0, len(doctor_of_event), chunk):
        who = doctor_of_event[begin : begin + chunk]
        n = len(who)
        seconds = rng.integers(0, DAYS * 86400, n)
        is_content = rng.random(n) < 0.6
        pick = rng.random(n)
        cluster = np.where(pick < 0.6, main[who], np.where(pick < 0.85, second[who], -1))
        released = np.minimum(seconds // (DAYS * 86400 // PER_CLUSTER), PER_CLUSTER - 1)
        within = np.minimum(rng.zipf(1.6, n) - 1, released)
        popular = np.minimum(rng.zipf(1.3, n) - 1, len(items) - 1)
        item = np.where(cluster >= 0, cluster * PER_CLUSTER + within, popular)
        kind = rng.choice(4, n, p=[0.6, 0.25, 0.1, 0.05])
        names = np.where(is_content, EVENT_NAMES[kind], OTHER_NAMES[rng.integers(0, 4, n)])
        refs = np.where(is_content, codes[item], "")
        when = _stamp(start + seconds.astype("timedelta64[s]"))
        hcps = hcp_ids[who].tolist()
        ids = [f"b{begin + i:09d}" for i in range(n)]
        rows = list(
            zip(
                ["bench"] * n,
                ids,
                ["track"] * n,
                names.tolist(),
                [""] * n,
                [""] * n,
                ["wecom"] * n,
                refs.tolist(),
                when,
                when,
                ["{}"] * n,
                ["{}"] * n,
                hcps,
                strict=True,
            )
        )
        with transaction.atomic():
            _bulk(
                "tracking_activity",
                [
                    "stream",
                    "message_id",
                    "type",
                    "event",
                    "user_id",
                    "anonymous_id",
                    "channel",
                    "content_ref",
                    "occurred_at",
                    "received_at",
                    "properties",
                    "context",
                    "hcp_id",
                ],
                rows,
            )
        opened = is_content & (hcp_ids[who] % 5 == 0)
        pairs_seen.append(
            np.stack([hcp_ids[who][opened], item[opened], seconds[opened], kind[opened]], axis=1)
        )
        written += n
        print(f"events: {written:,} ({time.perf_counter() - loaded:.0f}s)", flush=True)
    with connection.cursor() as cursor:
        for name, (table, columns) in SECONDARY.items():
            cursor.execute(f"CREATE INDEX {name} ON {table} ({columns})")
    print(f"indexes rebuilt ({time.perf_counter() - loaded:.0f}s)", flush=True)

    # deliveries: one per doctor × item opened, for one doctor in five
    pairs = np.concatenate(pairs_seen)
    order = np.lexsort((pairs[:, 2], pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = (pairs[1:, 0] != pairs[:-1, 0]) | (pairs[1:, 1] != pairs[:-1, 1])
    deep = np.zeros(len(pairs), dtype=bool)
    np.logical_or.at(deep, np.cumsum(first) - 1, pairs[:, 3] == 1)
    pairs, deep = pairs[first], deep[: first.sum()]
    opened_at = _stamp(start + pairs[:, 2].astype("timedelta64[s]"))
    expires = _stamp(start + (pairs[:, 2] + 30 * 86400).astype("timedelta64[s]"))
    rows = list(
        zip(
            ["wecom"] * len(pairs),
            [True] * len(pairs),
            [""] * len(pairs),
            [""] * len(pairs),
            expires,
            opened_at,
            pairs[:, 0].tolist(),
            item_ids[pairs[:, 1]].tolist(),
            versions[pairs[:, 1]].tolist(),
            [60.0] * len(pairs),
            [0] * len(pairs),
            deep.tolist(),
            [1.0 if d else 0.5 for d in deep.tolist()],
            [0.0] * len(pairs),
            opened_at,
            strict=True,
        )
    )
    with transaction.atomic():
        _bulk(
            "engagement_delivery",
            [
                "channel",
                "sent_ok",
                "provider_id",
                "error",
                "expires_at",
                "opened_at",
                "hcp_id",
                "item_id",
                "version_id",
                "dwell_seconds",
                "forwards",
                "read_through",
                "scroll_depth",
                "video_percent",
                "created_at",
            ],
            rows,
        )
    print(f"deliveries: {len(rows):,}", flush=True)

    day = "CAST(occurred_at AS date)" if connection.vendor == "postgresql" else "date(occurred_at)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_hcpdailyactivity "
            "(hcp_id, day, event, channel, count, seconds, last_at) "
            f"SELECT hcp_id, {day}, event, channel, COUNT(*), 0, MAX(occurred_at) "
            "FROM tracking_activity WHERE hcp_id IS NOT NULL "
            f"GROUP BY hcp_id, {day}, event, channel"
        )
    print(f"rollups ({time.perf_counter() - loaded:.0f}s)", flush=True)
    marketing = User.objects.get(username="marketing")
    for name, rule in TAGS.items():
        tags.tag_define(
            actor=marketing,
            draft=tags.TagDraft(name=name, category="marketing", kind="rule", rule=rule),
        )
    print("loaded", flush=True)


def _provinces() -> list[str]:
    from omnihcp.masterdata.models import HCO

    return list(HCO.objects.values_list("province", flat=True).distinct().order_by("province"))


def segments(n: int) -> None:
    rng = random.Random(5)
    provinces = [p for p in _provinces() if p]
    doctors = HCP.objects.filter(status=RecordStatus.ACTIVE)
    times = []
    for i in range(n):
        rule = SEGMENTS[i % len(SEGMENTS)].format(
            title=rng.choice(["chief_physician", "associate_chief", "attending"]),
            province=rng.choice(provinces),
            level=rng.choice(["3A", "3B", "2A"]),
            n=rng.choice([1, 2, 3, 5]),
        )
        started = time.perf_counter()
        rule_compile(rule).apply(doctors).count()
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps(times))


def segments_rollups(n: int) -> None:
    from omnihcp.profiles import rules

    setattr(rules, "windows_as_of", lambda: None)  # noqa: B010 — as if never built
    segments(n)


def pages(n: int) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username="marketing"))
    ids = list(
        HCP.objects.filter(status=RecordStatus.ACTIVE).order_by("id").values_list("id", flat=True)
    )
    rng = random.Random(9)
    times = []
    for i in range(n + 5):
        hcp_id = rng.choice(ids)
        started = time.perf_counter()
        response = client.get(f"/profiles/hcps/{hcp_id}/")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"360 page of {hcp_id}: {response.status_code}")
        if i >= 5:
            times.append(elapsed)
    print(json.dumps(times))


if __name__ == "__main__":
    step, count = sys.argv[1], int(sys.argv[2])
    steps = {"load": load, "segments": segments, "segments-rollups": segments_rollups}
    {**steps, "pages": pages}[step](count)
