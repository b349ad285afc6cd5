"""Reads of the content performance page: deliveries and answers summed by content, channel,
region (the doctor's province) or rep, within a period and optional filters; and, for quizzes,
the score distribution and the most common wrong answers.

The figures come from the ``Delivery`` rows (one per send, carrying the deepest reading of all
its views) and the ``Response`` / ``Answer`` rows — never from the raw activity stream — and
every query is bounded by the period (30 days by default) and the delivery index on
``(item, created_at)``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils import timezone

from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.models_questionnaire import Answer, Question, Response

DIMENSIONS = {
    "content": ("item_id", "item__title"),
    "channel": ("channel", "channel"),
    "region": ("hcp__primary_hco__province", "hcp__primary_hco__province"),
    "rep": ("sender_id", "sender__username"),
}
BUCKETS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))
TOP_WRONG = 10


@dataclass(frozen=True)
class PerformanceFilter:
    dimension: str = "content"
    since: dt.date | None = None
    until: dt.date | None = None
    item_id: int | None = None
    channel: str = ""
    province: str = ""
    sender_id: int | None = None

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        today = timezone.localdate()
        until = self.until or today
        since = self.since or until - dt.timedelta(days=29)
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


@dataclass
class PerformanceRow:
    key: Any
    label: str
    sends: int = 0
    opens: int = 0
    read_through: int = 0
    avg_dwell: float = 0.0
    forwards: int = 0
    responses: int = 0
    avg_score: float | None = None

    @property
    def open_rate(self) -> float:
        return self.opens / self.sends if self.sends else 0.0

    @property
    def read_rate(self) -> float:
        return self.read_through / self.opens if self.opens else 0.0


@dataclass
class QuizStats:
    responses: int = 0
    average: float | None = None
    distribution: list[tuple[str, int]] = field(default_factory=list)
    wrong: list[tuple[str, str, int]] = field(default_factory=list)  # question, answer, count

    @property
    def widest(self) -> int:
        return max((n for _label, n in self.distribution), default=0) or 1


def _deliveries(filters: PerformanceFilter) -> QuerySet[Delivery]:
    start, end = filters.window()
    rows = Delivery.objects.filter(created_at__gte=start, created_at__lt=end, sent_ok=True)
    if filters.item_id:
        rows = rows.filter(item_id=filters.item_id)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.province:
        rows = rows.filter(hcp__primary_hco__province=filters.province)
    if filters.sender_id:
        rows = rows.filter(sender_id=filters.sender_id)
    return rows


def performance_rows(*, filters: PerformanceFilter, limit: int = 200) -> list[PerformanceRow]:
    """One row per content / channel / province / rep, most sends first."""
    key, label = DIMENSIONS.get(filters.dimension, DIMENSIONS["content"])
    opened = Q(opened_at__isnull=False)
    grouped = (
        _deliveries(filters)
        .values(key, label)
        .annotate(
            sends=Count("id"),
            opens=Count("id", filter=opened),
            read=Count("id", filter=Q(read_through=True)),
            dwell=Avg("dwell_seconds", filter=opened & Q(dwell_seconds__gt=0)),
            fwd=Sum("forwards"),
            answered=Count("response"),
            score=Avg("response__score"),
        )
        .order_by("-sends")[:limit]
    )
    return [
        PerformanceRow(
            key=row[key],
            label=str(row[label] or "—"),
            sends=row["sends"],
            opens=row["opens"],
            read_through=row["read"],
            avg_dwell=round(row["dwell"] or 0.0, 1),
            forwards=row["fwd"] or 0,
            responses=row["answered"],
            avg_score=round(row["score"], 1) if row["score"] is not None else None,
        )
        for row in grouped
    ]


def performance_total(rows: list[PerformanceRow]) -> PerformanceRow:
    total = PerformanceRow(key=None, label="")
    dwell_weight = 0
    for row in rows:
        total.sends += row.sends
        total.opens += row.opens
        total.read_through += row.read_through
        total.forwards += row.forwards
        total.responses += row.responses
        total.avg_dwell += row.avg_dwell * row.opens
        dwell_weight += row.opens
    total.avg_dwell = round(total.avg_dwell / dwell_weight, 1) if dwell_weight else 0.0
    return total


def quiz_stats(*, filters: PerformanceFilter) -> QuizStats:
    """Scores and wrong answers of quiz responses to the filtered deliveries."""
    responses = Response.objects.filter(
        delivery__in=_deliveries(filters).values("id"), score__isnull=False
    )
    scores = [s for s in responses.values_list("score", flat=True)[:100_000] if s is not None]
    stats = QuizStats(responses=len(scores))
    if not scores:
        return stats
    stats.average = round(sum(scores) / len(scores), 1)
    for low, high in BUCKETS:
        label = f"{low}–{min(high, 100)}"
        stats.distribution.append((label, sum(1 for s in scores if low <= s < high)))
    wrong = (
        Answer.objects.filter(response__in=responses.values("id"), correct=False)
        .values("question_id", "choices")
        .annotate(n=Count("id"), text=F("question__text"))
        .order_by("-n")[: TOP_WRONG * 5]
    )
    rows = list(wrong)
    questions = Question.objects.in_bulk({row["question_id"] for row in rows})
    counted: Counter[tuple[str, str]] = Counter()
    for row in rows:
        options = questions[row["question_id"]].options
        chosen = "; ".join(options[i]["text"] for i in row["choices"] or [] if i < len(options))
        counted[(row["text"], chosen or "—")] += row["n"]
    stats.wrong = [(q, a, n) for (q, a), n in counted.most_common(TOP_WRONG)]
    return stats
