"""Campaigns: schedule an approved content item for a list of HCPs, and the job that sends it.

``campaign_create`` fixes the audience when the campaign is scheduled (HCP codes pasted from a
list — unknown codes are named — or a filter on city, department and title) and writes one
waiting recipient per HCP. ``campaign_send_due`` (every minute) sends due campaigns in bounded
batches through ``delivery.delivery_share``, so the same checks apply as for a rep's share:
approved and valid content, consent to marketing on the channel, an address. It adds the
per-HCP frequency cap (``OMNIHCP_FREQUENCY_CAP``, "2/7": at most two deliveries in seven
days) and quiet hours (``OMNIHCP_QUIET_HOURS``, "21:00-08:00", Beijing time), when it sends
nothing. Each recipient's idempotency key is its campaign and HCP, so a job killed mid-batch
and run again sends no one twice. Every skip is recorded with its reason for the report.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError
from omnihcp.core.scope import DataScope
from omnihcp.engagement.delivery import delivery_share
from omnihcp.engagement.models import ContentItem
from omnihcp.engagement.models_campaign import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientOutcome,
)
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.selectors import content_is_sendable
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.selectors import HCPFilter, hcp_list, hcps_by_code

CHANNELS = ("sms", "wecom_external", "email")
MAX_AUDIENCE = 50_000
BATCH = 200
REASONS = {
    "no_consent": gettext_lazy("no consent"),
    "cap": gettext_lazy("frequency cap"),
    "no_address": gettext_lazy("no address on this channel"),
    "not_sendable": gettext_lazy("content no longer valid"),
    "failed": gettext_lazy("gateway error"),
}


def frequency_cap() -> tuple[int, int]:
    """(deliveries, days) from OMNIHCP_FREQUENCY_CAP, "2/7" by default."""
    found = re.fullmatch(r"(\d+)/(\d+)", os.environ.get("OMNIHCP_FREQUENCY_CAP", "2/7").strip())
    return (int(found[1]), int(found[2])) if found else (2, 7)


def quiet_hours() -> tuple[dt.time, dt.time]:
    """(start, end) from OMNIHCP_QUIET_HOURS, "21:00-08:00" by default; may span midnight."""
    raw = os.environ.get("OMNIHCP_QUIET_HOURS", "21:00-08:00").strip()
    found = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", raw)
    if not found:
        return dt.time(21), dt.time(8)
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    return dt.time(h1 % 24, m1 % 60), dt.time(h2 % 24, m2 % 60)


def in_quiet_hours(moment: dt.datetime) -> bool:
    start, end = quiet_hours()
    local = timezone.localtime(moment).time()
    if start == end:
        return False
    return start <= local < end if start < end else local >= start or local < end


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    item_id: int | None
    channel: str
    scheduled_at: dt.datetime | None
    codes: str = ""  # HCP codes, one per line or separated by commas or spaces
    city: str = ""
    standard_department: str = ""
    title: str = ""
    # An audience resolved by a higher module (a segment): its HCP ids and how to name it.
    hcp_ids: tuple[int, ...] = ()
    audience_label: str = ""


def _audience(draft: CampaignDraft, scope: DataScope) -> tuple[dict[str, Any], list[int]]:
    if draft.hcp_ids:
        if len(draft.hcp_ids) > MAX_AUDIENCE:
            raise ApplicationError(
                _("At most %(n)s doctors in one campaign.") % {"n": MAX_AUDIENCE}, field="codes"
            )
        ids = list(dict.fromkeys(draft.hcp_ids))
        return {"segment": draft.audience_label, "count": len(ids)}, ids
    codes = [c for c in re.split(r"[\s,，;；]+", draft.codes.strip()) if c]
    if codes:
        if len(codes) > MAX_AUDIENCE:
            raise ApplicationError(
                _("At most %(n)s doctors in one campaign.") % {"n": MAX_AUDIENCE}, field="codes"
            )
        found = hcps_by_code(scope=scope, codes=list(dict.fromkeys(codes)))
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise ApplicationError(
                _("Unknown doctor codes: %(codes)s") % {"codes": ", ".join(unknown[:10])},
                field="codes",
            )
        ids = list(dict.fromkeys(h.pk for h in found.values()))
        return {"codes": codes[:1000], "count": len(codes)}, ids
    if not (draft.city or draft.standard_department or draft.title):
        raise ApplicationError(
            _("Paste doctor codes, or choose a city, department or title."), field="codes"
        )
    rows = hcp_list(
        scope=scope,
        filters=HCPFilter(
            city=draft.city, standard_department=draft.standard_department, title=draft.title
        ),
    )
    ids = list(rows.values_list("pk", flat=True)[: MAX_AUDIENCE + 1])
    if len(ids) > MAX_AUDIENCE:
        raise ApplicationError(
            _("At most %(n)s doctors in one campaign: narrow the filter.") % {"n": MAX_AUDIENCE},
            field="codes",
        )
    if not ids:
        raise ApplicationError(_("No doctor matches this filter."), field="codes")
    audience = {"city": draft.city, "department": draft.standard_department, "title": draft.title}
    return audience, ids


def campaign_create(*, actor: Actor, scope: DataScope, draft: CampaignDraft) -> Campaign:
    """Schedule a campaign; the audience is resolved now and fixed."""
    name = draft.name.strip()
    if not name:
        raise ApplicationError(_("This field is required."), field="name")
    if len(name) > 120:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 120}, field="name")
    item = ContentItem.objects.filter(pk=draft.item_id).first() if draft.item_id else None
    if item is None or not content_is_sendable(item=item):
        raise ApplicationError(_("Choose approved content that may be sent."), field="item")
    if draft.channel not in CHANNELS:
        raise ApplicationError(_("Choose a channel."), field="channel")
    if draft.scheduled_at is None:
        raise ApplicationError(_("Enter a date and time."), field="scheduled_at")
    if draft.scheduled_at < timezone.now() - dt.timedelta(minutes=5):
        raise ApplicationError(_("The time has passed."), field="scheduled_at")
    if item.valid_until and timezone.localtime(draft.scheduled_at).date() > item.valid_until:
        raise ApplicationError(
            _("The content's approval ends before this time."), field="scheduled_at"
        )
    audience, ids = _audience(draft, scope)
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.create(
            name=name,
            item=item,
            channel=draft.channel,
            audience=audience,
            scheduled_at=draft.scheduled_at,
            status=CampaignStatus.SCHEDULED,
            created_by_id=actor.pk,
        )
        CampaignRecipient.objects.bulk_create(
            (CampaignRecipient(campaign=campaign, hcp_id=pk) for pk in ids), batch_size=1000
        )
        audit_append(
            actor=actor,
            action="campaign.schedule",
            object_type="engagement.campaign",
            object_id=campaign.pk,
            after={"item": item.code, "channel": draft.channel, "recipients": len(ids)},
        )
    return campaign


def campaign_cancel(*, actor: Actor, campaign: Campaign) -> Campaign:
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            raise ApplicationError(
                _("Only a campaign still to send can be cancelled."), code="invalid_state"
            )
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
        audit_append(
            actor=actor,
            action="campaign.cancel",
            object_type="engagement.campaign",
            object_id=campaign.pk,
        )
    return campaign


def _capped(hcp_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """Deliveries each HCP received within the cap's window."""
    _limit, days = frequency_cap()
    rows = (
        Delivery.objects.filter(
            hcp_id__in=hcp_ids, sent_ok=True, created_at__gte=now - dt.timedelta(days=days)
        )
        .exclude(channel="link")
        .values("hcp_id")
        .annotate(n=Count("id"))
    )
    return {row["hcp_id"]: row["n"] for row in rows}


def _decide(
    recipient: CampaignRecipient,
    outcome: str,
    reason: str = "",
    delivery: Delivery | None = None,
) -> None:
    recipient.outcome, recipient.reason = outcome, reason
    recipient.delivery = delivery
    recipient.decided_at = timezone.now()
    recipient.save(update_fields=["outcome", "reason", "delivery", "decided_at"])


def _reason(exc: ApplicationError) -> str:
    if exc.code == "no_consent":
        return "no_consent"
    if exc.field == "item":
        return "not_sendable"
    # field "channel" or "email": no number, no email address, not a WeCom contact
    return "no_address"


def _key(campaign: Campaign, hcp_id: int) -> str:
    return f"campaign-{campaign.pk}-{hcp_id}"


def _send_one(
    campaign: Campaign,
    recipient: CampaignRecipient,
    counts: dict[int, int],
    sendable: bool,
    sent: Delivery | None,  # already sent, before a crash
) -> None:
    key = _key(campaign, recipient.hcp_id)
    if sent is None:
        actor = campaign.created_by
        if not sendable:
            _decide(recipient, RecipientOutcome.SKIPPED, "not_sendable")
            return
        if actor is None:  # the author's account was deleted: nobody to send as
            _decide(recipient, RecipientOutcome.FAILED, "failed")
            return
        if counts.get(recipient.hcp_id, 0) >= frequency_cap()[0]:
            _decide(recipient, RecipientOutcome.SKIPPED, "cap")
            return
        try:
            sent = delivery_share(
                actor=actor,
                hcp=recipient.hcp,
                item=campaign.item,
                channel=campaign.channel,
                base_url=settings.OMNIHCP_BASE_URL,
                idempotency_key=key,
            )
        except ApplicationError as exc:
            _decide(recipient, RecipientOutcome.SKIPPED, _reason(exc))
            return
    if sent.sent_ok:
        counts[recipient.hcp_id] = counts.get(recipient.hcp_id, 0) + 1
        _decide(recipient, RecipientOutcome.SENT, delivery=sent)
    else:
        _decide(recipient, RecipientOutcome.FAILED, "failed", delivery=sent)


def campaign_send_due(*, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Send the next batch of every due campaign (the minute job); recipients decided."""
    now = now or timezone.now()
    if in_quiet_hours(now):
        return 0
    decided = 0
    due = Campaign.objects.filter(
        status__in=[CampaignStatus.SCHEDULED, CampaignStatus.SENDING], scheduled_at__lte=now
    ).select_related("item", "item__approved_version", "created_by")
    for campaign in due[:20]:
        if campaign.status == CampaignStatus.SCHEDULED:
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        waiting = campaign.recipients.filter(outcome=RecipientOutcome.PENDING)
        pending = list(waiting.select_related("hcp")[:batch])
        counts = _capped([r.hcp_id for r in pending], now)
        sendable = content_is_sendable(item=campaign.item, on=timezone.localtime(now).date())
        keys = [_key(campaign, r.hcp_id) for r in pending]
        done = {d.idempotency_key: d for d in Delivery.objects.filter(idempotency_key__in=keys)}
        for recipient, key in zip(pending, keys, strict=True):
            _send_one(campaign, recipient, counts, sendable, done.get(key))
            decided += 1
        if not waiting.exists():
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
                status=CampaignStatus.DONE, finished_at=timezone.now()
            )
    return decided


@dataclass(frozen=True)
class CampaignReport:
    recipients: int
    waiting: int
    sent: int
    failed: int
    skipped: dict[str, int]
    opened: int
    read_through: int
    answered: int

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def campaign_report(*, campaign: Campaign) -> CampaignReport:
    """Sent / skipped by reason / opened / read through, from the recipients and deliveries."""
    outcomes = dict(
        campaign.recipients.values("outcome").annotate(n=Count("id")).values_list("outcome", "n")
    )
    skipped = dict(
        campaign.recipients.filter(outcome=RecipientOutcome.SKIPPED)
        .values("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    reading = campaign.recipients.filter(outcome=RecipientOutcome.SENT).aggregate(
        opened=Count("id", filter=Q(delivery__opened_at__isnull=False)),
        read_through=Count("id", filter=Q(delivery__read_through=True)),
        answered=Count("id", filter=Q(delivery__response__isnull=False)),
    )
    return CampaignReport(
        recipients=sum(outcomes.values()),
        waiting=outcomes.get(RecipientOutcome.PENDING, 0),
        sent=outcomes.get(RecipientOutcome.SENT, 0),
        failed=outcomes.get(RecipientOutcome.FAILED, 0),
        skipped=skipped,
        opened=reading["opened"],
        read_through=reading["read_through"],
        answered=reading["answered"],
    )


def cap_frees_at(*, hcp_id: int, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the doctor may receive content again, if the frequency cap holds them now."""
    now = now or timezone.now()
    limit, days = frequency_cap()
    sent = list(
        Delivery.objects.filter(
            hcp_id=hcp_id, sent_ok=True, created_at__gte=now - dt.timedelta(days=days)
        )
        .exclude(channel="link")
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(sent) < limit:
        return None
    return sent[-1] + dt.timedelta(days=days)
