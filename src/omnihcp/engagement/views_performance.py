"""The content performance page: sends, opens, read-through, average dwell, forwards, answers
and quiz scores by content, channel, region or rep for a period; for quizzes, the score
distribution and the most common wrong answers under the same filters. For marketing, medical
and compliance; a wrong date is named on its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from omnihcp.core.scope import DataScope
from omnihcp.engagement import performance, selectors
from omnihcp.engagement.delivery import SHARE_CHANNELS
from omnihcp.masterdata.selectors import hco_cities
from omnihcp.org.permissions import CONTENT_AUTHORS, MLR_REVIEWERS, require_role


def _date(value: str, errors: dict[str, str], name: str) -> Any:
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
    return parsed


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


@login_required
def performance_page(request: HttpRequest) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS | MLR_REVIEWERS)
    get = request.GET
    errors: dict[str, str] = {}
    since = _date(get.get("since", ""), errors, "since")
    until = _date(get.get("until", ""), errors, "until")
    if since and until and until < since:
        errors["until"] = _("The period ends before it starts.")
    dimension = get.get("by", "content")
    filters = performance.PerformanceFilter(
        dimension=dimension if dimension in performance.DIMENSIONS else "content",
        since=None if errors else since,
        until=None if errors else until,
        item_id=_id(get.get("item", "")),
        channel=get.get("channel", "") if get.get("channel", "") in SHARE_CHANNELS else "",
        province=get.get("province", "")[:20],
        sender_id=_id(get.get("rep", "")),
    )
    rows = performance.performance_rows(filters=filters)
    start, end = filters.window()
    context = {
        "filters": filters,
        "rows": rows,
        "total": performance.performance_total(rows),
        "quiz": performance.quiz_stats(filters=filters),
        "start": start.date(),
        "end": end.date() - dt.timedelta(days=1),
        "errors": errors,
        "values": get,
        "items": selectors.content_list(filters=selectors.ContentFilter())[:300],
        "channels": SHARE_CHANNELS,
        "provinces": sorted({p for p, _c in hco_cities(scope=DataScope.system())}),
        "dimensions": [
            ("content", _("Content")),
            ("channel", _("Channel")),
            ("region", _("Region")),
            ("rep", _("Rep")),
        ],
    }
    return render(request, "engagement/performance.html", context, status=400 if errors else 200)
