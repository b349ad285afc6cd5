"""Pages of the data steward's file import: the list of imports, upload, column mapping, report.

Only master-data editors (data stewards, admins) reach them; everyone else gets the 403 page.
The upload is kept on its batch between the upload and the mapping step, so any web node can
serve the next step; the import itself is ``importing.services.import_batch_run``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError
from omnihcp.core.pages import page_of
from omnihcp.masterdata.importing import mapping as fields
from omnihcp.masterdata.importing import selectors, services
from omnihcp.masterdata.models import ImportBatch, SourceRecord
from omnihcp.org.permissions import MASTERDATA_EDITORS, require_role


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or Excel .xlsx)"))
    source = forms.TypedChoiceField(label=gettext_lazy("Source"), required=False, coerce=int)
    code = forms.CharField(label=gettext_lazy("New source: code"), required=False, max_length=40)
    name = forms.CharField(label=gettext_lazy("New source: name"), required=False, max_length=120)
    entity_type = forms.ChoiceField(
        label=gettext_lazy("New source: records of"),
        required=False,
        choices=SourceRecord.EntityType.choices,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[Any, Any]] = [("", _("— a new source —"))]
        choices += [
            (s.pk, f"{s.code} · {s.name} ({s.get_entity_type_display()})")
            for s in selectors.import_source_list()
        ]
        self.fields["source"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("source") and not data.get("code"):
            self.add_error("code", _("Choose a source, or give the new source a code."))
        upload = data.get("file")
        if upload is not None and upload.size > services.MAX_FILE_BYTES:
            self.add_error(
                "file",
                _("The file is larger than %(size)s MB; split it and import the parts.")
                % {"size": services.MAX_FILE_BYTES // (1024 * 1024)},
            )
        return data


def _steward(request: HttpRequest) -> None:
    require_role(request.user, MASTERDATA_EDITORS)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _steward(request)
    context = {"page": page_of(request, selectors.import_batch_list()), "query": ""}
    return render(request, "masterdata/import_list.html", context)


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    _steward(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data.get("source"):
                source = selectors.import_source_get(source_id=data["source"])
            else:
                source = services.import_source_create(
                    actor=request.user,
                    code=data["code"],
                    name=data["name"],
                    entity_type=data["entity_type"] or fields.HCP,
                )
            upload = data["file"]
            batch = services.import_batch_stage(
                actor=request.user,
                source=source,
                file_name=upload.name or "upload",
                content=upload.read(),
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if batch.status == ImportBatch.Status.PENDING:
                return redirect("masterdata:import-mapping", batch_id=batch.pk)
            return redirect("masterdata:import-detail", batch_id=batch.pk)
    return render(request, "masterdata/import_new.html", {"form": form})


@login_required
def import_mapping(request: HttpRequest, batch_id: int) -> HttpResponse:
    _steward(request)
    batch = selectors.import_batch_get(batch_id=batch_id)
    if batch.status != ImportBatch.Status.PENDING:
        return redirect("masterdata:import-detail", batch_id=batch.pk)
    entity_type = batch.source.entity_type
    chosen: dict[str, str] = dict(batch.mapping)
    error = ""
    if request.method == "POST":
        chosen = {
            spec.name: request.POST.get(f"map-{spec.name}", "")
            for spec in fields.fields_for(entity_type)
        }
        try:
            used = fields.check_mapping(
                entity_type=entity_type, mapping=chosen, columns=batch.columns
            )
            batch = services.import_batch_run(actor=request.user, batch=batch, mapping=used)
        except ApplicationError as exc:
            error = exc.message
        else:
            return redirect("masterdata:import-detail", batch_id=batch.pk)
    rows = [
        {"field": spec, "column": chosen.get(spec.name, "")}
        for spec in fields.fields_for(entity_type)
    ]
    context = {
        "batch": batch,
        "rows": rows,
        "columns": batch.columns,
        "error": error,
        "saved": bool(batch.source.mapping),
    }
    return render(request, "masterdata/import_mapping.html", context)


def _labels(batch: ImportBatch) -> dict[str, str]:
    return {spec.name: str(spec.label) for spec in fields.fields_for(batch.source.entity_type)}


@login_required
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    _steward(request)
    batch = selectors.import_batch_get(batch_id=batch_id)
    labels = _labels(batch)
    rejected = [
        {**entry, "label": labels.get(entry.get("field", ""), "")}
        for entry in batch.rejected_rows[:1000]
    ]
    context = {
        "batch": batch,
        "rejected": rejected,
        "more_rejected": max(len(batch.rejected_rows) - len(rejected), 0),
        "earlier": selectors.import_batch_earlier(batch=batch),
    }
    return render(request, "masterdata/import_detail.html", context)


@login_required
def import_rejected_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The rejected rows as CSV, with a byte-order mark so that Excel reads the Chinese."""
    _steward(request)
    batch = selectors.import_batch_get(batch_id=batch_id)
    labels = _labels(batch)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Field"), _("Reason")])
    for entry in batch.rejected_rows:
        writer.writerow(
            [
                entry.get("row", ""),
                entry.get("column", ""),
                labels.get(entry.get("field", ""), ""),
                entry.get("reason", ""),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejected.csv"'
    return response
