"""Consent (PIPL): per HCP × purpose × channel, its full history and its current state.

``ConsentEvent`` rows are append-only: every grant or withdrawal with who recorded it, how
(the HCP's own page, a rep who asked, a withdrawal link) and its evidence (notice version,
page, time, the client's user agent). ``Consent`` holds the current answer per HCP × purpose ×
channel, written in the same transaction, so a check before a send is one indexed read.
"""

from __future__ import annotations

__all__ = ["Consent", "ConsentChannel", "ConsentEvent", "ConsentPurpose", "ConsentSource"]

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omnihcp.masterdata.models import HCP


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing communication")
    PROFILING = "profiling", _("Profiling and personalisation")
    RESEARCH = "research", _("Research")


class ConsentChannel(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEB = "web", _("Web pages")


class ConsentSource(models.TextChoices):
    HCP_PAGE = "hcp_page", _("The doctor, on a content page")
    REP = "rep", _("Recorded by a rep")
    WITHDRAWAL_LINK = "withdrawal_link", _("The doctor, by a withdrawal link")
    IMPORT = "import", _("Imported")


class ConsentEvent(models.Model):
    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=12, choices=ConsentPurpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=ConsentChannel.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("how"), max_length=16, choices=ConsentSource.choices)
    notice_version = models.CharField(_("notice"), max_length=20, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["hcp", "-created_at"], name="consent_event_hcp_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.purpose}/{self.channel} {self.granted}"


class Consent(models.Model):
    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=12, choices=ConsentPurpose.choices)
    channel = models.CharField(max_length=8, choices=ConsentChannel.choices)
    granted = models.BooleanField()
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hcp", "purpose", "channel"], name="consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.purpose}/{self.channel} {self.granted}"
