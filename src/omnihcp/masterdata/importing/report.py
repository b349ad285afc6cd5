"""An import batch's report as plain text lines, for the command line."""

from __future__ import annotations

from django.utils.translation import gettext as _

from omnihcp.masterdata.importing.selectors import import_batch_earlier
from omnihcp.masterdata.models import ImportBatch


def report_lines(batch: ImportBatch) -> list[str]:
    lines = [
        _("Import #%(id)s of %(file)s from %(source)s: %(status)s")
        % {
            "id": batch.pk,
            "file": batch.file_name,
            "source": batch.source.code,
            "status": batch.get_status_display(),
        }
    ]
    if batch.status == ImportBatch.Status.FAILED:
        lines.append(batch.error)
        return lines
    lines.append(
        _(
            "rows read %(rows_read)s, accepted %(accepted)s, rejected %(rejected)s; "
            "new %(new)s, matched %(matched)s, to review %(review)s, "
            "already imported %(unchanged)s (encoding %(encoding)s)"
        )
        % {
            "rows_read": batch.rows_read,
            "accepted": batch.accepted,
            "rejected": batch.rejected,
            "new": batch.new,
            "matched": batch.matched,
            "review": batch.review,
            "unchanged": batch.unchanged,
            "encoding": batch.encoding or "xlsx",
        }
    )
    earlier = import_batch_earlier(batch=batch)
    if earlier is not None:
        lines.append(
            _("This very file was imported before, as import #%(id)s.") % {"id": earlier.pk}
        )
    for entry in batch.rejected_rows:
        column = entry.get("column") or entry.get("field") or "-"
        lines.append(
            _("row %(row)s, %(column)s: %(reason)s")
            % {"row": entry["row"], "column": column, "reason": entry["reason"]}
        )
    return lines
