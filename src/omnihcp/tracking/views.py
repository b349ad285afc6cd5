"""Pages of tracking: the sources (write keys, what each sent, identities waiting for a match)
and an HCP's activity timeline.

Sources are for administrators and marketing; the timeline for anyone who may see the HCP
(a rep gets 404 outside their territory, as everywhere). Event properties come from outside
systems and are shown as text: the templates escape them, never mark them safe.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.selectors import hcp_get
from omnihcp.masterdata.selectors_identity import hcp_with_merged_ids
from omnihcp.org.permissions import TRACKING_EDITORS, request_scope, require_role
from omnihcp.tracking import selectors, services

_NEW_KEY = "tracking_new_key"


@login_required
@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest) -> HttpResponse:
    require_role(request.user, TRACKING_EDITORS)
    errors: dict[str, str] = {}
    values = {"name": "", "code": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            source, key = services.source_create(actor=request.user, **values)
        except ApplicationError as exc:
            errors[exc.field or "name"] = exc.message
        else:
            request.session[_NEW_KEY] = {"source": source.pk, "key": key}
            return redirect("tracking:source-detail", source_id=source.pk)
    context = {"rows": selectors.source_list(), "errors": errors, "values": values}
    return render(request, "tracking/source_list.html", context, status=400 if errors else 200)


@login_required
@require_GET
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    require_role(request.user, TRACKING_EDITORS)
    source = selectors.source_get(source_id=source_id)
    shown = request.session.pop(_NEW_KEY, None)
    # The write key is shown once, on the page right after it was made, and never again.
    new_key = shown["key"] if shown and shown.get("source") == source.pk else ""
    context = {
        "source": source,
        "new_key": new_key,
        "host": request.build_absolute_uri("/api").rstrip("/"),
        "events": selectors.source_recent_events(source=source),
        "daily": selectors.source_daily(source=source),
    }
    return render(request, "tracking/source_detail.html", context)


@login_required
@require_POST
def source_rotate_key(request: HttpRequest, source_id: int) -> HttpResponse:
    require_role(request.user, TRACKING_EDITORS)
    source = selectors.source_get(source_id=source_id)
    key = services.source_rotate_key(actor=request.user, source=source)
    request.session[_NEW_KEY] = {"source": source.pk, "key": key}
    return redirect("tracking:source-detail", source_id=source.pk)


def _date(value: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not value:
        return None
    try:
        parsed = parse_date(value) if len(value) == 10 else None
    except ValueError:  # well-formed but impossible, e.g. 2026-13-40
        parsed = None
    if parsed is None:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
    return parsed


@login_required
@require_GET
def hcp_timeline(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    ids = hcp_with_merged_ids(hcp.pk)
    errors: dict[str, str] = {}
    before = request.GET.get("before", "")
    filters = selectors.TimelineFilter(
        event=request.GET.get("event", ""),
        channel=request.GET.get("channel", ""),
        since=_date(request.GET.get("since", ""), "since", errors),
        until=_date(request.GET.get("until", ""), "until", errors),
        before_id=int(before) if before.isdigit() else None,
    )
    rows = selectors.hcp_timeline(hcp_ids=ids, filters=filters)
    more = len(rows) > selectors.TIMELINE_PAGE
    rows = rows[: selectors.TIMELINE_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = str(rows[-1].pk)
    events, channels = selectors.hcp_timeline_choices(hcp_ids=ids)
    context = {
        "hcp": hcp,
        "rows": rows,
        "summary": selectors.hcp_activity_summary(hcp_ids=ids),
        "events": events,
        "channels": channels,
        "filters": filters,
        "errors": errors,
        "values": request.GET,
        "next_url": f"{reverse('tracking:hcp-timeline', args=[hcp.pk])}?{query.urlencode()}"
        if more
        else "",
    }
    return render(request, "tracking/hcp_timeline.html", context, status=400 if errors else 200)
