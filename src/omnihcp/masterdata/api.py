"""JSON API of master data: HCOs, departments, HCPs, search, personal-information reveal.

Every read goes through a scoped selector, so a rep gets 404 for an HCO or HCP outside their
territory on every route; writes are for administrators and data stewards.
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from omnihcp.core.api import ERROR_RESPONSES, Page, PageIn, RecordId, paginate, referenced
from omnihcp.core.errors import ApplicationError
from omnihcp.core.scope import DataScope
from omnihcp.governance.idempotency import idempotent
from omnihcp.masterdata import selectors, services
from omnihcp.masterdata.merging_hco import hco_survivor_get
from omnihcp.masterdata.schemas import (
    DepartmentCreateIn,
    DepartmentOut,
    HCOCreateIn,
    HCOFilterIn,
    HCOOut,
    HCOUpdateIn,
    HCPCreateIn,
    HCPFilterIn,
    HCPOut,
    HCPSearchIn,
    HCPSearchOut,
    HCPUpdateIn,
    RevealIn,
    RevealOut,
    StandardDepartmentOut,
)
from omnihcp.masterdata.selectors import HCOFilter, HCPFilter
from omnihcp.org.permissions import MASTERDATA_EDITORS, request_scope, require_role

router = Router(tags=["master data"])


def _hco_references(scope: DataScope, data: dict[str, Any]) -> dict[str, Any]:
    if "parent_id" in data:
        parent_id = data.pop("parent_id")
        data["parent"] = (
            None
            if parent_id is None
            else referenced(hco_survivor_get, "parent_id", scope=scope, hco_id=parent_id)
        )
    return data


def _hcp_references(scope: DataScope, data: dict[str, Any]) -> dict[str, Any]:
    """Turn ``primary_hco_id``/``department_id`` into scoped records, naming the field if bad."""
    if "primary_hco_id" in data:
        hco_id = data.pop("primary_hco_id")
        if hco_id is None:
            raise ApplicationError(_("This field is required."), field="primary_hco_id")
        data["primary_hco"] = referenced(
            hco_survivor_get, "primary_hco_id", scope=scope, hco_id=hco_id
        )
    if "department_id" in data:
        department_id = data.pop("department_id")
        data["department"] = (
            None
            if department_id is None
            else referenced(
                selectors.hco_department_get,
                "department_id",
                scope=scope,
                department_id=department_id,
            )
        )
    return data


# ------------------------------------------------------------------------------------ HCOs
@router.get("/hcos", response={200: Page[HCOOut], **ERROR_RESPONSES})
def list_hcos(
    request: HttpRequest, filters: Query[HCOFilterIn], paging: Query[PageIn]
) -> dict[str, Any]:
    qs = selectors.hco_list(
        scope=request_scope(request),
        filters=HCOFilter(**{k: v or "" for k, v in filters.dict().items()}),
    )
    return paginate(qs, page=paging.page, page_size=paging.page_size)


@router.get("/hcos/{hco_id}", response={200: HCOOut, **ERROR_RESPONSES})
def get_hco(request: HttpRequest, hco_id: RecordId) -> Any:
    """One HCO; a merged-away id returns the record that survived it."""
    return hco_survivor_get(scope=request_scope(request), hco_id=hco_id)


@router.post("/hcos", response={201: HCOOut, **ERROR_RESPONSES})
@idempotent
def create_hco(request: HttpRequest, payload: HCOCreateIn) -> Status[Any]:
    require_role(request.user, MASTERDATA_EDITORS)
    data = _hco_references(request_scope(request), payload.dict())
    return Status(201, services.hco_create(actor=request.user, data=data))


@router.patch("/hcos/{hco_id}", response={200: HCOOut, **ERROR_RESPONSES})
def update_hco(request: HttpRequest, hco_id: RecordId, payload: HCOUpdateIn) -> Any:
    scope = request_scope(request)
    hco = hco_survivor_get(scope=scope, hco_id=hco_id)
    require_role(request.user, MASTERDATA_EDITORS)
    data = _hco_references(scope, payload.dict(exclude_unset=True))
    return services.hco_update(actor=request.user, hco=hco, data=data)


@router.get("/hcos/{hco_id}/departments", response={200: list[DepartmentOut], **ERROR_RESPONSES})
def list_hco_departments(request: HttpRequest, hco_id: RecordId) -> Any:
    scope = request_scope(request)
    hco = hco_survivor_get(scope=scope, hco_id=hco_id)
    return list(selectors.hco_department_list(scope=scope, hco=hco))


@router.post("/hcos/{hco_id}/departments", response={201: DepartmentOut, **ERROR_RESPONSES})
@idempotent
def create_hco_department(
    request: HttpRequest, hco_id: RecordId, payload: DepartmentCreateIn
) -> Status[Any]:
    hco = hco_survivor_get(scope=request_scope(request), hco_id=hco_id)
    require_role(request.user, MASTERDATA_EDITORS)
    standard = None
    if payload.standard_code:
        standard = referenced(
            selectors.standard_department_get, "standard_code", code=payload.standard_code
        )
    department = services.hco_department_create(
        actor=request.user, hco=hco, name=payload.name, standard=standard
    )
    return Status(201, department)


@router.get("/departments", response={200: list[StandardDepartmentOut], **ERROR_RESPONSES})
def list_standard_departments(request: HttpRequest, q: str = "") -> Any:
    return list(selectors.standard_department_list(q=q[:40]))


# ------------------------------------------------------------------------------------ HCPs
@router.get("/hcps", response={200: Page[HCPOut], **ERROR_RESPONSES})
def list_hcps(
    request: HttpRequest, filters: Query[HCPFilterIn], paging: Query[PageIn]
) -> dict[str, Any]:
    values = filters.dict()
    hcp_filter = HCPFilter(
        q=values["q"],
        hco_id=values["hco_id"],
        title=values["title"] or "",
        city=values["city"],
        standard_department=values["standard_department"],
        status=values["status"],
    )
    qs = selectors.hcp_list(scope=request_scope(request), filters=hcp_filter)
    return paginate(qs, page=paging.page, page_size=paging.page_size)


@router.get("/hcps/search", response={200: HCPSearchOut, **ERROR_RESPONSES})
def search_hcps(request: HttpRequest, params: Query[HCPSearchIn]) -> dict[str, Any]:
    """The search box: by Chinese name, pinyin ("zhangwei"), initials ("zw") or hospital."""
    hits = selectors.hcp_search(scope=request_scope(request), q=params.q, limit=params.limit)
    return {"items": hits}


@router.get("/hcps/{hcp_id}", response={200: HCPOut, **ERROR_RESPONSES})
def get_hcp(request: HttpRequest, hcp_id: RecordId) -> Any:
    return selectors.hcp_get(scope=request_scope(request), hcp_id=hcp_id)


@router.post("/hcps", response={201: HCPOut, **ERROR_RESPONSES})
@idempotent
def create_hcp(request: HttpRequest, payload: HCPCreateIn) -> Status[Any]:
    require_role(request.user, MASTERDATA_EDITORS)
    data = _hcp_references(request_scope(request), payload.dict())
    return Status(201, services.hcp_create(actor=request.user, data=data))


@router.patch("/hcps/{hcp_id}", response={200: HCPOut, **ERROR_RESPONSES})
def update_hcp(request: HttpRequest, hcp_id: RecordId, payload: HCPUpdateIn) -> Any:
    scope = request_scope(request)
    hcp = selectors.hcp_get(scope=scope, hcp_id=hcp_id)
    require_role(request.user, MASTERDATA_EDITORS)
    data = _hcp_references(scope, payload.dict(exclude_unset=True))
    return services.hcp_update(actor=request.user, hcp=hcp, data=data)


@router.post("/hcps/{hcp_id}/reveal", response={200: RevealOut, **ERROR_RESPONSES})
def reveal_hcp_pi(request: HttpRequest, hcp_id: RecordId, payload: RevealIn) -> dict[str, str]:
    """The clear mobile or licence number, for allowed roles only; every call is logged."""
    scope = request_scope(request)
    hcp = selectors.hcp_get(scope=scope, hcp_id=hcp_id)
    value = services.hcp_pi_reveal(
        actor=request.user, scope=scope, hcp=hcp, field=payload.field, purpose=payload.purpose
    )
    return {"field": payload.field, "value": value}
