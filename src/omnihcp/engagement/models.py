"""The content library: content items (资料), their versions and their MLR approval (合规审批).

A content item moves draft → in review → approved (with an approval number and validity
dates) → expired or withdrawn. What may be sent is the *approved version*: editing an approved
item makes a new draft version beside it, which goes through review in its turn while the
approved one stays sendable. Every workflow step is a ``ContentReview`` row (who, what, when,
comment), besides the audit chain.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.org.models import Product, TherapyArea


class ContentKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    LITERATURE = "literature", _("Literature (PDF)")
    CLINICAL_CASE = "case", _("Clinical case")
    VIDEO = "video", _("Video")
    SLIDES = "slides", _("Slide deck")
    INVITATION = "invitation", _("Meeting invitation")
    QUIZ = "quiz", _("Quiz")
    SURVEY = "survey", _("Survey")


class ContentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUPERSEDED = "superseded", _("Superseded")  # a version after a newer one was approved


class ContentItem(TimeStampedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=ContentKind.choices)
    therapy_area = models.ForeignKey(
        TherapyArea,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("therapy area"),
    )
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    key_messages = models.JSONField(_("key messages"), default=list, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ContentStatus.choices, default=ContentStatus.DRAFT
    )
    # The version that may be sent (None until one is approved), and its approval.
    approved_version = models.ForeignKey(
        "ContentVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approval_number = models.CharField(_("approval number"), max_length=40, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        indexes = [models.Index(fields=["status", "valid_until"], name="content_status_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ContentVersion(models.Model):
    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("text"), blank=True)
    url = models.URLField(_("file or video link"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ContentStatus.choices, default=ContentStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="content_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item.code} v{self.number}"


class ContentReview(models.Model):
    """One step of the MLR workflow, as the reviewers and the author see it."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("Submitted for review")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Sent back")
        WITHDRAW = "withdraw", _("Withdrawn")
        EXPIRE = "expire", _("Expired")

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="reviews")
    version = models.ForeignKey(ContentVersion, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    comment = models.TextField(_("comment"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.item.code} {self.action}"


from omnihcp.engagement.models_campaign import *  # noqa: E402, F403
from omnihcp.engagement.models_consent import *  # noqa: E402, F403
from omnihcp.engagement.models_delivery import *  # noqa: E402, F403
from omnihcp.engagement.models_questionnaire import *  # noqa: E402, F403
from omnihcp.engagement.models_training import *  # noqa: E402, F403
