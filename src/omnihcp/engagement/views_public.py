"""The HCP's side: the mobile content page a delivery link opens, the privacy notice shown
before the first read, the reading beacon, and the withdrawal link.

No login: the signed token in the link is the key. A forged token is 404, an expired link or
withdrawn content a polite page (410). The notice records the HCP's answer as consent with
evidence (notice version, the delivery, the browser); reading is recorded only with consent to
profiling. The beacon is exempt from CSRF: it carries no cookie-borne authority, only the token.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import consent, delivery, questionnaire, selectors
from omnihcp.engagement.models import ContentKind
from omnihcp.engagement.models_consent import ConsentPurpose, ConsentSource

MAX_BEACON = 4096


def _open(request: HttpRequest, token: str) -> tuple[Any, HttpResponse | None]:
    try:
        found = delivery.delivery_from_token(token)
    except ApplicationError as exc:
        page = render(
            request, "engagement/public_gone.html", {"reason": exc.code}, status=exc.status
        )
        return None, page
    if not selectors.content_is_sendable(item=found.item):
        page = render(request, "engagement/public_gone.html", {"reason": "withdrawn"}, status=410)
        return None, page
    return found, None


@require_http_methods(["GET"])
def public_content(request: HttpRequest, token: str) -> HttpResponse:
    found, gone = _open(request, token)
    if gone is not None:
        return gone
    answered = consent.consent_current(hcp_id=found.hcp_id)
    if (ConsentPurpose.PROFILING, delivery.consent_channel(found)) not in answered:
        context = {"token": token, "notice": consent.NOTICE_VERSION, "title": found.version.title}
        return render(request, "engagement/public_notice.html", context)
    view_id = uuid.uuid4().hex
    delivery.delivery_record(delivery=found, kind="open", view_id=view_id, data={})
    return _content_page(request, found, token, view_id)


def _content_page(
    request: HttpRequest,
    found: Any,
    token: str,
    view_id: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    answered = selectors.delivery_response(delivery_id=found.pk)
    context = {
        "delivery": found,
        "version": found.version,
        "token": token,
        "view_id": view_id,
        "video": found.item.kind == ContentKind.VIDEO and found.version.url,
        "questions": selectors.content_questions(version=found.version),
        "quiz": found.item.kind == ContentKind.QUIZ,
        "result": selectors.response_view(response=answered) if answered else None,
        "errors": errors or {},
        "values": request.POST if errors else {},
    }
    return render(request, "engagement/public_content.html", context, status=status)


@require_POST
def public_answers(request: HttpRequest, token: str) -> HttpResponse:
    found, gone = _open(request, token)
    if gone is not None:
        return gone
    values = {key: request.POST.getlist(key) for key in request.POST if key.startswith("q")}
    try:
        questionnaire.response_submit(delivery=found, values=values)
    except ApplicationError as exc:
        view_id = request.POST.get("view_id", "")[:40] or uuid.uuid4().hex
        errors = {exc.field or "form": exc.message}
        return _content_page(request, found, token, view_id, errors, status=400)
    return redirect(reverse("engagement-public:content", args=[token]) + "#result")


@require_POST
def public_consent(request: HttpRequest, token: str) -> HttpResponse:
    found, gone = _open(request, token)
    if gone is not None:
        return gone
    agreed = request.POST.get("answer") == "yes"
    channel = delivery.consent_channel(found)
    consent.consent_record(
        hcp_id=found.hcp_id,
        answers=[
            (ConsentPurpose.MARKETING, channel, agreed),
            (ConsentPurpose.PROFILING, channel, agreed),
        ],
        source=ConsentSource.HCP_PAGE,
        evidence={
            "delivery": found.pk,
            "user_agent": request.headers.get("User-Agent", "")[:300],
        },
    )
    return redirect("engagement-public:content", token=token)


@csrf_exempt
@require_POST
def public_event(request: HttpRequest, token: str) -> HttpResponse:
    found, gone = _open(request, token)
    if gone is not None:
        return HttpResponse(status=gone.status_code)
    if len(request.body) > MAX_BEACON:
        return HttpResponse(status=413)
    try:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError
        recorded = delivery.delivery_record(
            delivery=found,
            kind=str(data.get("type", "")),
            view_id=str(data.get("view_id", ""))[:40] or uuid.uuid4().hex,
            data=data,
        )
    except (ValueError, ApplicationError):
        return HttpResponse(status=400)
    return HttpResponse(status=204 if recorded else 202)


@require_http_methods(["GET", "POST"])
def public_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = delivery.delivery_from_token(token)
    except ApplicationError as exc:
        return render(
            request, "engagement/public_gone.html", {"reason": exc.code}, status=exc.status
        )
    done = False
    if request.method == "POST":
        consent.consent_withdraw(
            hcp_id=found.hcp_id,
            channel=delivery.consent_channel(found),
            source=ConsentSource.WITHDRAWAL_LINK,
            evidence={
                "delivery": found.pk,
                "user_agent": request.headers.get("User-Agent", "")[:300],
            },
        )
        done = True
    return render(request, "engagement/public_withdraw.html", {"token": token, "done": done})
