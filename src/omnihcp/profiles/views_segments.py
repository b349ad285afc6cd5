"""Segment pages: the list, a segment written in the rule language with a live count while
editing, a segment's doctors page by page with the count, an Excel export, and a campaign for
the segment. Marketing and medical build segments; managers and reps may read them, always
within their territory."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import campaigns
from omnihcp.engagement import selectors as content
from omnihcp.org.permissions import CONTENT_AUTHORS, TAG_EDITORS, request_scope, require_role
from omnihcp.profiles import rules, segments

PAGE_SIZE = 50


def _form(request: HttpRequest, values: Any, errors: dict[str, str], **extra: Any) -> HttpResponse:
    context = {
        "values": values,
        "errors": errors,
        **rules.HELP,
        **extra,
    }
    return render(request, "profiles/segment_form.html", context, status=400 if errors else 200)


def _draft(post: Any) -> segments.SegmentDraft:
    return segments.SegmentDraft(
        name=post.get("name", ""),
        rule=post.get("rule", ""),
        description=post.get("description", ""),
    )


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    context = {
        "segments": segments.segment_list(),
        "may_edit": getattr(request.user, "role", None) in TAG_EDITORS,
    }
    return render(request, "profiles/segment_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, TAG_EDITORS)
    if request.method == "POST":
        try:
            made = segments.segment_save(actor=request.user, draft=_draft(request.POST))
        except ApplicationError as exc:
            return _form(request, request.POST, {exc.field or "name": exc.message})
        return redirect("profiles:segment-detail", segment_id=made.pk)
    return _form(request, {}, {})


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    require_role(request.user, TAG_EDITORS)
    segment = segments.segment_get(segment_id=segment_id)
    if request.method == "POST":
        try:
            segments.segment_save(actor=request.user, draft=_draft(request.POST), segment=segment)
        except ApplicationError as exc:
            errors = {exc.field or "name": exc.message}
            return _form(request, request.POST, errors, segment=segment)
        return redirect("profiles:segment-detail", segment_id=segment.pk)
    values = {"name": segment.name, "rule": segment.rule, "description": segment.description}
    return _form(request, values, {}, segment=segment)


def _detail(
    request: HttpRequest, segment: Any, errors: dict[str, str] | None = None
) -> HttpResponse:
    members = segments.segment_members(segment=segment, scope=request_scope(request))
    role = getattr(request.user, "role", None)
    context = {
        "segment": segment,
        "page": Paginator(members, PAGE_SIZE).get_page(request.GET.get("page")),
        "may_edit": role in TAG_EDITORS,
        "may_campaign": role in CONTENT_AUTHORS,
        "items": content.content_list(filters=content.ContentFilter(sendable=True))[:300],
        "channels": campaigns.CHANNELS,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "errors": errors or {},
        "values": request.POST if errors else {"channel": "sms"},
    }
    return render(request, "profiles/segment_detail.html", context, status=400 if errors else 200)


@login_required
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    return _detail(request, segments.segment_get(segment_id=segment_id))


@login_required
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segments.segment_get(segment_id=segment_id)
    body = segments.segment_workbook(segment=segment, scope=request_scope(request))
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-{stamp}.xlsx"'
    return response


@login_required
@require_POST
def segment_campaign(request: HttpRequest, segment_id: int) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS)
    segment = segments.segment_get(segment_id=segment_id)
    post = request.POST
    item = post.get("item", "")
    when = parse_datetime(post.get("scheduled_at", "")) if post.get("scheduled_at") else None
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when)
    try:
        campaign = segments.segment_campaign(
            actor=request.user,
            scope=request_scope(request),
            segment=segment,
            draft={
                "name": post.get("name", ""),
                "item_id": int(item) if item.isdigit() and len(item) < 12 else None,
                "channel": post.get("channel", ""),
                "scheduled_at": when,
            },
        )
    except ApplicationError as exc:
        return _detail(request, segment, {exc.field or "name": exc.message})
    return redirect("engagement:campaign-detail", campaign_id=campaign.pk)
