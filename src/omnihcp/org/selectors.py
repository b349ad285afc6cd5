"""Reads of the org app: the caller's data scope, the org tree, products."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import NotFoundError
from omnihcp.core.scope import DataScope
from omnihcp.org.models import (
    BusinessUnit,
    Employee,
    OrgNode,
    Product,
    Role,
    Territory,
    TerritoryHCO,
    TerritoryRep,
    TherapyArea,
    User,
)

FIELD_ROLES = {Role.REP, Role.DISTRICT_MANAGER, Role.AREA_MANAGER, Role.REGIONAL_MANAGER}
PI_REVEAL_ROLES = {Role.REP, Role.DISTRICT_MANAGER, Role.DATA_STEWARD, Role.COMPLIANCE, Role.ADMIN}


def _active(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gt=on))


def today() -> dt.date:
    return timezone.localdate()


def territories_of(*, employee: Employee, on: dt.date | None = None) -> QuerySet[Territory]:
    """The territories an employee answers for: worked as a rep, or under a managed node."""
    on = on or today()
    if employee.position == Role.REP:
        worked = TerritoryRep.objects.filter(_active(on), employee=employee).values("territory_id")
        return Territory.objects.filter(id__in=worked)
    return Territory.objects.filter(org_node__path__startswith=employee.org_node.path)


def territory_hco_ids(
    *, territories: QuerySet[Territory], on: dt.date | None = None
) -> QuerySet[Any, Any]:
    on = on or today()
    return TerritoryHCO.objects.filter(_active(on), territory__in=territories).values("hco_id")


def scope_for_user(*, user: User | Any) -> DataScope:
    """The data scope of a signed-in user (DESIGN.md §6)."""
    role = Role(user.role) if getattr(user, "role", None) else Role.REP
    may_reveal = role in PI_REVEAL_ROLES
    if role not in FIELD_ROLES:
        return DataScope(user_id=user.pk, role=role, hco_ids=None, may_reveal_pi=may_reveal)
    employee = Employee.objects.select_related("org_node").filter(user=user, is_active=True).first()
    if employee is None:
        return DataScope(
            user_id=user.pk,
            role=role,
            hco_ids=TerritoryHCO.objects.none().values("hco_id"),
            may_reveal_pi=False,
        )
    hco_ids = territory_hco_ids(territories=territories_of(employee=employee))
    return DataScope(user_id=user.pk, role=role, hco_ids=hco_ids, may_reveal_pi=may_reveal)


def employee_for_user(*, user: User) -> Employee | None:
    return Employee.objects.select_related("org_node").filter(user=user).first()


def org_node_list(*, level: str | None = None, parent_id: int | None = None) -> QuerySet[OrgNode]:
    qs = OrgNode.objects.select_related("parent", "manager")
    if level:
        qs = qs.filter(level=level)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    return qs.order_by("path")


def org_node_get(*, node_id: int) -> OrgNode:
    node = org_node_list().filter(id=node_id).first()
    if node is None:
        raise NotFoundError(_("No such org node."))
    return node


def employee_list(
    *, org_node_id: int | None = None, position: str | None = None
) -> QuerySet[Employee]:
    qs = Employee.objects.select_related("org_node", "user")
    if org_node_id is not None:
        node = org_node_get(node_id=org_node_id)
        qs = qs.filter(org_node__path__startswith=node.path)
    if position:
        qs = qs.filter(position=position)
    return qs.order_by("employee_no")


def employee_get(*, employee_id: int) -> Employee:
    employee = employee_list().filter(id=employee_id).first()
    if employee is None:
        raise NotFoundError(_("No such employee."))
    return employee


def product_list(
    *, business_unit: str | None = None, therapy_area: str | None = None
) -> QuerySet[Product]:
    qs = Product.objects.select_related("business_unit", "therapy_area").prefetch_related("skus")
    if business_unit:
        qs = qs.filter(business_unit__code=business_unit)
    if therapy_area:
        qs = qs.filter(therapy_area__code=therapy_area)
    return qs.order_by("code")


def product_get(*, product_id: int) -> Product:
    product = product_list().filter(id=product_id).first()
    if product is None:
        raise NotFoundError(_("No such product."))
    return product


def reps_covering_hco(*, hco_id: int, on: dt.date | None = None) -> QuerySet[Employee]:
    """The reps who cover an HCO today, in any business unit."""
    on = on or today()
    territories = TerritoryHCO.objects.filter(_active(on), hco_id=hco_id).values("territory_id")
    periods = TerritoryRep.objects.filter(_active(on), territory_id__in=territories)
    return Employee.objects.filter(id__in=periods.values("employee_id")).order_by("name")


def territory_rep_on(*, territory: Territory, on: dt.date | None = None) -> Employee | None:
    """The rep who works a territory on a day (None: vacant)."""
    period = (
        TerritoryRep.objects.filter(_active(on or today()), territory=territory)
        .select_related("employee")
        .first()
    )
    return period.employee if period else None


def business_unit_list() -> QuerySet[BusinessUnit]:
    return BusinessUnit.objects.order_by("code")


def business_unit_get(*, code: str) -> BusinessUnit:
    unit = BusinessUnit.objects.filter(code=code).first()
    if unit is None:
        raise NotFoundError(_("No such business unit."))
    return unit


def therapy_area_list() -> QuerySet[TherapyArea]:
    return TherapyArea.objects.order_by("code")


def therapy_area_get(*, code: str) -> TherapyArea:
    area = TherapyArea.objects.filter(code=code).first()
    if area is None:
        raise NotFoundError(_("No such therapy area."))
    return area


def scope_hco_count(*, scope: DataScope) -> int:
    """How many HCOs a territory-bound scope covers today."""
    if scope.hco_ids is None:
        raise ValueError("a global scope covers every HCO")
    return TerritoryHCO.objects.filter(hco_id__in=scope.hco_ids).values("hco_id").distinct().count()


def therapy_area_ids_covering_hco(*, hco_id: int, on: dt.date | None = None) -> set[int]:
    """The therapy areas of the products sold by the business units whose territories cover
    the HCO today (empty when no territory covers it)."""
    on = on or today()
    territories = TerritoryHCO.objects.filter(_active(on), hco_id=hco_id).values("territory_id")
    units = Territory.objects.filter(id__in=territories).values("business_unit_id")
    return set(
        Product.objects.filter(business_unit_id__in=units).values_list("therapy_area_id", flat=True)
    )


def rep_hco_ids(*, employee: Employee, on: dt.date | None = None) -> QuerySet[Any, Any]:
    """The HCOs of the territories an employee answers for today, as a subquery."""
    return territory_hco_ids(territories=territories_of(employee=employee, on=on), on=on)
