"""The content library pages: authoring, MLR review, and what a rep may see."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from omnihcp.engagement.models import ContentItem, ContentStatus
from omnihcp.org.models import Product


def _form() -> dict[str, object]:
    product = Product.objects.order_by("code").first()
    assert product is not None
    return {
        "title": "心衰病例分享 <b>",
        "kind": "case",
        "therapy_area": str(product.therapy_area_id),
        "products": [str(product.pk)],
        "body": "患者男，68 岁……",
        "key_messages": "早期干预\n规范随访",
        "topics": "心力衰竭",
    }


def test_author_writes_submits_and_a_reviewer_approves(client_as):
    marketing = client_as("marketing")
    created = marketing.post("/engagement/content/new/", _form())
    assert created.status_code == 302
    item = ContentItem.objects.get()
    marketing.post(f"/engagement/content/{item.pk}/submit/")

    medical = client_as("medical")
    page = medical.get(f"/engagement/content/{item.pk}/")
    assert 'data-action="approve"' in page.content.decode()
    until = (timezone.localdate() + dt.timedelta(days=180)).isoformat()
    approved = medical.post(
        f"/engagement/content/{item.pk}/approve/",
        {
            "approval_number": "MLR-2026-07",
            "valid_from": timezone.localdate(),
            "valid_until": until,
        },
        follow=True,
    )

    html = approved.content.decode()
    assert "data-sendable" in html
    assert "MLR-2026-07" in html
    assert "心衰病例分享 &lt;b&gt;" in html
    assert ContentItem.objects.get().status == ContentStatus.APPROVED


def test_a_missing_title_is_named_in_chinese(client_as):
    response = client_as("marketing", language="zh-hans").post(
        "/engagement/content/new/", {**_form(), "title": ""}
    )

    assert response.status_code == 400
    assert 'data-error="title"' in response.content.decode()
    assert "此字段为必填项" in response.content.decode()
    assert not ContentItem.objects.exists()


def test_a_bad_approval_date_is_named_and_nothing_changes(client_as):
    client_as("marketing").post("/engagement/content/new/", _form())
    item = ContentItem.objects.get()
    client_as("marketing").post(f"/engagement/content/{item.pk}/submit/")

    response = client_as("compliance").post(
        f"/engagement/content/{item.pk}/approve/",
        {"approval_number": "MLR-1", "valid_from": "2026-02-31", "valid_until": "2027-01-01"},
    )

    assert response.status_code == 400
    assert 'data-error="approve:valid_from"' in response.content.decode()
    assert ContentItem.objects.get().status == ContentStatus.IN_REVIEW


def test_a_rep_sees_only_content_that_may_be_sent(client_as):
    client_as("marketing").post("/engagement/content/new/", _form())
    item = ContentItem.objects.get()
    rep = client_as("rep_hangzhou")

    assert rep.get(f"/engagement/content/{item.pk}/").status_code == 404
    assert item.code not in rep.get("/engagement/content/").content.decode()
    assert rep.post("/engagement/content/new/", _form()).status_code == 403
    assert rep.post(f"/engagement/content/{item.pk}/submit/").status_code == 403
