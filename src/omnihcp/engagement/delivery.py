"""Sharing approved content with an HCP, and what the HCP's page records.

``delivery_share`` refuses what may not be sent — content that is not approved and valid
today, a channel the HCP has not consented to for marketing, an HCP without an address on that
channel — then sends through the channel adapter and puts "Content Sent" on the timeline. The
public page (``views_public``) opens the delivery from its signed token; ``delivery_record``
writes what the HCP did there (open, read with dwell time and scroll depth, video progress,
forward) as activities, each once (its message id), and only with consent to profiling.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.channels import OutboundMessage, channel_for
from omnihcp.engagement.consent import consent_allows
from omnihcp.engagement.models import ContentItem
from omnihcp.engagement.models_consent import ConsentPurpose
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.selectors import content_is_sendable
from omnihcp.engagement.training_gate import share_block
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP
from omnihcp.masterdata.selectors_identity import hcp_external_id
from omnihcp.tracking.selectors import activity_recorded
from omnihcp.tracking.services import activity_record

LINK_DAYS = 30
SALT = "omnihcp.engagement.delivery"
# Which consent channel covers a delivery channel.
CONSENT_CHANNEL = {"wecom_external": "wecom", "sms": "sms", "email": "email", "link": "wecom"}
SHARE_CHANNELS = ("wecom_external", "sms", "email", "link")
DOCTOR_LANGUAGE = "zh-hans"  # what doctors read; the pages follow their browser
EVENTS = {
    "open": "Content Opened",
    "read": "Content Read",
    "video": "Video Watched",
    "forward": "Content Forwarded",
}


METRICS = (
    ("dwell_seconds", 86_400),
    ("scroll_depth", 1),
    ("video_seconds", 86_400),
    ("video_percent", 1),
)
READ_THROUGH = 0.9  # scrolled to the last tenth, or watched 90%


def consent_channel(delivery: Delivery) -> str:
    """The consent channel that covers a delivery's channel."""
    return CONSENT_CHANNEL.get(delivery.channel, "web")


class LinkExpiredError(ApplicationError):
    status = 410

    def __init__(self, message: Any) -> None:
        super().__init__(message, code="expired", errors=[])


class _SentAtSigner(signing.TimestampSigner):
    """Signs with the delivery's send time rather than the clock's, so the same delivery always
    has the same link (a retried share shows the link it already made) and its age counts from
    the send."""

    def __init__(self, sent_at: dt.datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent_at = sent_at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self.sent_at.timestamp()))


def delivery_token(delivery: Delivery) -> str:
    signer = _SentAtSigner(delivery.created_at, salt=SALT)
    return signer.sign_object(delivery.pk, compress=True)


def delivery_from_token(token: str) -> Delivery:
    """The delivery a link names; a forged or altered token is not found, an old one expired."""
    try:
        pk = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise LinkExpiredError(_("This link has expired.")) from None
    except signing.BadSignature:
        raise NotFoundError(_("No such link.")) from None
    delivery = Delivery.objects.select_related("item", "version", "hcp").filter(pk=pk).first()
    if delivery is None:
        raise NotFoundError(_("No such link."))
    if delivery.expires_at < timezone.now():
        raise LinkExpiredError(_("This link has expired."))
    return delivery


def _address(hcp: HCP, channel: str, email: str = "") -> str:
    if channel == "sms":
        # Read to send, never shown: the number goes only to the SMS gateway.
        mobile = pi.decrypt(hcp.mobile_encrypted)
        if not mobile:
            raise ApplicationError(_("This doctor has no mobile number on file."), field="channel")
        return mobile
    if channel == "email" and email:
        try:
            validate_email(email)
        except ValidationError:
            raise ApplicationError(_("Enter a valid email address."), field="email") from None
        return email
    if channel == "email":
        email = pi.decrypt(hcp.email_encrypted)
        if not email:
            raise ApplicationError(_("This doctor has no email address on file."), field="email")
        return email
    if channel == "wecom_external":
        external = hcp_external_id(hcp_id=hcp.pk, source="wecom")
        if not external:
            raise ApplicationError(
                _("This doctor is not your WeCom contact yet: share the link in a chat."),
                field="channel",
            )
        return external
    return ""


def delivery_share(
    *,
    actor: Actor,
    hcp: HCP,
    item: ContentItem,
    channel: str,
    base_url: str,
    sender_wecom_id: str = "",
    idempotency_key: str = "",
    email: str = "",
    at: dt.datetime | None = None,
) -> Delivery:
    """Send ``item`` to ``hcp`` by ``channel`` (``link``: make the link for the rep to paste;
    ``email``: an address to use instead of the one on file; ``at``: when, for history loaded
    from another system — now by default)."""
    at = at or timezone.now()
    if channel not in SHARE_CHANNELS:
        raise ApplicationError(_("Choose a channel."), field="channel")
    if idempotency_key:
        done = Delivery.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    if not content_is_sendable(item=item):
        raise ApplicationError(
            _("Only approved content within its validity may be sent."), field="item"
        )
    blocked = share_block(actor=actor, item=item)
    if blocked:
        raise ApplicationError(blocked, field="item", code="training")
    if not consent_allows(
        hcp_id=hcp.pk, purpose=ConsentPurpose.MARKETING, channel=CONSENT_CHANNEL[channel]
    ):
        raise ApplicationError(
            _("The doctor has not agreed to marketing messages on this channel."),
            field="channel",
            code="no_consent",
        )
    address = _address(hcp, channel, email)
    version = item.approved_version
    if version is None:  # a sendable item always has one
        raise ApplicationError(_("Only approved content within its validity may be sent."))
    try:
        with transaction.atomic(durable=True):
            delivery = Delivery.objects.create(
                item=item,
                version=version,
                hcp=hcp,
                channel=channel,
                sender_id=actor.pk,
                idempotency_key=idempotency_key or None,
                created_at=at,
                expires_at=at + dt.timedelta(days=LINK_DAYS),
            )
            audit_append(
                actor=actor,
                action="delivery.share",
                object_type="engagement.delivery",
                object_id=delivery.pk,
                after={"item": item.pk, "hcp": hcp.pk, "channel": channel},
            )
    except IntegrityError:  # the same key, sent at the same moment by a retry
        return Delivery.objects.get(idempotency_key=idempotency_key)
    url = delivery_url(delivery, base_url)
    if channel == "link":
        delivery.sent_ok = True
    else:
        with translation.override(DOCTOR_LANGUAGE):
            # Every message carries its way out (PIPL): the withdrawal link.
            unsubscribe = _("Unsubscribe: %(url)s") % {"url": withdraw_url(delivery, base_url)}
            text = f"{version.summary or version.title} {unsubscribe}"
        result = channel_for(channel).send(
            OutboundMessage(
                channel=channel,
                to=address,
                title=version.title,
                text=text,
                url=url,
                sender=sender_wecom_id,
            )
        )
        delivery.sent_ok, delivery.provider_id = result.ok, result.provider_id
        delivery.error = f"{result.error_code} {result.error_text}".strip()[:300]
    delivery.save(update_fields=["sent_ok", "provider_id", "error"])
    if delivery.sent_ok:
        activity_record(
            module="engagement",
            events=[
                {
                    "message_id": f"delivery-{delivery.pk}-sent",
                    "hcp_id": hcp.pk,
                    "occurred_at": at,
                    "event": "Content Sent",
                    "channel": channel,
                    "content_ref": item.code,
                    "properties": {"title": version.title, "sender": actor.get_username()},
                }
            ],
        )
    return delivery


def delivery_url(delivery: Delivery, base_url: str) -> str:
    return base_url.rstrip("/") + reverse(
        "engagement-public:content", args=[delivery_token(delivery)]
    )


def withdraw_url(delivery: Delivery, base_url: str) -> str:
    return base_url.rstrip("/") + reverse(
        "engagement-public:withdraw", args=[delivery_token(delivery)]
    )


def delivery_record(
    *,
    delivery: Delivery,
    kind: str,
    view_id: str,
    data: dict[str, Any],
    at: dt.datetime | None = None,
) -> bool:
    """One thing the HCP did on the page; False when not recorded (no profiling consent)."""
    at = at or timezone.now()
    if kind not in EVENTS:
        raise ApplicationError(_("Unknown event."), field="type")
    if kind == "open" and delivery.opened_at is None:
        Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=at)
    if not consent_allows(
        hcp_id=delivery.hcp_id, purpose=ConsentPurpose.PROFILING, channel=consent_channel(delivery)
    ):
        return False
    message_id = f"delivery-{delivery.pk}-{kind}-{view_id[:40]}"
    if activity_recorded(stream="engagement", message_id=message_id):
        return True  # a retried beacon
    properties: dict[str, Any] = {"delivery": delivery.pk, "sender": delivery.sender_id}
    for name, high in METRICS:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= high:
            properties[name] = round(float(value), 2)
    _measure(delivery, kind, properties)
    activity_record(
        module="engagement",
        events=[
            {
                "message_id": message_id,
                "hcp_id": delivery.hcp_id,
                "occurred_at": at,
                "event": EVENTS[kind],
                "channel": delivery.channel,
                "content_ref": delivery.item.code,
                "properties": properties,
            }
        ],
    )
    return True


def _measure(delivery: Delivery, kind: str, properties: dict[str, Any]) -> None:
    """Keep the deepest reading of all the delivery's views on its row (for reports)."""
    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if kind == "forward":
            row.forwards += 1
        row.dwell_seconds = max(row.dwell_seconds, properties.get("dwell_seconds", 0))
        row.scroll_depth = max(row.scroll_depth, properties.get("scroll_depth", 0))
        row.video_percent = max(row.video_percent, properties.get("video_percent", 0))
        row.read_through = row.read_through or (
            row.scroll_depth >= READ_THROUGH or row.video_percent >= READ_THROUGH
        )
        row.save(
            update_fields=[
                "forwards",
                "dwell_seconds",
                "scroll_depth",
                "video_percent",
                "read_through",
            ]
        )
