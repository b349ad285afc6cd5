"""Reads of the file import: sources and batches. Imports are HQ work, not territory-scoped."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.masterdata.models import ImportBatch, ImportSource


def import_source_list() -> QuerySet[ImportSource]:
    return ImportSource.objects.order_by("code")


def import_source_get(*, source_id: int) -> ImportSource:
    source = ImportSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFoundError(_("No such import source."))
    return source


def import_batch_list() -> QuerySet[ImportBatch]:
    return (
        ImportBatch.objects.select_related("source", "created_by")
        .defer("content", "rejected_rows")
        .order_by("-created_at", "-id")
    )


def import_batch_get(*, batch_id: int) -> ImportBatch:
    batch = ImportBatch.objects.select_related("source", "created_by").filter(pk=batch_id).first()
    if batch is None:
        raise NotFoundError(_("No such import."))
    return batch


def import_source_find(*, code: str) -> ImportSource | None:
    return ImportSource.objects.filter(code=code).first()


def import_batch_earlier(*, batch: ImportBatch) -> ImportBatch | None:
    """An earlier successful import of the very same file from the same source."""
    return (
        ImportBatch.objects.filter(
            source_id=batch.source_id, sha256=batch.sha256, status=ImportBatch.Status.DONE
        )
        .exclude(pk=batch.pk)
        .filter(created_at__lte=batch.created_at)
        .defer("content", "rejected_rows")
        .order_by("created_at", "id")
        .first()
    )
