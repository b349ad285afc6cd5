"""The import sources page: each source's files and its survivorship priority, editable in place.

Data stewards and admins only. A priority change is one small form per row; a bad value is
shown on its row and nothing is saved.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata import quality
from omnihcp.org.permissions import MASTERDATA_EDITORS, require_role


def _render(
    request: HttpRequest,
    *,
    errors: dict[int, str] | None = None,
    values: dict[int, str] | None = None,
) -> HttpResponse:
    sources = list(quality.import_source_overview())
    rows = [
        {
            "source": source,
            "error": (errors or {}).get(source.pk, ""),
            "value": (values or {}).get(source.pk, str(source.priority)),
        }
        for source in sources
    ]
    context = {"rows": rows, "low": quality.PRIORITY_RANGE[0], "high": quality.PRIORITY_RANGE[1]}
    return render(request, "masterdata/sources.html", context, status=400 if errors else 200)


@login_required
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    require_role(request.user, MASTERDATA_EDITORS)
    return _render(request)


@login_required
@require_POST
def source_priority(request: HttpRequest, source_id: int) -> HttpResponse:
    require_role(request.user, MASTERDATA_EDITORS)
    value = request.POST.get("priority", "")
    try:
        quality.import_source_priority_set(actor=request.user, source_id=source_id, priority=value)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        return _render(request, errors={source_id: exc.message}, values={source_id: value})
    return redirect(f"{reverse('masterdata:source-list')}#source-{source_id}")
