"""Territory pages of managers (who works which territory from when, HCOs moved between
territories) and the handover summary the new rep reads (``territories.py``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.fieldforce import territories
from omnihcp.fieldforce.models import Handover
from omnihcp.fieldforce.team import team_reps
from omnihcp.fieldforce.views import _employee, _ids, _int, _manager
from omnihcp.masterdata.models import HCO
from omnihcp.org.models import TerritoryHCO, TerritoryRep


def _day(value: str) -> Any:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


@login_required
def territory_list(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    rows = territories.territory_rows(manager=manager)
    return render(request, "fieldforce/territories.html", {"rows": rows})


@login_required
def territory_detail(request: HttpRequest, territory_id: int) -> HttpResponse:
    manager = _manager(request)
    territory = territories.territory_get(manager=manager, territory_id=territory_id)
    context: dict[str, Any] = {}
    if request.method == "POST":
        data = request.POST
        handover: Handover | None
        try:
            if data.get("action") == "rep":
                handover = territories.territory_rep_change(
                    actor=request.user,
                    manager=manager,
                    territory=territory,
                    rep_id=_int(data.get("rep", "")),
                    effective_on=_day(data.get("effective_on", "")),
                )
            else:
                handover = territories.territory_hcos_change(
                    actor=request.user,
                    manager=manager,
                    source=territory,
                    target_id=_int(data.get("target", "")),
                    hco_ids=_ids(data, "hcos"),
                    effective_on=_day(data.get("effective_on", "")),
                )
        except ApplicationError as exc:
            if isinstance(exc, NotFoundError):
                raise
            context |= {"error": exc.message, "field": exc.field, "data": data}
        else:
            if handover is not None:
                return redirect("fieldforce:handover", handover_id=handover.pk)
            return redirect("fieldforce:territory", territory_id=territory.pk)
    hcos = HCO.objects.filter(
        pk__in=TerritoryHCO.objects.filter(territory=territory, valid_to__isnull=True).values(
            "hco_id"
        )
    ).order_by("name")
    context |= {
        "territory": territory,
        "rep": territories.territory_rep_on(territory=territory),
        "reps": team_reps(manager=manager),
        "targets": territories.managed_territories(manager=manager)
        .filter(business_unit=territory.business_unit)
        .exclude(pk=territory.pk),
        "hcos": list(hcos[:500]),
        "periods": TerritoryRep.objects.filter(territory=territory)
        .select_related("employee")
        .order_by("-valid_from"),
        "handovers": territory.handovers.select_related("from_rep", "to_rep")[:20],
    }
    return render(
        request, "fieldforce/territory.html", context, status=400 if "error" in context else 200
    )


@login_required
def handover_list(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    handovers = territories.rep_handovers(employee=employee)[:50] if employee else []
    return render(request, "fieldforce/handovers.html", {"handovers": handovers})


@login_required
def handover_detail(request: HttpRequest, handover_id: int) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise NotFoundError("No such handover.")
    handover = territories.handover_get(employee=employee, handover_id=handover_id)
    page = territories.handover_rows(handover=handover, page=_int(request.GET.get("page", "")) or 1)
    return render(request, "fieldforce/handover.html", {"handover": handover, "page": page})
