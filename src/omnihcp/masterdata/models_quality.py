"""Daily snapshots of master-data quality, for the quality page's trend."""

from __future__ import annotations

__all__ = ["QualitySnapshot"]

from django.db import models
from django.utils.translation import gettext_lazy as _


class QualitySnapshot(models.Model):
    """The quality figures of one day; taking the snapshot again that day replaces them."""

    day = models.DateField(_("day"), unique=True)
    # {"hcp_completeness": {...}, "hco_completeness": {...}, "failures": [...],
    #  "candidates": [...], "duplicates": {...}, "sources": [...]}, built by masterdata.quality.
    figures = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["-day"]
        verbose_name = _("quality snapshot")

    def __str__(self) -> str:
        return self.day.isoformat()
