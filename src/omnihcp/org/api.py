"""JSON API of the org app: the org tree, employees, business units, therapy areas, products.

Every signed-in role may read; only administrators change the organisation and products.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from omnihcp.core.api import ERROR_RESPONSES, Page, PageIn, RecordId, paginate, referenced
from omnihcp.governance.idempotency import idempotent
from omnihcp.org import selectors, services
from omnihcp.org.permissions import ORG_EDITORS, require_role
from omnihcp.org.schemas import (
    BusinessUnitOut,
    EmployeeFilterIn,
    EmployeeOut,
    OrgNodeCreateIn,
    OrgNodeFilterIn,
    OrgNodeOut,
    OrgNodeUpdateIn,
    ProductCreateIn,
    ProductFilterIn,
    ProductOut,
    ProductUpdateIn,
    SKUCreateIn,
    SKUOut,
    TherapyAreaOut,
)

router = Router(tags=["org"])


@router.get("/nodes", response={200: Page[OrgNodeOut], **ERROR_RESPONSES})
def list_org_nodes(
    request: HttpRequest, filters: Query[OrgNodeFilterIn], paging: Query[PageIn]
) -> dict[str, Any]:
    qs = selectors.org_node_list(level=filters.level, parent_id=filters.parent_id)
    return paginate(qs, page=paging.page, page_size=paging.page_size)


@router.get("/nodes/{node_id}", response={200: OrgNodeOut, **ERROR_RESPONSES})
def get_org_node(request: HttpRequest, node_id: RecordId) -> Any:
    return selectors.org_node_get(node_id=node_id)


@router.post("/nodes", response={201: OrgNodeOut, **ERROR_RESPONSES})
@idempotent
def create_org_node(request: HttpRequest, payload: OrgNodeCreateIn) -> Status[Any]:
    require_role(request.user, ORG_EDITORS)
    parent = None
    if payload.parent_id is not None:
        parent = referenced(selectors.org_node_get, "parent_id", node_id=payload.parent_id)
    node = services.org_node_create(
        actor=request.user,
        code=payload.code,
        name=payload.name,
        level=payload.level,
        parent=parent,
    )
    return Status(201, node)


@router.patch("/nodes/{node_id}", response={200: OrgNodeOut, **ERROR_RESPONSES})
def update_org_node(request: HttpRequest, node_id: RecordId, payload: OrgNodeUpdateIn) -> Any:
    require_role(request.user, ORG_EDITORS)
    node = selectors.org_node_get(node_id=node_id)
    data = payload.dict(exclude_unset=True)
    if "manager_id" in data:
        manager_id = data.pop("manager_id")
        data["manager"] = (
            None
            if manager_id is None
            else referenced(selectors.employee_get, "manager_id", employee_id=manager_id)
        )
    return services.org_node_update(actor=request.user, node=node, data=data)


@router.get("/employees", response={200: Page[EmployeeOut], **ERROR_RESPONSES})
def list_employees(
    request: HttpRequest, filters: Query[EmployeeFilterIn], paging: Query[PageIn]
) -> dict[str, Any]:
    qs = selectors.employee_list(org_node_id=filters.org_node_id, position=filters.position)
    return paginate(qs, page=paging.page, page_size=paging.page_size)


@router.get("/employees/{employee_id}", response={200: EmployeeOut, **ERROR_RESPONSES})
def get_employee(request: HttpRequest, employee_id: RecordId) -> Any:
    return selectors.employee_get(employee_id=employee_id)


@router.get("/business-units", response={200: list[BusinessUnitOut], **ERROR_RESPONSES})
def list_business_units(request: HttpRequest) -> Any:
    return list(selectors.business_unit_list())


@router.get("/therapy-areas", response={200: list[TherapyAreaOut], **ERROR_RESPONSES})
def list_therapy_areas(request: HttpRequest) -> Any:
    return list(selectors.therapy_area_list())


@router.get("/products", response={200: Page[ProductOut], **ERROR_RESPONSES})
def list_products(
    request: HttpRequest, filters: Query[ProductFilterIn], paging: Query[PageIn]
) -> dict[str, Any]:
    qs = selectors.product_list(
        business_unit=filters.business_unit, therapy_area=filters.therapy_area
    )
    return paginate(qs, page=paging.page, page_size=paging.page_size)


@router.get("/products/{product_id}", response={200: ProductOut, **ERROR_RESPONSES})
def get_product(request: HttpRequest, product_id: RecordId) -> Any:
    return selectors.product_get(product_id=product_id)


@router.post("/products", response={201: ProductOut, **ERROR_RESPONSES})
@idempotent
def create_product(request: HttpRequest, payload: ProductCreateIn) -> Status[Any]:
    require_role(request.user, ORG_EDITORS)
    data = payload.dict()
    data["business_unit"] = referenced(
        selectors.business_unit_get, "business_unit", code=payload.business_unit
    )
    data["therapy_area"] = referenced(
        selectors.therapy_area_get, "therapy_area", code=payload.therapy_area
    )
    product = services.product_create(actor=request.user, **data)
    return Status(201, selectors.product_get(product_id=product.pk))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERROR_RESPONSES})
def update_product(request: HttpRequest, product_id: RecordId, payload: ProductUpdateIn) -> Any:
    require_role(request.user, ORG_EDITORS)
    product = selectors.product_get(product_id=product_id)
    services.product_update(
        actor=request.user, product=product, data=payload.dict(exclude_unset=True)
    )
    return selectors.product_get(product_id=product_id)


@router.post("/products/{product_id}/skus", response={201: SKUOut, **ERROR_RESPONSES})
@idempotent
def create_sku(request: HttpRequest, product_id: RecordId, payload: SKUCreateIn) -> Status[Any]:
    require_role(request.user, ORG_EDITORS)
    product = selectors.product_get(product_id=product_id)
    return Status(201, services.sku_create(actor=request.user, product=product, **payload.dict()))
