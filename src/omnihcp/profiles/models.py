"""Tags of doctors: definitions in three categories and three kinds, each doctor's current
tags, and the history of every change.

A *manual* tag is set by a rep or a steward (who, when); a *rule* tag holds for exactly the
doctors its rule (``profiles.rules``) matches, recomputed when activity arrives and in full on
a schedule; a *model* tag is written by a model (NLP interests, propensities) with a weight.
``HCPTag`` is the current state (one row per doctor and tag); ``HCPTagEvent`` keeps every set
and clear, so the history of a doctor's tags survives their recomputation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.masterdata.models import HCP


class TagCategory(models.TextChoices):
    BASIC = "basic", _("Basic")
    MARKETING = "marketing", _("Marketing")
    VALUE = "value", _("Value")


class TagKind(models.TextChoices):
    MANUAL = "manual", _("Manual")
    RULE = "rule", _("Rule")
    MODEL = "model", _("Model")


class TagDefinition(TimeStampedModel):
    name = models.CharField(_("name"), max_length=60, unique=True)
    category = models.CharField(_("category"), max_length=10, choices=TagCategory.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=TagKind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rule = models.TextField(_("rule"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recomputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class HCPTag(models.Model):
    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(TagDefinition, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(_("value"), max_length=100, blank=True)
    weight = models.FloatField(null=True, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "definition"], name="hcp_tag_unique")]
        indexes = [models.Index(fields=["definition", "hcp"], name="hcp_tag_definition_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id}:{self.definition_id}"


class HCPTagEvent(models.Model):
    class Action(models.TextChoices):
        SET = "set", _("Set")
        CLEAR = "clear", _("Cleared")

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(TagDefinition, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=5, choices=Action.choices)
    value = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10)  # manual / rule / model / merge
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["hcp", "-created_at"], name="hcp_tag_event_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.action} {self.definition_id}"


class RecomputeCursor(models.Model):
    """Up to when the incremental job has recomputed rule tags for doctors with new activity."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.at}"


class Segment(TimeStampedModel):
    """A saved audience: the doctors a rule matches, counted when it is used (never stored)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rule = models.TextField(_("rule"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
