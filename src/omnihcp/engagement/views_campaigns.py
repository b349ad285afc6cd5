"""Campaign pages: the list (filter by status and content), a new campaign (content, channel,
audience as pasted codes or a filter, time), and a campaign with its report — sent, skipped
and why, failed, opened, read through, answered — and its recipients page by page.

Marketing creates and cancels; medical and compliance read. A refused value is shown on its
field and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import campaigns, selectors
from omnihcp.engagement.models_campaign import CampaignStatus
from omnihcp.masterdata.selectors import (
    hco_cities,
    hcp_title_choices,
    standard_department_list,
)
from omnihcp.org.permissions import CONTENT_AUTHORS, MLR_REVIEWERS, request_scope, require_role

PAGE_SIZE = 50
READERS = CONTENT_AUTHORS | MLR_REVIEWERS


def _when(value: str) -> Any:
    parsed = parse_datetime(value) if value else None
    if value and parsed is None:
        raise ApplicationError(_("Enter a date and time."), field="scheduled_at")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    require_role(request.user, READERS)
    status = request.GET.get("status", "")
    item = request.GET.get("item", "")
    rows = selectors.campaign_list(
        status=status if status in CampaignStatus.values else "",
        item_id=int(item) if item.isdigit() and len(item) < 12 else None,
    )
    context = {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "statuses": CampaignStatus.choices,
        "status": status,
        "item": item,
        "items": selectors.content_list(filters=selectors.ContentFilter())[:300],
        "may_create": getattr(request.user, "role", None) in CONTENT_AUTHORS,
    }
    return render(request, "engagement/campaign_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS)
    errors: dict[str, str] = {}
    values: Any = {"channel": "sms"}
    if request.method == "POST":
        post = values = request.POST
        try:
            item = post.get("item", "")
            campaign = campaigns.campaign_create(
                actor=request.user,
                scope=request_scope(request),
                draft=campaigns.CampaignDraft(
                    name=post.get("name", ""),
                    item_id=int(item) if item.isdigit() and len(item) < 12 else None,
                    channel=post.get("channel", ""),
                    scheduled_at=_when(post.get("scheduled_at", "")),
                    codes=post.get("codes", "")[:600_000],
                    city=post.get("city", ""),
                    standard_department=post.get("department", ""),
                    title=post.get("title", ""),
                ),
            )
            return redirect("engagement:campaign-detail", campaign_id=campaign.pk)
        except ApplicationError as exc:
            errors[exc.field or "name"] = exc.message
    context = {
        "values": values,
        "errors": errors,
        "items": selectors.content_list(filters=selectors.ContentFilter(sendable=True))[:300],
        "cities": hco_cities(scope=request_scope(request)),
        "departments": standard_department_list(),
        "titles": hcp_title_choices(),
        "channels": campaigns.CHANNELS,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "engagement/campaign_form.html", context, status=400 if errors else 200)


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    require_role(request.user, READERS)
    campaign = selectors.campaign_get(campaign_id=campaign_id)
    outcome = request.GET.get("outcome", "")
    recipients = selectors.campaign_recipients(campaign=campaign, outcome=outcome)
    context = {
        "campaign": campaign,
        "report": campaigns.campaign_report(campaign=campaign),
        "reasons": campaigns.REASONS,
        "page": Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page")),
        "outcome": outcome,
        "may_cancel": getattr(request.user, "role", None) in CONTENT_AUTHORS
        and campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
        "quiet": campaigns.in_quiet_hours(timezone.now()),
    }
    return render(request, "engagement/campaign_detail.html", context)


@login_required
@require_POST
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS)
    campaign = selectors.campaign_get(campaign_id=campaign_id)
    campaigns.campaign_cancel(actor=request.user, campaign=campaign)
    return redirect("engagement:campaign-detail", campaign_id=campaign.pk)
