"""Data change requests (DCRs): a rep proposes a new HCP or a change; a data steward decides.

The proposed values are kept as the rep typed them (``proposed``) so the steward sees exactly
what was asked; personal information (mobile, licence number) never enters that JSON: it is
stored like the HCP's own, encrypted + blind index + masked. What the rep was shown by the online
matcher ("is it one of these?") is kept too, so a duplicate created anyway can be explained.
"""

from __future__ import annotations

__all__ = ["DataChangeRequest"]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel


class DataChangeRequest(TimeStampedModel):
    class Kind(models.TextChoices):
        NEW_HCP = "new_hcp", _("New doctor")
        CHANGE_HCP = "change_hcp", _("Change a doctor")
        DEACTIVATE_HCP = "deactivate_hcp", _("Deactivate a doctor")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class DeactivationReason(models.TextChoices):
        LEFT = "left", _("Left the hospital")
        RETIRED = "retired", _("Retired")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    hcp = models.ForeignKey(
        "masterdata.HCP",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dcrs",
        verbose_name=_("doctor"),
    )
    # {"name", "gender", "title", "department", "hco_id", "hospital", "deactivation_reason"}:
    # never a clear phone or licence number (those are the *_encrypted fields below).
    proposed = models.JSONField(_("proposed values"), default=dict)
    mobile_encrypted = models.CharField(max_length=120, blank=True, editable=False)
    mobile_hash = models.CharField(max_length=40, blank=True, editable=False)
    mobile_masked = models.CharField(_("mobile phone"), max_length=20, blank=True, editable=False)
    licence_encrypted = models.CharField(max_length=120, blank=True, editable=False)
    licence_hash = models.CharField(max_length=40, blank=True, editable=False)
    licence_masked = models.CharField(
        _("practising licence no."), max_length=40, blank=True, editable=False
    )
    # Where the doctor works, for the steward queue's filter (the HCO's, else as typed).
    province = models.CharField(_("province"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("steward's reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    result_hcp = models.ForeignKey(
        "masterdata.HCP",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resulting doctor"),
    )
    # [{"hcp_id": 7, "probability": 0.83, "outcome": "review", "reasons": [...]}], best first.
    shown_matches = models.JSONField(_("matches shown"), default=list, blank=True)
    none_of_these = models.BooleanField(_("none of these"), default=False)
    # One per form: a double-tapped or retried submit finds the request it already made.
    idempotency_key = models.CharField(max_length=64, unique=True)
    # Null while the rep has not seen the steward's decision ("unread" on My requests).
    outcome_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("data change request")
        verbose_name_plural = _("data change requests")
        indexes = [
            models.Index(fields=["status", "kind"], name="dcr_status_idx"),
            models.Index(fields=["requested_by", "-created_at"], name="dcr_requester_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="new_hcp") | models.Q(hcp__isnull=False),
                name="dcr_change_has_hcp",
            ),
        ]

    def __str__(self) -> str:
        return f"DCR {self.pk} ({self.kind})"

    @property
    def name(self) -> str:
        return str(self.proposed.get("name", "")) or (self.hcp.name if self.hcp else "")

    @property
    def is_unread(self) -> bool:
        return self.status in {self.Status.APPROVED, self.Status.REJECTED} and (
            self.outcome_seen_at is None
        )
