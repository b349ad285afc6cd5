"""Pages of doctor-platform user lists: the lists, upload and mapping, report, review, export.

Marketing, data stewards and admins see the lists and reports (marketing judges a platform by
its match rate); only master-data editors upload lists and decide review rows, since both
write identity links. The upload is kept on its list between the upload and the mapping step
(``?list=<id>`` on the same page), so any web node can serve the next step.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError
from omnihcp.core.pages import page_of
from omnihcp.masterdata import platform_report, platform_rows, platform_users
from omnihcp.masterdata.matching.online import reasons_from
from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUserList
from omnihcp.org.permissions import MASTERDATA_EDITORS, may_edit_masterdata, require_role
from omnihcp.org.types import Role

PLATFORM_VIEWERS = frozenset({Role.MARKETING, Role.DATA_STEWARD, Role.ADMIN})
REVIEW_PAGE_SIZE = 20


class UploadForm(forms.Form):
    platform = forms.CharField(label=gettext_lazy("Platform code"), max_length=40)
    platform_name = forms.CharField(
        label=gettext_lazy("Platform name"), max_length=120, required=False
    )
    file = forms.FileField(label=gettext_lazy("User list (CSV or Excel .xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > platform_rows.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it and import the parts.")
                % {"size": platform_rows.MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload


def _viewer(request: HttpRequest) -> None:
    require_role(request.user, PLATFORM_VIEWERS)


@login_required
def platform_list(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    page = page_of(request, platform_report.platform_list_list())
    rows = [
        {
            "list": item,
            "rate": round(100 * item.n_matched / item.n_users, 1) if item.n_users else None,
        }
        for item in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "query": "",
        "can_upload": may_edit_masterdata(request.user),
    }
    return render(request, "masterdata/platform_list.html", context)


def _mapping_page(
    request: HttpRequest, user_list: PlatformUserList, chosen: dict[str, str], error: str
) -> HttpResponse:
    rows = [{"field": spec, "column": chosen.get(spec.name, "")} for spec in platform_rows.FIELDS]
    context = {"user_list": user_list, "rows": rows, "columns": user_list.columns, "error": error}
    return render(
        request, "masterdata/platform_mapping.html", context, status=400 if error else 200
    )


@login_required
def platform_new(request: HttpRequest) -> HttpResponse:
    """Upload a list (step 1), then confirm its column mapping and import it (step 2)."""
    require_role(request.user, MASTERDATA_EDITORS)
    list_id = request.POST.get("list") or request.GET.get("list")
    if list_id and list_id.isdigit() and len(list_id) < 19:
        user_list = platform_report.platform_list_get(list_id=int(list_id))
        if user_list.status != PlatformUserList.Status.PENDING:
            return redirect("masterdata:platform-detail", list_id=user_list.pk)
        if request.method != "POST":
            return _mapping_page(request, user_list, dict(user_list.mapping), "")
        chosen = {
            spec.name: request.POST.get(f"map-{spec.name}", "") for spec in platform_rows.FIELDS
        }
        try:
            used = platform_rows.check_mapping(mapping=chosen, columns=user_list.columns)
            user_list = platform_users.platform_list_run(
                actor=request.user, user_list=user_list, mapping=used
            )
        except ApplicationError as exc:
            if exc.field == "file":  # imported meanwhile (a retried POST): show the result
                return redirect("masterdata:platform-detail", list_id=user_list.pk)
            return _mapping_page(request, user_list, chosen, exc.message)
        return redirect("masterdata:platform-detail", list_id=user_list.pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            user_list = platform_users.platform_list_stage(
                actor=request.user,
                platform=data["platform"],
                platform_name=data["platform_name"],
                file_name=upload.name or "upload",
                content=upload.read(),
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if user_list.status == PlatformUserList.Status.PENDING:
                url = f"{request.path}?list={user_list.pk}"
                return redirect(url)
            return redirect("masterdata:platform-detail", list_id=user_list.pk)
    context = {"form": form, "platforms": platform_report.platform_codes()}
    return render(
        request, "masterdata/platform_new.html", context, status=400 if form.errors else 200
    )


def _labels() -> dict[str, str]:
    return {spec.name: str(spec.label) for spec in platform_rows.FIELDS}


@login_required
def platform_detail(request: HttpRequest, list_id: int) -> HttpResponse:
    _viewer(request)
    user_list = platform_report.platform_list_get(list_id=list_id)
    labels = _labels()
    rejected = [
        {**entry, "label": labels.get(entry.get("field", ""), "")}
        for entry in user_list.rejected_rows[:200]
    ]
    context = {
        "user_list": user_list,
        "report": platform_report.platform_report(user_list=user_list),
        "rejected": rejected,
        "more_rejected": max(len(user_list.rejected_rows) - len(rejected), 0),
    }
    return render(request, "masterdata/platform_detail.html", context)


@login_required
def platform_unmatched_csv(request: HttpRequest, list_id: int) -> HttpResponse:
    """The list's unmatched users as CSV, with a byte-order mark so that Excel reads Chinese."""
    _viewer(request)
    user_list = platform_report.platform_list_get(list_id=list_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Row"),
            _("Platform user id"),
            _("Name"),
            _("Hospital"),
            _("Department"),
            _("Title"),
            _("Province"),
            _("City"),
            _("Institution found"),
            _("Hospital level"),
            _("Best match probability"),
            _("Decided by"),
        ]
    )
    users = platform_report.platform_unmatched_users(user_list=user_list).select_related(
        "decided_by"
    )
    for user in users.iterator(chunk_size=2000):
        writer.writerow(
            [
                user.row_number or "",
                user.platform_user_id,
                user.name,
                user.hospital,
                user.department,
                user.title,
                user.province,
                user.city,
                user.hco.name if user.hco else "",
                user.get_hospital_level_display() if user.hco else "",
                "" if user.best_probability is None else f"{user.best_probability:.2f}",
                user.decided_by.get_username() if user.decided_by else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"platform-{user_list.platform}-{user_list.pk}-unmatched.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _decide(request: HttpRequest) -> None:
    """One steward decision from the review page; the outcome becomes a message."""
    require_role(request.user, MASTERDATA_EDITORS)
    user_id, choice = request.POST.get("user", ""), request.POST.get("hcp", "")
    try:
        if not user_id.isdigit() or len(user_id) > 18:
            raise ApplicationError(_("Choose a user to decide."), field="user")
        if choice != "none" and (not choice.isdigit() or len(choice) > 18):
            raise ApplicationError(_("Choose a doctor, or none of them."), field="hcp")
        user = platform_users.platform_user_decide(
            actor=request.user,
            user_id=int(user_id),
            hcp_id=None if choice == "none" else int(choice),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return
    if user.outcome == PlatformOutcome.CONFIRMED:
        messages.success(
            request, _("%(name)s is linked to the doctor you chose.") % {"name": user.name}
        )
    else:
        messages.success(request, _("%(name)s stays unmatched.") % {"name": user.name})


@login_required
def platform_review(request: HttpRequest, list_id: int) -> HttpResponse:
    """The list's review rows, each with its candidate doctors side by side; stewards decide."""
    _viewer(request)
    user_list = platform_report.platform_list_get(list_id=list_id)
    if request.method == "POST":
        _decide(request)
        page_number = request.POST.get("page", "")
        suffix = f"?page={page_number}" if page_number.isdigit() and len(page_number) < 6 else ""
        return redirect(request.path + suffix)
    page = page_of(
        request,
        platform_report.platform_review_users(user_list=user_list),
        per_page=REVIEW_PAGE_SIZE,
    )
    users = list(page.object_list)
    hcps = platform_report.platform_candidate_hcps(users=users)
    rows = [
        {
            "user": user,
            "candidates": [
                {
                    "hcp": hcps.get(int(c["hcp_id"])),
                    "probability": c.get("probability"),
                    "reasons": reasons_from(c["comparisons"])
                    if c.get("comparisons")
                    else c.get("reasons", []),
                }
                for c in user.candidates
            ],
        }
        for user in users
    ]
    context = {
        "user_list": user_list,
        "page": page,
        "rows": rows,
        "query": "",
        "can_decide": may_edit_masterdata(request.user),
    }
    return render(request, "masterdata/platform_review.html", context)
