"""Expiry of abandoned uploads: a staged file nobody mapped within a day is discarded.

A staged batch keeps the uploaded file (``ImportBatch.content``), which holds doctors' personal
information in clear, only until the steward confirms its column mapping. A batch still waiting
after ``EXPIRE_AFTER`` is closed as failed with a readable reason and its file erased.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import ImportBatch

EXPIRE_AFTER = dt.timedelta(hours=24)
BATCH_LIMIT = 200


def _expire_one(actor: Actor | None, batch_id: int, cutoff: dt.datetime) -> bool:
    with transaction.atomic():
        # Lock, then look again: the steward may have confirmed the mapping meanwhile.
        batch = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch_id, status=ImportBatch.Status.PENDING, created_at__lt=cutoff)
            .first()
        )
        if batch is None:
            return False
        # Nobody is signed in here: the reason is written in the platform's language.
        with translation.override(settings.LANGUAGE_CODE):
            batch.error = _("upload abandoned; file discarded after 24 hours")
        batch.content = None
        batch.status = ImportBatch.Status.FAILED
        batch.finished_at = timezone.now()
        batch.save(update_fields=["content", "status", "error", "finished_at"])
        audit_append(
            actor=actor,
            action="import_batch.expire",
            object_type="import_batch",
            object_id=batch.pk,
            before={"status": ImportBatch.Status.PENDING, "file_name": batch.file_name},
            after={"status": batch.status, "content": None},
        )
    return True


def import_batches_expire(
    *, actor: Actor | None = None, now: dt.datetime | None = None, limit: int = BATCH_LIMIT
) -> int:
    """Expire up to ``limit`` abandoned uploads, each in its own transaction; return how many."""
    cutoff = (now or timezone.now()) - EXPIRE_AFTER
    ids = list(
        ImportBatch.objects.filter(status=ImportBatch.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(_expire_one(actor, batch_id, cutoff) for batch_id in ids)
