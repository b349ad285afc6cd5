"""Campaigns: one approved content item sent to a list of HCPs by one channel, on a schedule.

The audience is fixed when the campaign is scheduled (a list of HCP codes, or a filter on
city, department and title until segments exist); each HCP is one ``CampaignRecipient`` whose
outcome says what happened: sent (with its delivery), skipped and why (no consent, frequency
cap, no address, content no longer valid), or failed at the gateway.
"""

from __future__ import annotations

__all__ = ["Campaign", "CampaignRecipient", "CampaignStatus", "RecipientOutcome"]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.masterdata.models import HCP


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class RecipientOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class Campaign(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    item = models.ForeignKey(
        "engagement.ContentItem",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("content"),
    )
    channel = models.CharField(_("channel"), max_length=16)
    # {"codes": [...]} or {"city": "", "department": "", "title": ""}
    audience = models.JSONField(_("audience"), default=dict)
    scheduled_at = models.DateTimeField(_("send at"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due_idx")]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(
        max_length=8, choices=RecipientOutcome.choices, default=RecipientOutcome.PENDING
    )
    reason = models.CharField(max_length=20, blank=True)
    delivery = models.ForeignKey(
        "engagement.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "hcp"], name="campaign_recipient_unique")
        ]
        indexes = [models.Index(fields=["campaign", "outcome"], name="recipient_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.hcp_id}"
