"""Writes of the file import: sources, their saved mapping, and importing one file.

A file is all-or-nothing as a whole and per-row inside: an error of the whole file (encoding,
format, a missing required column, a file cut off mid-row) rolls everything back and leaves
only a failed ImportBatch saying why; a bad row is rejected with its row number, field and
reason, and the good rows are imported. Every read row is kept as a SourceRecord (lineage) with
its outcome. Importing the same rows again writes nothing new: each row's hash is remembered
per source. The import runs in one transaction; golden records are created through
``hco_create``/``hcp_create``, so they are validated and audited like any other write.

Rejection reasons are written in the language of the user who runs the import.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.core.records import full_clean_or_raise
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.importing import mapping as fields
from omnihcp.masterdata.importing.importer import BatchImporter
from omnihcp.masterdata.importing.reader import FileError, read_table
from omnihcp.masterdata.models import (
    ImportBatch,
    ImportSource,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def _user(actor: Actor | None) -> Any:
    # The CLI imports as "system"; only a signed-in user is recorded as the batch's author.
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def import_source_create(
    *, actor: Actor | None, code: str, name: str, entity_type: str
) -> ImportSource:
    code = code.strip()
    if not _CODE.match(code):
        raise ApplicationError(
            _("A source code has up to 40 letters, digits, dots, dashes or underscores."),
            field="code",
        )
    if ImportSource.objects.filter(code=code).exists():
        raise ApplicationError(_("A source with this code already exists."), field="code")
    if entity_type not in fields.FIELDS:
        raise ApplicationError(_("Choose HCPs or HCOs."), field="entity_type")
    source = ImportSource(code=code, name=name.strip() or code, entity_type=entity_type)
    full_clean_or_raise(source)
    source.save()
    audit_append(
        actor=actor,
        action="import_source.create",
        object_type="import_source",
        object_id=source.pk,
        after={"code": code, "name": source.name, "entity_type": entity_type},
    )
    return source


def _save_mapping(actor: Actor | None, source: ImportSource, used: dict[str, str]) -> None:
    if source.mapping == used:
        return
    before = {"mapping": source.mapping}
    source.mapping = used
    source.save(update_fields=["mapping", "updated_at"])
    audit_append(
        actor=actor,
        action="import_source.update",
        object_type="import_source",
        object_id=source.pk,
        before=before,
        after={"mapping": used},
    )


def import_batch_stage(
    *, actor: Actor | None, source: ImportSource, file_name: str, content: bytes
) -> ImportBatch:
    """Keep an uploaded file until the steward confirms its column mapping.

    A file that cannot be read at all is recorded at once as a failed batch.
    """
    batch = ImportBatch(
        source=source,
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=_user(actor),
    )
    try:
        if len(content) > MAX_FILE_BYTES:
            raise FileError(
                _("The file is larger than %(size)s MB; split it and import the parts.")
                % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        table = read_table(file_name=file_name, content=content)
    except FileError as exc:
        return _fail(actor, batch, exc)
    batch.encoding = table.encoding
    batch.columns = table.columns
    batch.mapping = fields.initial_mapping(
        entity_type=source.entity_type, saved=source.mapping, columns=table.columns
    )
    batch.content = content
    batch.save()
    return batch


def import_batch_run(
    *, actor: Actor | None, batch: ImportBatch, mapping: dict[str, str]
) -> ImportBatch:
    """Import a staged file with the mapping the steward confirmed."""
    if batch.status != ImportBatch.Status.PENDING or batch.content is None:
        raise ApplicationError(_("This file has already been imported."), field="file")
    return _run(actor=actor, batch=batch, content=bytes(batch.content), mapping=mapping)


def import_file(
    *,
    actor: Actor | None,
    source: ImportSource,
    file_name: str,
    content: bytes,
    mapping: dict[str, str] | None = None,
) -> ImportBatch:
    """Import one CSV or .xlsx file from ``source`` and return its report.

    Without ``mapping`` the source's saved mapping is used, or for its first file the one
    suggested from the column headers; the mapping used is saved on the source.
    """
    batch = ImportBatch(
        source=source,
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=_user(actor),
    )
    if len(content) > MAX_FILE_BYTES:
        error = FileError(
            _("The file is larger than %(size)s MB; split it and import the parts.")
            % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
        return _fail(actor, batch, error)
    return _run(actor=actor, batch=batch, content=content, mapping=mapping)


def _fail(actor: Actor | None, batch: ImportBatch, error: ApplicationError) -> ImportBatch:
    """Record a file that failed as a whole: the batch and why, nothing else."""
    with transaction.atomic():
        if not ImportBatch.objects.filter(pk=batch.pk).exists():
            # The batch row was rolled back with everything else: write it afresh.
            batch.pk = None
            batch._state.adding = True
        batch.status = ImportBatch.Status.FAILED
        batch.error = error.message
        batch.content = None
        batch.rows_read = batch.accepted = batch.rejected = 0
        batch.new = batch.matched = batch.review = batch.unchanged = 0
        batch.rejected_rows = []
        batch.finished_at = timezone.now()
        batch.save()
        audit_append(
            actor=actor,
            action="import_batch.fail",
            object_type="import_batch",
            object_id=batch.pk,
            after={"file_name": batch.file_name, "sha256": batch.sha256, "error": batch.error},
        )
    return batch


def _run(
    *, actor: Actor | None, batch: ImportBatch, content: bytes, mapping: dict[str, str] | None
) -> ImportBatch:
    source = batch.source
    saved_mapping = dict(source.mapping)
    try:
        with transaction.atomic(durable=True):
            # Lock order: the source row first, so two imports of one source queue instead of
            # both finding a row new; then HCO/HCP rows; the audit head last (governance).
            ImportSource.objects.select_for_update().filter(pk=source.pk).exists()
            table = read_table(file_name=batch.file_name, content=content)
            batch.encoding, batch.columns = table.encoding, table.columns
            chosen = mapping or fields.initial_mapping(
                entity_type=source.entity_type, saved=source.mapping, columns=table.columns
            )
            batch.mapping = fields.check_mapping(
                entity_type=source.entity_type, mapping=chosen, columns=table.columns
            )
            _save_mapping(actor, source, batch.mapping)
            batch.status = ImportBatch.Status.DONE
            batch.content = None  # personal information in clear is not kept once imported
            batch.save()
            importer = BatchImporter(actor=actor, batch=batch, columns=table.columns)
            for row_number, values in table.rows:
                importer.add(row_number, values)
            importer.finish()
    except ApplicationError as exc:
        source.mapping = saved_mapping
        return _fail(actor, batch, exc)
    return batch
