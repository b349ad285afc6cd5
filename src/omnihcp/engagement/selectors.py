"""Reads of the content library: lists with filters, one item with its versions and reviews,
and whether an item may be sent today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.engagement.models import ContentItem, ContentReview, ContentStatus, ContentVersion
from omnihcp.engagement.models_campaign import Campaign, CampaignRecipient, RecipientOutcome
from omnihcp.engagement.models_consent import Consent, ConsentPurpose
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.models_questionnaire import Answer, AnswerTag, Question, Response


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


def content_questions(*, version: ContentVersion | None) -> list[Question]:
    return list(version.questions.all()) if version is not None else []


@dataclass(frozen=True)
class AnsweredQuestion:
    question: str
    answer: str
    correct: bool | None
    explanation: str


@dataclass(frozen=True)
class ResponseView:
    response: Response
    answers: list[AnsweredQuestion]


def response_view(*, response: Response) -> ResponseView:
    """A response with each answer as text, in question order."""
    rows = response.answers.select_related("question").order_by("question__position")
    return ResponseView(
        response=response,
        answers=[
            AnsweredQuestion(
                question=a.question.text,
                answer=a.display(a.question),
                correct=a.correct,
                explanation=a.question.explanation,
            )
            for a in rows
        ],
    )


def hcp_responses(*, hcp_id: int, limit: int = 10) -> list[ResponseView]:
    """The HCP's latest quiz and survey answers, newest first (what their rep sees)."""
    responses = Response.objects.filter(hcp_id=hcp_id).select_related("item", "sender")[:limit]
    return [response_view(response=r) for r in responses]


def hcp_answer_tags(*, hcp_id: int) -> list[AnswerTag]:
    """The latest value of each tag the HCP's survey answers set."""
    latest: dict[str, AnswerTag] = {}
    for tag in AnswerTag.objects.filter(hcp_id=hcp_id).select_related("response__item")[:500]:
        latest.setdefault(tag.name, tag)
    return sorted(latest.values(), key=lambda t: t.name)


def delivery_response(*, delivery_id: int) -> Response | None:
    return Response.objects.filter(delivery_id=delivery_id).first()


def campaign_list(*, status: str = "", item_id: int | None = None) -> QuerySet[Campaign]:
    rows = Campaign.objects.select_related("item", "created_by").annotate(
        recipient_count=Count("recipients")
    )
    if status:
        rows = rows.filter(status=status)
    if item_id:
        rows = rows.filter(item_id=item_id)
    return rows.order_by("-scheduled_at", "-id")  # an aggregate drops Meta.ordering


def campaign_get(*, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("item", "created_by").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFoundError(_("No such campaign."))
    return campaign


def campaign_recipients(*, campaign: Campaign, outcome: str = "") -> QuerySet[CampaignRecipient]:
    rows = campaign.recipients.select_related("hcp", "hcp__primary_hco", "delivery")
    if outcome in RecipientOutcome.values:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("id")


def hcp_ids_engaged_since(moment: dt.datetime, *, limit: int = 200_000) -> set[int]:
    """Doctors who opened a delivery or answered a quiz or survey at or after ``moment``."""
    opened = Delivery.objects.filter(opened_at__gte=moment).values_list("hcp_id", flat=True)
    answered = Response.objects.filter(submitted_at__gte=moment).values_list("hcp_id", flat=True)
    return set(opened.distinct()[:limit]) | set(answered.distinct()[:limit])


def hcp_product_engagement(
    *, hcp_ids: list[int]
) -> dict[tuple[int, int], tuple[int, float | None]]:
    """Per (doctor, product): deliveries of the product's content the doctor opened, and the
    doctor's best quiz score on it."""
    found: dict[tuple[int, int], tuple[int, float | None]] = {}
    opened = (
        Delivery.objects.filter(hcp_id__in=hcp_ids, opened_at__isnull=False)
        .values("hcp_id", "item__products")
        .annotate(n=Count("id"))
    )
    for row in opened:
        if row["item__products"] is not None:
            found[(row["hcp_id"], row["item__products"])] = (row["n"], None)
    scores = (
        Response.objects.filter(hcp_id__in=hcp_ids, score__isnull=False)
        .values("hcp_id", "item__products")
        .annotate(best=Max("score"))
    )
    for row in scores:
        if row["item__products"] is not None:
            key = (row["hcp_id"], row["item__products"])
            found[key] = (found.get(key, (0, None))[0], row["best"])
    return found


@dataclass(frozen=True)
class EngagementText:
    """A text a doctor engaged with, and how: ``opened`` / ``read_through`` content, or their
    own free-text ``answer``."""

    hcp_id: int
    text: str
    depth: str
    at: dt.datetime


def hcp_engagement_texts(*, hcp_ids: list[int], since: dt.datetime) -> list[EngagementText]:
    """The content each doctor opened since ``since`` and their free-text answers — only for
    doctors who consented to profiling on some channel."""
    allowed = set(
        Consent.objects.filter(
            hcp_id__in=hcp_ids, purpose=ConsentPurpose.PROFILING, granted=True
        ).values_list("hcp_id", flat=True)
    )
    texts = []
    opened = Delivery.objects.filter(hcp_id__in=allowed, opened_at__gte=since).select_related(
        "version", "item"
    )
    for delivery in opened.iterator(chunk_size=2000):
        version = delivery.version
        body = " ".join(
            [version.title, version.summary, version.body[:4000], *delivery.item.topics]
        )
        depth = "read_through" if delivery.read_through else "opened"
        at = delivery.opened_at or delivery.created_at
        texts.append(EngagementText(delivery.hcp_id, body, depth, at))
    answers = (
        Answer.objects.filter(response__hcp_id__in=allowed, response__submitted_at__gte=since)
        .exclude(text="")
        .select_related("response")
    )
    for answer in answers.iterator(chunk_size=2000):
        texts.append(
            EngagementText(
                answer.response.hcp_id, answer.text, "answer", answer.response.submitted_at
            )
        )
    return texts


def hcp_recent_reads(*, hcp_id: int, limit: int = 8) -> list[Delivery]:
    """The content the doctor opened most recently, with how deep they read."""
    rows = Delivery.objects.filter(hcp_id=hcp_id, opened_at__isnull=False).select_related("item")
    return list(rows.order_by("-opened_at", "-id")[:limit])


def hcp_content_seen(*, hcp_id: int, sent_within_days: int = 14) -> set[int]:
    """The content items the doctor opened, ever, or was sent within the last days."""
    since = timezone.now() - dt.timedelta(days=sent_within_days)
    return set(
        Delivery.objects.filter(
            Q(opened_at__isnull=False) | Q(created_at__gte=since, sent_ok=True), hcp_id=hcp_id
        ).values_list("item_id", flat=True)
    )


def content_items_by_code(*, codes: list[str]) -> dict[str, ContentItem]:
    rows = ContentItem.objects.filter(code__in=codes).select_related("approved_version")
    return {item.code: item for item in rows}


def answer_tags_since(since: dt.datetime, until: dt.datetime) -> list[AnswerTag]:
    """Tags set by survey answers in ``[since, until)``, oldest first."""
    rows = AnswerTag.objects.filter(set_at__gte=since, set_at__lt=until)
    return list(rows.order_by("set_at", "id"))
