"""Reads of data change requests (scoped: stewards see every request, everyone else only
their own)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.governance.services import Actor
from omnihcp.masterdata.models import HCP
from omnihcp.masterdata.models_dcr import DataChangeRequest

DCR = DataChangeRequest
Status = DataChangeRequest.Status


@dataclass(frozen=True)
class DCRFilter:
    status: str = Status.PENDING
    kind: str = ""
    province: str = ""


def dcr_list(*, filters: DCRFilter | None = None) -> QuerySet[DataChangeRequest]:
    """The steward's queue, oldest pending first."""
    filters = filters or DCRFilter()
    qs = DCR.objects.select_related("hcp__primary_hco", "requested_by")
    for name in ("status", "kind", "province"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    return qs.order_by("created_at", "id")


def dcr_provinces() -> list[str]:
    return sorted(set(DCR.objects.exclude(province="").values_list("province", flat=True)))


def dcr_list_mine(*, actor: Actor) -> QuerySet[DataChangeRequest]:
    return (
        DCR.objects.filter(requested_by=actor.pk)
        .select_related("hcp", "result_hcp")
        .order_by("-created_at", "-id")
    )


def dcr_get(*, actor: Actor, dcr_id: int, all_requests: bool) -> DataChangeRequest:
    """One request: any for stewards (``all_requests``), else only the actor's own."""
    qs = DCR.objects.select_related(
        "hcp__primary_hco", "hcp__department", "requested_by", "decided_by", "result_hcp"
    )
    if not all_requests:
        qs = qs.filter(requested_by=actor.pk)
    dcr = qs.filter(pk=dcr_id).first()
    if dcr is None:
        raise NotFoundError(_("No such change request."))
    return dcr


def hcps_by_id(ids: list[int]) -> dict[int, HCP]:
    """Doctors named by matches, for the steward (who sees all master data)."""
    qs = HCP.objects.filter(pk__in=ids).select_related("primary_hco", "department")
    return {hcp.pk: hcp for hcp in qs}
