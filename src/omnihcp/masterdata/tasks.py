"""Background jobs of master data (django-tasks); each is idempotent and takes no personal data.

They are run periodically by ``omnihcp scheduler`` as listed in ``config/schedule.py``.
"""

from __future__ import annotations

from django_tasks import task

from omnihcp.masterdata.importing.expiry import import_batches_expire
from omnihcp.masterdata.quality import quality_snapshot_take


@task()
def take_quality_snapshot_task() -> str:
    """Take today's quality snapshot (again: the day's row is replaced)."""
    return quality_snapshot_take(actor=None).day.isoformat()


@task()
def expire_abandoned_uploads_task() -> int:
    """Discard staged upload files abandoned for more than a day, one bounded batch per run."""
    return import_batches_expire(actor=None)
