"""Third-party doctor-platform user lists and their links to HCPs.

A ``PlatformUserList`` is one file a doctor platform delivered (its users: name, hospital,
department, title, and perhaps a phone hash or a WeChat openid); each ``PlatformUser`` is one
user of that platform, matched to the master by ``masterdata.matching.online``. A user is
unique per platform: a later list updates the users it delivers again and becomes their list.

Personal information: a platform's openid/unionid and phone are kept only as blind indexes
(``core.pi.blind_index``) plus a masked form; a clear phone number in a file is blind-indexed
and dropped. Linked users also own an ``ExternalIdentity(source=platform, external_id=user id)``
so that the tracking module resolves the platform's user ids to HCPs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.masterdata.models import HCO, HCP, HospitalLevel

__all__ = ["PlatformOutcome", "PlatformUser", "PlatformUserList"]


class PlatformOutcome(models.TextChoices):
    AUTO = "auto", _("Matched automatically")
    CONFIRMED = "confirmed", _("Confirmed by a data steward")
    REVIEW = "review", _("To review")
    UNMATCHED = "unmatched", _("Not matched")


class PlatformUserList(models.Model):
    """One uploaded user list of a doctor platform, with its counts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the column mapping")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    platform = models.CharField(_("platform code"), max_length=40, db_index=True)
    platform_name = models.CharField(_("platform"), max_length=120)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    columns = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    # The uploaded file, kept only between the upload and the mapping step; cleared once
    # imported, since it may hold phone numbers in clear.
    content = models.BinaryField(null=True, blank=True, editable=False)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    auto = models.PositiveIntegerField(_("matched automatically"), default=0)
    review = models.PositiveIntegerField(_("to review"), default=0)
    unmatched = models.PositiveIntegerField(_("not matched"), default=0)
    # [{"row": 7, "field": "name", "column": "姓名", "reason": "..."}], spreadsheet row numbers.
    rejected_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    seconds = models.FloatField(_("import time (s)"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("platform user list")
        verbose_name_plural = _("platform user lists")

    def __str__(self) -> str:
        return f"{self.platform}:{self.file_name}"


class PlatformUser(models.Model):
    """One user of a doctor platform, the HCO its hospital text names, and the HCP it is."""

    user_list = models.ForeignKey(
        PlatformUserList, on_delete=models.CASCADE, related_name="users", verbose_name=_("list")
    )
    platform = models.CharField(_("platform code"), max_length=40)
    platform_user_id = models.CharField(_("platform user id"), max_length=128)
    openid_hash = models.CharField(max_length=40, blank=True, editable=False)
    openid_masked = models.CharField(_("openid"), max_length=40, blank=True, editable=False)
    unionid_hash = models.CharField(max_length=40, blank=True, editable=False)
    unionid_masked = models.CharField(_("unionid"), max_length=40, blank=True, editable=False)
    phone_hash = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=40)
    hospital = models.CharField(_("hospital"), max_length=120)
    department = models.CharField(_("department"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=40, blank=True)
    # The resolved HCO's province and city, else the file's.
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    hco = models.ForeignKey(HCO, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    hospital_level = models.CharField(
        _("hospital level"), max_length=4, choices=HospitalLevel.choices, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=PlatformOutcome.choices)
    best_probability = models.FloatField(_("match probability"), null=True, blank=True)
    # [{"hcp_id": 12, "probability": 0.93, "reasons": [...], "comparisons": {...}}], best first.
    candidates = models.JSONField(default=list, blank=True)
    hcp = models.ForeignKey(HCP, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    # A blind index of the mapped row: a later list with the same row is not matched again.
    row_hash = models.CharField(max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["row_number", "id"]
        verbose_name = _("platform user")
        verbose_name_plural = _("platform users")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"], name="platform_user_unique"
            )
        ]
        indexes = [
            models.Index(fields=["user_list", "outcome"], name="platform_user_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_user_id}"
