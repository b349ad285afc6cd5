"""Pages of master data: the doctor and institution lists with live search, and their cards.

Everything is read through scoped selectors, so a rep sees only their territory and gets the
404 page for anything else. htmx swaps the result list while the user types
(django-htmx tells the view it is an htmx request; django-template-partials renders the part).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.core.pages import page_of, query_without_page
from omnihcp.masterdata import merging, merging_hco, selectors, services
from omnihcp.masterdata.models import HCOType, HospitalLevel, Title
from omnihcp.masterdata.selectors import HCOFilter, HCPFilter
from omnihcp.org.permissions import (
    MASTERDATA_EDITORS,
    may_edit_masterdata,
    request_scope,
    require_role,
)
from omnihcp.org.selectors import reps_covering_hco

SEARCH_LIMIT = 50
MAX_QUERY = 60


def _choice(value: str, choices: Any) -> str:
    return value if value in choices.values else ""


def _template(request: HttpRequest, name: str) -> str:
    """The results part for htmx's live search; the whole page otherwise (history restore too)."""
    htmx = request.htmx  # type: ignore[attr-defined]
    return f"{name}#results" if htmx and not htmx.history_restore_request else name


@login_required
def hcp_list(request: HttpRequest) -> HttpResponse:
    scope = request_scope(request)
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    title = _choice(request.GET.get("title", ""), Title)
    city = request.GET.get("city", "").strip()[:30]
    context: dict[str, Any] = {
        "q": q,
        "title": title,
        "city": city,
        "titles": Title.choices,
        # A callable: the template calls it only when it renders the filters, not on live search.
        "cities": functools.partial(selectors.hco_cities, scope=scope),
        "query": query_without_page(request),
    }
    if q and not (title or city):
        # The search box: the best matches, name matches first, without a slow total count.
        context["hits"] = selectors.hcp_search(scope=scope, q=q, limit=SEARCH_LIMIT)
        context["limit"] = SEARCH_LIMIT
    else:
        filters = HCPFilter(q=q, title=title, city=city)
        context["page"] = page_of(request, selectors.hcp_list(scope=scope, filters=filters))
    response = render(request, _template(request, "masterdata/hcp_list.html"), context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _hcp_context(request: HttpRequest, hcp_id: int) -> dict[str, Any]:
    scope = request_scope(request)
    hcp = selectors.hcp_get(scope=scope, hcp_id=hcp_id)
    return {
        "hcp": hcp,
        "affiliations": selectors.hcp_affiliations(hcp=hcp),
        "reps": reps_covering_hco(hco_id=hcp.primary_hco_id),
        "may_reveal": scope.may_reveal_pi,
        "revealed": dict.fromkeys(services.PI_FIELDS),
    }


@login_required
def hcp_detail(request: HttpRequest, hcp_id: int) -> HttpResponse:
    # A merged-away id shows the record that survived (``hcp_get`` resolves it).
    context = _hcp_context(request, hcp_id)
    hcp = context["hcp"]
    if may_edit_masterdata(request.user):
        context["merges"] = selectors.hcp_merge_events(hcp=hcp)
        context["lineage"] = [
            (merging.FIELD_LABELS.get(row.field, row.field), row)
            for row in selectors.hcp_lineage(hcp=hcp)
        ]
    return render(request, "masterdata/hcp_detail.html", context)


@login_required
@require_POST
def hcp_reveal(request: HttpRequest, hcp_id: int) -> HttpResponse:
    """Show one clear personal-information value to an allowed role; the reveal is logged."""
    context = _hcp_context(request, hcp_id)
    field = request.POST.get("field", "")
    if field not in services.PI_FIELDS:
        return HttpResponseBadRequest(_("Unknown field."))
    value = services.hcp_pi_reveal(
        actor=request.user,
        scope=request_scope(request),
        hcp=context["hcp"],
        field=field,
        purpose=request.POST.get("purpose", "")[:200],
    )
    context["revealed"][field] = value
    if request.htmx:  # type: ignore[attr-defined]
        masked = getattr(context["hcp"], services.PI_MASKED[field])
        part = {**context, "field": field, "masked": masked, "value": value}
        return render(request, "masterdata/hcp_detail.html#pi-field", part)
    return render(request, "masterdata/hcp_detail.html", context)


@login_required
def hco_list(request: HttpRequest) -> HttpResponse:
    scope = request_scope(request)
    filters = HCOFilter(
        q=request.GET.get("q", "").strip()[:MAX_QUERY],
        hco_type=_choice(request.GET.get("hco_type", ""), HCOType),
        level=_choice(request.GET.get("level", ""), HospitalLevel),
        city=request.GET.get("city", "").strip()[:30],
    )
    context = {
        "filters": filters,
        "types": HCOType.choices,
        "levels": [c for c in HospitalLevel.choices if c[0]],
        "cities": functools.partial(selectors.hco_cities, scope=scope),
        "page": page_of(request, selectors.hco_list(scope=scope, filters=filters)),
        "query": query_without_page(request),
    }
    response = render(request, _template(request, "masterdata/hco_list.html"), context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def hco_detail(request: HttpRequest, hco_id: int) -> HttpResponse:
    scope = request_scope(request)
    hco = merging_hco.hco_survivor_get(scope=scope, hco_id=hco_id)
    if hco.pk != hco_id:  # merged away: its address now leads to the survivor
        return redirect("masterdata:hco-detail", hco_id=hco.pk)
    hcps = selectors.hcp_list(scope=scope, filters=HCPFilter(hco_id=hco.pk))
    context: dict[str, Any] = {
        "hco": hco,
        "departments": selectors.hco_department_list(scope=scope, hco=hco),
        "page": page_of(request, hcps),
        "reps": reps_covering_hco(hco_id=hco.pk),
        "query": query_without_page(request),
    }
    if may_edit_masterdata(request.user):
        context["merges"] = merging_hco.hco_merge_events(hco=hco)
        context["lineage"] = [
            (merging_hco.FIELD_LABELS.get(row.field, row.field), row)
            for row in merging_hco.hco_lineage(hco=hco)
        ]
    return render(request, "masterdata/hco_detail.html", context)


@login_required
def hco_unmerge(request: HttpRequest, event_id: int) -> HttpResponse:
    """Confirm (GET) and undo (POST) one merge of two institutions."""
    require_role(request.user, MASTERDATA_EDITORS)
    event = merging_hco.hco_merge_event_get(event_id=event_id)
    assert event.survivor_hco is not None  # noqa: S101  (the read finds HCO merges only)
    hco = selectors.hco_get(scope=request_scope(request), hco_id=event.survivor_hco.pk)
    error = ""
    if request.method == "POST":
        try:
            merging_hco.hco_unmerge(actor=request.user, merge_event=event)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, _("The merge was undone."))
            return redirect("masterdata:hco-detail", hco_id=hco.pk)
    context = {"hco": hco, "event": event, "error": error}
    return render(request, "masterdata/hco_unmerge.html", context, status=400 if error else 200)
