"""The master-data quality page: completeness, rejected values, duplicates, sources, trend.

Data stewards and admins read it and may refresh today's snapshot; executives read it. The page
reads the newest snapshot only (``masterdata.quality``), so it stays fast at any data size.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from omnihcp.masterdata import quality
from omnihcp.org.permissions import MASTERDATA_EDITORS, may_edit_masterdata, require_role
from omnihcp.org.types import Role

QUALITY_READERS = MASTERDATA_EDITORS | {Role.EXECUTIVE}


@login_required
@require_http_methods(["GET", "POST"])
def quality_page(request: HttpRequest) -> HttpResponse:
    require_role(request.user, QUALITY_READERS)
    if request.method == "POST":
        require_role(request.user, MASTERDATA_EDITORS)
        # Idempotent: a second refresh the same day replaces the day's snapshot.
        quality.quality_snapshot_take(actor=request.user)
        return redirect("masterdata:quality")
    snapshot = quality.quality_snapshot_latest()
    report = (
        quality.quality_report(snapshot=snapshot, trend=quality.quality_snapshot_trend())
        if snapshot is not None
        else None
    )
    context = {"report": report, "may_refresh": may_edit_masterdata(request.user)}
    return render(request, "masterdata/quality.html", context)
