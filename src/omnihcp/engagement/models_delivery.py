"""Deliveries: one approved content version sent to one HCP by one channel, and its link.

The link carries a signed token (``django.core.signing``: an HMAC of the delivery id with a
timestamp), so it cannot be guessed or altered and it expires; the row records the send's
outcome and the first open. What the HCP then does on the page goes to the activity timeline.
"""

from __future__ import annotations

__all__ = ["Delivery"]

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omnihcp.masterdata.models import HCP


class Delivery(models.Model):
    item = models.ForeignKey("engagement.ContentItem", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "engagement.ContentVersion", on_delete=models.PROTECT, related_name="+"
    )
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=16)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A retried share (a double tap, a flaky network) sends nothing twice.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    sent_ok = models.BooleanField(_("sent"), default=False)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    # What the HCP's page reported, the deepest of all views (the content performance page).
    dwell_seconds = models.FloatField(default=0)
    scroll_depth = models.FloatField(default=0)
    read_through = models.BooleanField(default=False)  # scrolled to the end, or watched 90%
    video_percent = models.FloatField(default=0)
    forwards = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["hcp", "-created_at"], name="delivery_hcp_idx"),
            models.Index(fields=["item", "created_at"], name="delivery_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}→{self.hcp_id} ({self.channel})"
