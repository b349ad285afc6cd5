"""Trained matching models, persisted and versioned per entity type.

A model is Splink's settings with the m and u probabilities it learnt; the online matcher and
the importer score with the newest active version, and every version stays, so that a decision
can be traced to the model that made it (its label is in each candidate's explanation).
"""

from __future__ import annotations

__all__ = ["MatchingModel"]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MatchingModel(models.Model):
    class EntityType(models.TextChoices):
        HCP = "hcp", _("HCP")
        HCO = "hco", _("HCO")

    entity_type = models.CharField(_("entity type"), max_length=4, choices=EntityType.choices)
    version = models.PositiveIntegerField(_("version"))
    config_digest = models.CharField(max_length=64)
    splink_settings = models.JSONField()
    trained_on = models.CharField(_("trained on"), max_length=255, blank=True)
    records = models.PositiveIntegerField(_("records"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_type", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_type", "version"], name="matching_model_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} v{self.version}"
