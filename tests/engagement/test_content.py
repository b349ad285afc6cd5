"""The content library's MLR workflow as authors and reviewers live it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import selectors, services
from omnihcp.engagement.models import ContentReview, ContentStatus
from omnihcp.governance.models import AuditEvent
from omnihcp.org.models import Product, TherapyArea

TODAY = timezone.localdate()
NEXT_YEAR = TODAY + dt.timedelta(days=365)


@pytest.fixture
def draft(db: Any) -> services.ContentDraft:
    product = Product.objects.order_by("code").first()
    assert product is not None
    return services.ContentDraft(
        title="高血压患者的长期管理",
        kind="article",
        therapy_area_id=product.therapy_area_id,
        body="正文：血压控制目标……",
        product_ids=(product.pk,),
        key_messages=("每日一次", "24 小时平稳降压"),
        topics=("高血压",),
    )


def _approved(cast_user, draft):  # type: ignore[no-untyped-def]
    item = services.content_create(actor=cast_user("marketing"), draft=draft)
    services.content_submit(actor=cast_user("marketing"), item=item)
    services.content_approve(
        actor=cast_user("medical"),
        item=item,
        approval_number="MLR-2026-001",
        valid_from=TODAY,
        valid_until=NEXT_YEAR,
    )
    return selectors.content_get(content_id=item.pk)


def test_an_approved_item_may_be_sent_and_a_draft_may_not(cast_user, draft):
    item = services.content_create(actor=cast_user("marketing"), draft=draft)
    assert not selectors.content_is_sendable(item=item)

    item = _approved(cast_user, draft)

    assert item.status == ContentStatus.APPROVED
    assert item.approval_number == "MLR-2026-001"
    assert selectors.content_is_sendable(item=item)
    assert [r.action for r in selectors.content_reviews(item=item)] == ["approve", "submit"]
    assert AuditEvent.objects.filter(action="content.approve", object_id=str(item.pk)).exists()


def test_nobody_approves_what_they_submitted(cast_user, draft):
    author = cast_user("medical")
    item = services.content_create(actor=author, draft=draft)
    services.content_submit(actor=author, item=item)

    with pytest.raises(ApplicationError) as refused:
        services.content_approve(
            actor=author,
            item=item,
            approval_number="MLR-1",
            valid_from=TODAY,
            valid_until=NEXT_YEAR,
        )

    assert refused.value.code == "four_eyes"
    assert selectors.content_get(content_id=item.pk).status == ContentStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("number", "start", "end", "field"),
    [
        ("", TODAY, NEXT_YEAR, "approval_number"),
        ("MLR-1", None, NEXT_YEAR, "valid_from"),
        ("MLR-1", TODAY, TODAY - dt.timedelta(days=1), "valid_until"),
    ],
)
def test_approval_needs_a_number_and_sensible_dates(cast_user, draft, number, start, end, field):
    item = services.content_create(actor=cast_user("marketing"), draft=draft)
    services.content_submit(actor=cast_user("marketing"), item=item)

    with pytest.raises(ApplicationError) as refused:
        services.content_approve(
            actor=cast_user("compliance"),
            item=item,
            approval_number=number,
            valid_from=start,
            valid_until=end,
        )

    assert refused.value.field == field


def test_sent_back_with_a_comment_returns_to_draft(cast_user, draft):
    item = services.content_create(actor=cast_user("marketing"), draft=draft)
    services.content_submit(actor=cast_user("marketing"), item=item)

    services.content_reject(actor=cast_user("medical"), item=item, comment="补充参考文献")

    item = selectors.content_get(content_id=item.pk)
    assert item.status == ContentStatus.DRAFT
    review = selectors.content_reviews(item=item).first()
    assert (review.action, review.comment) == (ContentReview.Action.REJECT, "补充参考文献")


def test_editing_an_approved_item_keeps_the_approved_version_in_use(cast_user, draft):
    item = _approved(cast_user, draft)
    changed = services.ContentDraft(**{**draft.__dict__, "title": "高血压长期管理（第二版）"})

    version = services.content_edit(actor=cast_user("marketing"), item=item, draft=changed)

    item = selectors.content_get(content_id=item.pk)
    assert version.number == 2
    assert item.title == "高血压患者的长期管理"
    assert item.approved_version.number == 1
    assert selectors.content_is_sendable(item=item)

    services.content_submit(actor=cast_user("marketing"), item=item)
    services.content_approve(
        actor=cast_user("compliance"),
        item=item,
        approval_number="MLR-2026-002",
        valid_from=TODAY,
        valid_until=NEXT_YEAR,
    )
    item = selectors.content_get(content_id=item.pk)
    assert (item.title, item.approved_version.number) == ("高血压长期管理（第二版）", 2)
    statuses = [v.status for v in selectors.content_versions(item=item)]
    assert statuses == [ContentStatus.APPROVED, ContentStatus.SUPERSEDED]


def test_a_version_in_review_cannot_be_edited(cast_user, draft):
    item = services.content_create(actor=cast_user("marketing"), draft=draft)
    services.content_submit(actor=cast_user("marketing"), item=item)

    with pytest.raises(ApplicationError) as refused:
        services.content_edit(actor=cast_user("marketing"), item=item, draft=draft)

    assert refused.value.code == "in_review"


def test_withdrawn_content_may_not_be_sent(cast_user, draft):
    item = _approved(cast_user, draft)

    services.content_withdraw(actor=cast_user("compliance"), item=item, comment="说明书更新")

    item = selectors.content_get(content_id=item.pk)
    assert item.status == ContentStatus.WITHDRAWN
    assert not selectors.content_is_sendable(item=item)


def test_content_past_its_validity_expires(cast_user, draft):
    item = _approved(cast_user, draft)

    expired = services.content_expire_due(today=NEXT_YEAR + dt.timedelta(days=1))

    item = selectors.content_get(content_id=item.pk)
    assert expired == 1
    assert item.status == ContentStatus.EXPIRED
    assert not selectors.content_is_sendable(item=item)


def test_a_product_of_another_therapy_area_is_refused(cast_user, draft):
    other = TherapyArea.objects.exclude(pk=draft.therapy_area_id).first()
    product = Product.objects.filter(therapy_area=other).first()
    if product is None:
        pytest.fail("the demo company has one therapy area only")
    wrong = services.ContentDraft(**{**draft.__dict__, "product_ids": (product.pk,)})

    with pytest.raises(ApplicationError) as refused:
        services.content_create(actor=cast_user("marketing"), draft=wrong)

    assert refused.value.field == "products"


def test_a_pdf_needs_its_link(cast_user, draft):
    pdf = services.ContentDraft(**{**draft.__dict__, "kind": "literature"})

    with pytest.raises(ApplicationError) as refused:
        services.content_create(actor=cast_user("marketing"), draft=pdf)

    assert refused.value.field == "url"
