"""A rep shares approved content with a doctor: choose the content and the channel (the
doctor's consent per channel is shown), send; the page then shows the outcome and the link.

A retried submission (double tap, flaky network) carries the same idempotency key and sends
nothing twice. Refusals (no consent, content no longer valid, no address) name the field.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import consent, delivery, selectors
from omnihcp.engagement.models_consent import ConsentPurpose
from omnihcp.masterdata.selectors import hcp_get
from omnihcp.masterdata.services import hcp_email_set
from omnihcp.org.permissions import CONSENT_RECORDERS, request_scope, require_role


@login_required
@require_http_methods(["GET", "POST"])
def hcp_share(request: HttpRequest, hcp_id: int) -> HttpResponse:
    require_role(request.user, CONSENT_RECORDERS)
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    errors: dict[str, str] = {}
    sent = None
    if request.method == "POST":
        item_id = request.POST.get("item", "")
        try:
            item = selectors.content_get(content_id=int(item_id)) if item_id.isdigit() else None
            if item is None:
                raise ApplicationError(_("Choose the content to send."), field="item")
            email = request.POST.get("email", "").strip()[:254]
            sent = delivery.delivery_share(
                actor=request.user,
                hcp=hcp,
                item=item,
                channel=request.POST.get("channel", ""),
                base_url=request.build_absolute_uri("/"),
                sender_wecom_id=request.user.get_username(),
                idempotency_key=request.POST.get("key", "")[:100],
                email=email,
            )
            if sent.sent_ok and sent.channel == "email" and email:
                hcp = hcp_email_set(actor=request.user, hcp=hcp, email=email)
        except ApplicationError as exc:
            errors[exc.field or "item"] = exc.message
    current = consent.consent_current(hcp_id=hcp.pk)
    channels = [
        (code, current.get((ConsentPurpose.MARKETING, delivery.CONSENT_CHANNEL[code])))
        for code in delivery.SHARE_CHANNELS
    ]
    context = {
        "hcp": hcp,
        "items": selectors.content_list(filters=selectors.ContentFilter(sendable=True))[:200],
        "channels": channels,
        "errors": errors,
        "values": request.POST if request.method == "POST" else request.GET,
        "sent": sent,
        "link": delivery.delivery_url(sent, request.build_absolute_uri("/")) if sent else "",
        "key": uuid.uuid4().hex,
    }
    return render(request, "engagement/hcp_share.html", context, status=400 if errors else 200)
