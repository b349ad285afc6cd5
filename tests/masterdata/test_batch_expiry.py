"""Abandoned uploads: a file staged for its column mapping and never mapped is discarded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.importing.expiry import import_batches_expire
from omnihcp.masterdata.importing.services import import_batch_stage, import_source_create
from omnihcp.masterdata.models import ImportBatch
from omnihcp.masterdata.tasks import expire_abandoned_uploads_task

pytestmark = pytest.mark.django_db

CONTENT = "姓名,手机,医院\r\n张三,13800138000,杭州市第一人民医院\r\n".encode()
# Written in the site's language (zh-hans), as the batch keeps it for whoever reads it later.
MESSAGE = "上传未完成；文件已于 24 小时后丢弃"


@pytest.fixture
def stage(cast_user: Callable[[str], Any]) -> Callable[[float], ImportBatch]:
    steward = cast_user("steward")
    source = import_source_create(actor=steward, code="qa-exp", name="QA", entity_type="hcp")

    def make(hours_ago: float) -> ImportBatch:
        batch = import_batch_stage(
            actor=steward, source=source, file_name="doctors.csv", content=CONTENT
        )
        assert batch.status == ImportBatch.Status.PENDING
        ImportBatch.objects.filter(pk=batch.pk).update(
            created_at=timezone.now() - dt.timedelta(hours=hours_ago)
        )
        return batch

    return make


def test_an_upload_left_unmapped_for_a_day_is_discarded(stage: Callable[..., ImportBatch]) -> None:
    abandoned = stage(25)
    fresh = stage(2)

    expired = import_batches_expire()

    assert expired == 1
    abandoned.refresh_from_db()
    fresh.refresh_from_db()
    assert abandoned.status == ImportBatch.Status.FAILED
    assert abandoned.content is None
    assert abandoned.error == MESSAGE
    assert abandoned.finished_at is not None
    assert fresh.status == ImportBatch.Status.PENDING
    assert fresh.content is not None
    assert bytes(fresh.content) == CONTENT
    event = AuditEvent.objects.get(action="import_batch.expire")
    assert (event.object_id, event.actor) == (str(abandoned.pk), "system")
    assert "13800138000" not in str(event.before) + str(event.after)


def test_expiring_again_changes_nothing(stage: Callable[..., ImportBatch]) -> None:
    stage(30)
    assert import_batches_expire() == 1

    assert import_batches_expire() == 0
    assert AuditEvent.objects.filter(action="import_batch.expire").count() == 1


def test_imported_files_are_left_alone(stage: Callable[..., ImportBatch]) -> None:
    batch = stage(48)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE, content=None)

    assert import_batches_expire() == 0
    batch.refresh_from_db()
    assert (batch.status, batch.error) == (ImportBatch.Status.DONE, "")


def test_the_task_expires_in_bounded_batches(stage: Callable[..., ImportBatch]) -> None:
    for _ in range(3):
        stage(26)

    assert import_batches_expire(limit=2) == 2
    assert expire_abandoned_uploads_task.call() == 1
    assert not ImportBatch.objects.filter(status=ImportBatch.Status.PENDING).exists()


def test_the_steward_reads_why_and_cannot_map_an_expired_upload(
    stage: Callable[..., ImportBatch], client_as: Callable[..., Client]
) -> None:
    batch = stage(25)
    import_batches_expire()
    client = client_as("steward")

    mapping = client.get(reverse("masterdata:import-mapping", args=[batch.pk]))
    report = client.get(reverse("masterdata:import-detail", args=[batch.pk])).content.decode()

    assert mapping.status_code == 302
    assert mapping["Location"] == reverse("masterdata:import-detail", args=[batch.pk])
    assert MESSAGE in report
