"""Writes of the content library: authoring, versions and the MLR workflow.

Authors (marketing, medical) write drafts and submit them; MLR reviewers (medical,
compliance) approve with an approval number and validity dates, or send back with a comment.
Nobody approves a version they wrote or submitted (four eyes). Withdrawing stops an item from
being sent at once; the expiry job marks items past their validity as expired. Each step is
one durable transaction with its ``ContentReview`` row and its audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.models import (
    ContentItem,
    ContentKind,
    ContentReview,
    ContentStatus,
    ContentVersion,
)
from omnihcp.governance.services import Actor, audit_append
from omnihcp.org.models import Product, TherapyArea

MAX_LIST = 20


@dataclass(frozen=True)
class ContentDraft:
    """What an author writes: the version's text and the item's classification."""

    title: str
    kind: str
    therapy_area_id: int | None
    summary: str = ""
    body: str = ""
    url: str = ""
    product_ids: tuple[int, ...] = ()
    key_messages: tuple[str, ...] = field(default_factory=tuple)
    topics: tuple[str, ...] = field(default_factory=tuple)


def _clean(draft: ContentDraft) -> tuple[TherapyArea, list[Product]]:
    if not draft.title.strip():
        raise ApplicationError(_("This field is required."), field="title")
    if len(draft.title) > 200:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 200}, field="title")
    if draft.kind not in ContentKind.values:
        raise ApplicationError(_("Choose a content type."), field="kind")
    therapy_area = (
        TherapyArea.objects.filter(pk=draft.therapy_area_id).first()
        if draft.therapy_area_id
        else None
    )
    if therapy_area is None:
        raise ApplicationError(_("Choose a therapy area."), field="therapy_area")
    products = list(Product.objects.filter(pk__in=draft.product_ids))
    if len(products) != len(set(draft.product_ids)):
        raise ApplicationError(_("Unknown product."), field="products")
    if any(p.therapy_area_id != therapy_area.pk for p in products):
        raise ApplicationError(
            _("Each product must belong to the content's therapy area."), field="products"
        )
    if draft.kind in (ContentKind.LITERATURE, ContentKind.VIDEO) and not draft.url:
        raise ApplicationError(_("A PDF or a video needs its file or video link."), field="url")
    if not draft.body.strip() and not draft.url:
        raise ApplicationError(_("Write the text or give a link."), field="body")
    for name, values in (("key_messages", draft.key_messages), ("topics", draft.topics)):
        if len(values) > MAX_LIST or any(len(v) > 200 for v in values):
            raise ApplicationError(
                _("At most %(n)s lines of up to 200 characters.") % {"n": MAX_LIST}, field=name
            )
    return therapy_area, products


def _classify(item: ContentItem, draft: ContentDraft, therapy_area: TherapyArea) -> None:
    item.kind = draft.kind
    item.therapy_area = therapy_area
    item.key_messages = [v.strip() for v in draft.key_messages if v.strip()]
    item.topics = [v.strip() for v in draft.topics if v.strip()]


def content_create(*, actor: Actor, draft: ContentDraft) -> ContentItem:
    """A new content item with its first draft version."""
    therapy_area, products = _clean(draft)
    with transaction.atomic(durable=True):
        item = ContentItem(title=draft.title.strip(), code="", created_by_id=actor.pk)
        _classify(item, draft, therapy_area)
        item.save()
        item.code = f"CT{item.pk:06d}"
        item.save(update_fields=["code"])
        item.products.set(products)
        ContentVersion.objects.create(
            item=item,
            number=1,
            title=item.title,
            summary=draft.summary.strip(),
            body=draft.body,
            url=draft.url.strip(),
            created_by_id=actor.pk,
        )
        audit_append(
            actor=actor,
            action="content.create",
            object_type="engagement.content",
            object_id=item.pk,
            after={"code": item.code, "title": item.title, "kind": item.kind},
        )
    return item


def draft_version(*, item: ContentItem, actor: Actor) -> ContentVersion:
    """The version an author may change: the latest if it is a draft, else a new draft copied
    from it (text and questions). Call inside a transaction holding the item's row lock."""
    # Every item is created with version 1, so there is always a latest version.
    latest = item.versions.order_by("-number")[0]
    if latest.status == ContentStatus.IN_REVIEW:
        raise ApplicationError(
            _("Version %(n)s is in review: wait for the decision before editing.")
            % {"n": latest.number},
            field="title",
            code="in_review",
        )
    if latest.status == ContentStatus.DRAFT:
        return latest
    new = ContentVersion.objects.create(
        item=item,
        number=latest.number + 1,
        title=latest.title,
        summary=latest.summary,
        body=latest.body,
        url=latest.url,
        created_by_id=actor.pk,
    )
    for question in latest.questions.all():
        question.pk = None
        question.version = new
        question.save()
    return new


def content_edit(*, actor: Actor, item: ContentItem, draft: ContentDraft) -> ContentVersion:
    """Change the draft (a new draft version if the latest was approved, expired or withdrawn);
    a version in review cannot change until it is approved or sent back."""
    therapy_area, products = _clean(draft)
    with transaction.atomic(durable=True):
        item = ContentItem.objects.select_for_update().get(pk=item.pk)
        latest = draft_version(item=item, actor=actor)
        latest.title = draft.title.strip()
        latest.summary = draft.summary.strip()
        latest.body = draft.body
        latest.url = draft.url.strip()
        latest.save()
        _classify(item, draft, therapy_area)
        if item.approved_version_id is None:
            item.title = latest.title
        item.save()
        item.products.set(products)
        audit_append(
            actor=actor,
            action="content.edit",
            object_type="engagement.content",
            object_id=item.pk,
            after={"version": latest.number, "title": latest.title},
        )
    return latest


def _pending(item: ContentItem, status: str) -> ContentVersion:
    version = item.versions.filter(status=status).order_by("-number").first()
    if version is None:
        message = {
            ContentStatus.DRAFT: _("There is no draft to submit."),
            ContentStatus.IN_REVIEW: _("There is no version in review."),
        }[ContentStatus(status)]
        raise ApplicationError(message, code="invalid_state")
    return version


def _review(
    item: ContentItem, version: ContentVersion, action: str, actor: Actor, comment: str
) -> None:
    ContentReview.objects.create(
        item=item, version=version, action=action, comment=comment, actor_id=actor.pk
    )
    audit_append(
        actor=actor,
        action=f"content.{action}",
        object_type="engagement.content",
        object_id=item.pk,
        after={"version": version.number, "status": item.status, "comment": comment},
    )


def content_submit(*, actor: Actor, item: ContentItem) -> ContentVersion:
    with transaction.atomic(durable=True):
        item = ContentItem.objects.select_for_update().get(pk=item.pk)
        version = _pending(item, ContentStatus.DRAFT)
        if item.kind in (ContentKind.QUIZ, ContentKind.SURVEY):
            questions = list(version.questions.all())
            if not questions:
                raise ApplicationError(
                    _("Add the questions before submitting."), code="no_questions"
                )
            if item.kind == ContentKind.QUIZ and not any(q.scored for q in questions):
                raise ApplicationError(
                    _("A quiz needs at least one question with a correct answer."),
                    code="no_questions",
                )
        version.status = ContentStatus.IN_REVIEW
        version.save(update_fields=["status"])
        if item.approved_version_id is None:
            item.status = ContentStatus.IN_REVIEW
            item.save(update_fields=["status", "updated_at"])
        _review(item, version, ContentReview.Action.SUBMIT, actor, "")
    return version


def _submitter_id(version: ContentVersion) -> Any:
    step = (
        ContentReview.objects.filter(version=version, action=ContentReview.Action.SUBMIT)
        .order_by("-created_at", "-id")
        .first()
    )
    return step.actor_id if step else None


def content_approve(
    *,
    actor: Actor,
    item: ContentItem,
    approval_number: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    comment: str = "",
) -> ContentVersion:
    """Approve the version in review: it becomes the one that may be sent."""
    approval_number = approval_number.strip()
    if not approval_number:
        raise ApplicationError(_("This field is required."), field="approval_number")
    if len(approval_number) > 40:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 40}, field="approval_number")
    if valid_from is None:
        raise ApplicationError(_("This field is required."), field="valid_from")
    if valid_until is None:
        raise ApplicationError(_("This field is required."), field="valid_until")
    if valid_until < valid_from:
        raise ApplicationError(_("The validity ends before it starts."), field="valid_until")
    if valid_until < timezone.localdate():
        raise ApplicationError(_("The validity has already ended."), field="valid_until")
    with transaction.atomic(durable=True):
        item = ContentItem.objects.select_for_update().get(pk=item.pk)
        version = _pending(item, ContentStatus.IN_REVIEW)
        if actor.pk in (version.created_by_id, _submitter_id(version)):
            raise ApplicationError(
                _("Another reviewer must approve: you wrote or submitted this version."),
                code="four_eyes",
            )
        if item.approved_version_id is not None:
            ContentVersion.objects.filter(pk=item.approved_version_id).update(
                status=ContentStatus.SUPERSEDED
            )
        version.status = ContentStatus.APPROVED
        version.save(update_fields=["status"])
        item.approved_version = version
        item.title = version.title
        item.approval_number = approval_number
        item.valid_from, item.valid_until = valid_from, valid_until
        item.status = ContentStatus.APPROVED
        item.save()
        _review(item, version, ContentReview.Action.APPROVE, actor, comment.strip())
    return version


def content_reject(*, actor: Actor, item: ContentItem, comment: str) -> ContentVersion:
    """Send the version in review back to its author, saying why."""
    if not comment.strip():
        raise ApplicationError(_("Say what must change."), field="comment")
    with transaction.atomic(durable=True):
        item = ContentItem.objects.select_for_update().get(pk=item.pk)
        version = _pending(item, ContentStatus.IN_REVIEW)
        version.status = ContentStatus.DRAFT
        version.save(update_fields=["status"])
        if item.approved_version_id is None:
            item.status = ContentStatus.DRAFT
            item.save(update_fields=["status", "updated_at"])
        _review(item, version, ContentReview.Action.REJECT, actor, comment.strip())
    return version


def content_withdraw(*, actor: Actor, item: ContentItem, comment: str) -> ContentItem:
    """Stop an approved item from being sent, now (its links show a polite page)."""
    if not comment.strip():
        raise ApplicationError(_("Say why it is withdrawn."), field="comment")
    with transaction.atomic(durable=True):
        item = ContentItem.objects.select_for_update().get(pk=item.pk)
        if item.status not in (ContentStatus.APPROVED, ContentStatus.EXPIRED):
            raise ApplicationError(
                _("Only approved content can be withdrawn."), code="invalid_state"
            )
        item.status = ContentStatus.WITHDRAWN
        item.save(update_fields=["status", "updated_at"])
        version = item.approved_version
        if version is None:  # approved and expired items always have one
            raise ApplicationError(_("Only approved content can be withdrawn."))
        _review(item, version, ContentReview.Action.WITHDRAW, actor, comment.strip())
    return item


def content_expire_due(*, today: dt.date | None = None) -> int:
    """Mark approved items past their validity as expired (the daily job); how many."""
    today = today or timezone.localdate()
    expired = 0
    due: Iterable[ContentItem] = ContentItem.objects.filter(
        status=ContentStatus.APPROVED, valid_until__lt=today
    ).select_related("approved_version")[:1000]
    for item in due:
        if item.approved_version is None:  # approved items always have one
            continue
        with transaction.atomic():
            item.status = ContentStatus.EXPIRED
            item.save(update_fields=["status", "updated_at"])
            ContentReview.objects.create(
                item=item,
                version=item.approved_version,
                action=ContentReview.Action.EXPIRE,
            )
            audit_append(
                actor=None,
                action="content.expire",
                object_type="engagement.content",
                object_id=item.pk,
                after={"valid_until": str(item.valid_until)},
            )
        expired += 1
    return expired
