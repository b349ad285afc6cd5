"""Helpers of the engagement tests: approved content, consent, a rep's share and its link."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client
from django.utils import timezone

from omnihcp.engagement import questionnaire, services
from omnihcp.engagement.consent import consent_record
from omnihcp.org.models import Product, User


def approved_content(
    author: User,
    reviewer: User,
    *,
    title: str = "高血压长期管理",
    kind: str = "article",
    body: str = "第一段。\n第二段 <script>x</script>",
    questions: tuple[questionnaire.QuestionDraft, ...] = (),
) -> Any:
    """A content item written by ``author`` with ``questions`` and approved by ``reviewer``."""
    product = Product.objects.order_by("code").first()
    assert product is not None
    draft = services.ContentDraft(
        title=title,
        kind=kind,
        therapy_area_id=product.therapy_area_id,
        summary="新指南要点",
        body=body,
    )
    made = services.content_create(actor=author, draft=draft)
    for question in questions:
        questionnaire.question_add(actor=author, item=made, draft=question)
    services.content_submit(actor=author, item=made)
    services.content_approve(
        actor=reviewer,
        item=made,
        approval_number="MLR-2026-11",
        valid_from=timezone.localdate(),
        valid_until=timezone.localdate() + dt.timedelta(days=90),
    )
    made.refresh_from_db()
    return made


def consent(hcp: Any, channel: str = "wecom", purposes: tuple[str, ...] = ("marketing",)) -> None:
    consent_record(
        hcp_id=hcp.pk,
        answers=[(purpose, channel, True) for purpose in purposes],
        source="rep",
        evidence={"note": "当面同意"},
    )


def share(client: Client, hcp: Any, item: Any, channel: str = "link", key: str = "k1") -> Any:
    return client.post(
        f"/engagement/hcps/{hcp.pk}/share/", {"item": item.pk, "channel": channel, "key": key}
    )


def link_of(response: Any) -> str:
    found = re.search(r'value="(http://testserver/c/[^"]+)" data-link', response.content.decode())
    assert found, response.content.decode()[:2000]
    return found.group(1).replace("http://testserver", "")
