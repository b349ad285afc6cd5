"""The rows of one file import: check, deduplicate, match, write, and keep the lineage.

Each row runs in its own savepoint inside the import's transaction, so a row refused by a
service (``hco_create``, ``hcp_create``) leaves nothing behind and the next row goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, FieldError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata import services as md_services
from omnihcp.masterdata import textkeys
from omnihcp.masterdata.importing import mapping as fields
from omnihcp.masterdata.importing.match import NEW, REVIEW, HCOIndex, Match, match_record
from omnihcp.masterdata.importing.rows import Row, hco_row, hcp_row
from omnihcp.masterdata.models import (
    HCO,
    ExternalIdentity,
    HCODepartment,
    ImportBatch,
    SourceRecord,
)
from omnihcp.masterdata.stewardship import candidates_from_review

PI_FIELDS = {"mobile": pi.mask_phone, "licence_no": pi.mask_licence}


def _hash(values: dict[str, str]) -> str:
    # Keyed (the blind index of core.pi), not a bare SHA-256: the row holds phone and licence
    # numbers, and a plain hash of a few guessable values could be reversed by trying them.
    return pi.blind_index(json.dumps(values, sort_keys=True, ensure_ascii=False))


@dataclass
class BatchImporter:
    """Imports the rows of one batch, keeping its counts and its list of rejected rows."""

    actor: Actor | None
    batch: ImportBatch
    columns: list[str]
    index: HCOIndex = field(default_factory=HCOIndex)
    seen_hashes: dict[str, int] = field(default_factory=dict)
    seen_keys: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.source = self.batch.source
        self.mapping: dict[str, str] = self.batch.mapping
        self.entity_type = self.source.entity_type
        self.batch.rejected_rows = []

    def add(self, row_number: int, values: list[str]) -> None:
        if not any(value.strip() for value in values):
            return  # a blank line is not a record
        self.batch.rows_read += 1
        cells: dict[str, Any] = dict(zip(self.columns, values, strict=False))
        if len(values) > len(self.columns):
            cells["_extra"] = values[len(self.columns) :]
        raw = {name: cells.get(column, "").strip() for name, column in self.mapping.items()}
        row_hash = _hash(raw)
        source_key = raw.get("source_key", "")[:128]
        row = Row()
        width = len(self.columns)
        if len(values) != width and (len(values) < width or any(v.strip() for v in values[width:])):
            row.refuse(
                "",
                _("This row has %(found)s values; the header has %(width)s columns.")
                % {"found": len(values), "width": width},
            )
        elif row_hash in self.seen_hashes:
            row.refuse("", _("Same as row %(row)s.") % {"row": self.seen_hashes[row_hash]})
        elif source_key and source_key in self.seen_keys:
            row.refuse(
                "source_key",
                _("The source key %(key)s is also in row %(row)s.")
                % {"key": source_key, "row": self.seen_keys[source_key]},
            )
        else:
            self.seen_hashes[row_hash] = row_number
            if source_key:
                self.seen_keys[source_key] = row_number
            row = hco_row(raw) if self.entity_type == fields.HCO else hcp_row(raw)
        record = SourceRecord(
            source=self.source.code,
            source_key=source_key,
            entity_type=self.entity_type,
            payload={"row": self._lineage(cells)},
            batch=self.batch,
            row_number=row_number,
            row_hash=row_hash,
        )
        if row.ok:
            done = SourceRecord.objects.filter(source=self.source.code, row_hash=row_hash)
            if done.exclude(status=SourceRecord.Status.REJECTED).exists():
                # The same row came before from this source: nothing new to record.
                self.batch.accepted += 1
                self.batch.unchanged += 1
                return
            try:
                with transaction.atomic():
                    self._apply(record, source_key, row)
            except ApplicationError as exc:
                row.errors = exc.errors or [FieldError(exc.field, exc.message)]
            else:
                self.batch.accepted += 1
                return
        self._reject(record, row_number, row.errors)

    def _lineage(self, cells: dict[str, Any]) -> dict[str, Any]:
        """The row as the file had it, personal information masked and encrypted."""
        kept: dict[str, Any] = dict(cells)
        for name, mask in PI_FIELDS.items():
            column = self.mapping.get(name)
            if column and kept.get(column):
                value = str(kept[column]).strip()
                kept[column] = {"masked": mask(value), "encrypted": pi.encrypt(value)}
        return kept

    def _apply(self, record: SourceRecord, source_key: str, row: Row) -> None:
        found = match_record(
            entity_type=self.entity_type,
            source=self.source.code,
            source_key=source_key,
            values=row.values,
            index=self.index,
        )
        if found.outcome == REVIEW:
            record.status = SourceRecord.Status.REVIEW
            record.payload["candidates"] = list(found.candidates)
            self.batch.review += 1
        elif found.outcome == NEW:
            self._create(record, found, row.values)
            record.status = SourceRecord.Status.NEW
            self.batch.new += 1
        else:
            record.status = SourceRecord.Status.MATCHED
            record.hco, record.hcp = found.hco, found.hcp
            self.batch.matched += 1
        if record.status != SourceRecord.Status.REVIEW:
            self._link(source_key, record)
        record.save()
        if record.status == SourceRecord.Status.REVIEW:
            # The steward's queue: one match candidate per golden record the row may be.
            candidates_from_review(
                record=record,
                candidate_ids=found.candidates,
                hco=found.hco,
                values=row.values,
                scores=found.scores,
            )

    def _create(self, record: SourceRecord, found: Match, values: dict[str, Any]) -> None:
        if self.entity_type == fields.HCO:
            record.hco = md_services.hco_create(actor=self.actor, data=values)
            self.index.add(record.hco)
            return
        hco = found.hco
        if hco is None:  # an HCP is new only once its primary HCO is known
            raise ApplicationError(_("The hospital is unknown."), field="hospital")
        data = {
            k: v
            for k, v in values.items()
            if k in {"name", "gender", "title", "specialty", "mobile", "licence_no"}
        }
        data["primary_hco"] = hco
        if values.get("department"):
            data["department"] = self._department(hco, values["department"])
        record.hcp = md_services.hcp_create(actor=self.actor, data=data)
        record.hco = hco

    def _department(self, hco: HCO, name: str) -> HCODepartment:
        own = HCODepartment.objects.filter(hco=hco, name=textkeys.fold(name)).first()
        if own is not None:
            return own
        standard = md_services.standard_department_for(name)
        if standard is not None:
            by_standard = HCODepartment.objects.filter(hco=hco, standard=standard).first()
            if by_standard is not None:
                return by_standard
        return md_services.hco_department_create(
            actor=self.actor, hco=hco, name=name, standard=standard
        )

    def _link(self, source_key: str, record: SourceRecord) -> None:
        target: dict[str, Any] = (
            {"hco": record.hco} if self.entity_type == fields.HCO else {"hcp": record.hcp}
        )
        ExternalIdentity.objects.get_or_create(
            source=self.source.code, external_id=source_key, defaults=target
        )

    def _reject(self, record: SourceRecord, row_number: int, errors: list[FieldError]) -> None:
        self.batch.rejected += 1
        reasons = [
            {
                "row": row_number,
                "field": error.field or "",
                "column": self.mapping.get(error.field or "", ""),
                "reason": error.message,
            }
            for error in errors
        ]
        self.batch.rejected_rows.extend(reasons)
        already = SourceRecord.objects.filter(
            source=self.source.code,
            row_hash=record.row_hash,
            status=SourceRecord.Status.REJECTED,
        )
        if not already.exists():
            record.status = SourceRecord.Status.REJECTED
            record.payload["errors"] = reasons
            record.hco = record.hcp = None
            record.save()

    def finish(self) -> None:
        batch = self.batch
        batch.finished_at = timezone.now()
        batch.save()
        audit_append(
            actor=self.actor,
            action="import_batch.done",
            object_type="import_batch",
            object_id=batch.pk,
            after={
                "source": self.source.code,
                "file_name": batch.file_name,
                "sha256": batch.sha256,
                **{
                    name: getattr(batch, name)
                    for name in (
                        "rows_read",
                        "accepted",
                        "rejected",
                        "new",
                        "matched",
                        "review",
                        "unchanged",
                    )
                },
            },
        )
