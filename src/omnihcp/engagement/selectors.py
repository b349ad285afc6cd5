"""Reads of the content library: lists with filters, one item with its versions and reviews,
and whether an item may be sent today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.engagement.models import ContentItem, ContentReview, ContentStatus, ContentVersion


@dataclass(frozen=True)
class ContentFilter:
    q: str = ""
    status: str = ""
    kind: str = ""
    therapy_area_id: int | None = None
    sendable: bool = False


def content_list(*, filters: ContentFilter) -> QuerySet[ContentItem]:
    rows = ContentItem.objects.select_related("therapy_area", "approved_version")
    if filters.q:
        rows = rows.filter(
            Q(title__icontains=filters.q)
            | Q(code__iexact=filters.q)
            | Q(approval_number__iexact=filters.q)
        )
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.therapy_area_id:
        rows = rows.filter(therapy_area_id=filters.therapy_area_id)
    if filters.sendable:
        today = timezone.localdate()
        rows = rows.filter(
            status=ContentStatus.APPROVED, valid_from__lte=today, valid_until__gte=today
        )
    return rows


def content_get(*, content_id: int) -> ContentItem:
    item = (
        ContentItem.objects.select_related("therapy_area", "approved_version")
        .filter(pk=content_id)
        .first()
    )
    if item is None:
        raise NotFoundError(_("No such content item."))
    return item


def content_versions(*, item: ContentItem) -> QuerySet[ContentVersion]:
    return item.versions.select_related("created_by").order_by("-number")


def content_reviews(*, item: ContentItem) -> QuerySet[ContentReview]:
    return item.reviews.select_related("actor", "version")


def content_is_sendable(*, item: ContentItem, on: dt.date | None = None) -> bool:
    """Approved, within its validity, not withdrawn: only such content may be sent."""
    day = on or timezone.localdate()
    return bool(
        item.status == ContentStatus.APPROVED
        and item.approved_version_id
        and item.valid_from
        and item.valid_until
        and item.valid_from <= day <= item.valid_until
    )
