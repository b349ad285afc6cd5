"""Writes of the org app: org tree, employees, products, territories, users and API tokens.

Each service validates, saves in one transaction and appends to the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.core.records import apply_changes, full_clean_or_raise, snapshot
from omnihcp.governance.services import Actor, audit_append
from omnihcp.org.models import (
    SKU,
    ApiToken,
    BusinessUnit,
    Employee,
    OrgLevel,
    OrgNode,
    Product,
    Role,
    Territory,
    TerritoryHCO,
    TerritoryRep,
    TherapyArea,
    User,
)

NODE_FIELDS = ("code", "name", "level", "parent", "manager")
PRODUCT_FIELDS = (
    "code",
    "brand_name",
    "brand_name_en",
    "molecule",
    "molecule_en",
    "business_unit",
    "therapy_area",
    "vbp_contracted",
    "is_active",
)
EMPLOYEE_FIELDS = ("employee_no", "name", "org_node", "position", "hired_on", "is_active")

_LEVEL_ORDER = [OrgLevel.NATIONAL, OrgLevel.REGION, OrgLevel.AREA, OrgLevel.DISTRICT]


def _check_parent(level: str, parent: OrgNode | None) -> None:
    index = _LEVEL_ORDER.index(OrgLevel(level))
    if index == 0:
        if parent is not None:
            raise ApplicationError(_("The national node has no parent."), field="parent")
        return
    if parent is None or parent.level != _LEVEL_ORDER[index - 1]:
        raise ApplicationError(
            _("A %(level)s must sit under a %(parent)s.")
            % {"level": OrgLevel(level).label, "parent": _LEVEL_ORDER[index - 1].label},
            field="parent",
        )


@transaction.atomic
def org_node_create(
    *, actor: Actor | None, code: str, name: str, level: str, parent: OrgNode | None = None
) -> OrgNode:
    _check_parent(level, parent)
    node = OrgNode(code=code, name=name, level=level, parent=parent, path="/")
    full_clean_or_raise(node, exclude=["path"])
    node.save()
    node.path = f"{parent.path if parent else '/'}{node.pk}/"
    node.save(update_fields=["path"])
    audit_append(
        actor=actor,
        action="org_node.create",
        object_type="org_node",
        object_id=node.pk,
        after=snapshot(node, NODE_FIELDS),
    )
    return node


@transaction.atomic
def org_node_update(*, actor: Actor | None, node: OrgNode, data: dict[str, Any]) -> OrgNode:
    if "parent" in data or "level" in data:
        raise ApplicationError(_("Move a node with the reorganisation tool."), field="parent")
    before = snapshot(node, NODE_FIELDS)
    changed = apply_changes(node, data)
    if changed:
        full_clean_or_raise(node, exclude=["path"])
        node.save(update_fields=[*changed, "updated_at"])
        audit_append(
            actor=actor,
            action="org_node.update",
            object_type="org_node",
            object_id=node.pk,
            before=before,
            after=snapshot(node, NODE_FIELDS),
        )
    return node


@transaction.atomic
def employee_create(
    *,
    actor: Actor | None,
    employee_no: str,
    name: str,
    org_node: OrgNode,
    position: str,
    user: User | None = None,
    hired_on: dt.date | None = None,
) -> Employee:
    employee = Employee(
        employee_no=employee_no,
        name=name,
        org_node=org_node,
        position=position,
        user=user,
        hired_on=hired_on,
    )
    full_clean_or_raise(employee)
    employee.save()
    audit_append(
        actor=actor,
        action="employee.create",
        object_type="employee",
        object_id=employee.pk,
        after=snapshot(employee, EMPLOYEE_FIELDS),
    )
    return employee


@transaction.atomic
def product_create(
    *,
    actor: Actor | None,
    code: str,
    brand_name: str,
    brand_name_en: str,
    molecule: str,
    molecule_en: str,
    business_unit: BusinessUnit,
    therapy_area: TherapyArea,
    vbp_contracted: bool = False,
) -> Product:
    product = Product(
        code=code,
        brand_name=brand_name,
        brand_name_en=brand_name_en,
        molecule=molecule,
        molecule_en=molecule_en,
        business_unit=business_unit,
        therapy_area=therapy_area,
        vbp_contracted=vbp_contracted,
    )
    full_clean_or_raise(product)
    product.save()
    audit_append(
        actor=actor,
        action="product.create",
        object_type="product",
        object_id=product.pk,
        after=snapshot(product, PRODUCT_FIELDS),
    )
    return product


@transaction.atomic
def product_update(*, actor: Actor | None, product: Product, data: dict[str, Any]) -> Product:
    before = snapshot(product, PRODUCT_FIELDS)
    changed = apply_changes(product, data)
    if changed:
        full_clean_or_raise(product)
        product.save(update_fields=[*changed, "updated_at"])
        audit_append(
            actor=actor,
            action="product.update",
            object_type="product",
            object_id=product.pk,
            before=before,
            after=snapshot(product, PRODUCT_FIELDS),
        )
    return product


@transaction.atomic
def sku_create(
    *,
    actor: Actor | None,
    product: Product,
    code: str,
    specification: str,
    pack: str,
    list_price: Decimal,
) -> SKU:
    sku = SKU(
        product=product, code=code, specification=specification, pack=pack, list_price=list_price
    )
    full_clean_or_raise(sku)
    sku.save()
    audit_append(
        actor=actor,
        action="sku.create",
        object_type="sku",
        object_id=sku.pk,
        after=snapshot(sku, ("code", "product", "specification", "pack", "list_price")),
    )
    return sku


@transaction.atomic
def territory_create(
    *, actor: Actor | None, code: str, name: str, org_node: OrgNode, business_unit: BusinessUnit
) -> Territory:
    if org_node.level != OrgLevel.DISTRICT:
        raise ApplicationError(_("A territory belongs to a district."), field="org_node")
    territory = Territory(code=code, name=name, org_node=org_node, business_unit=business_unit)
    full_clean_or_raise(territory)
    territory.save()
    audit_append(
        actor=actor,
        action="territory.create",
        object_type="territory",
        object_id=territory.pk,
        after=snapshot(territory, ("code", "name", "org_node", "business_unit")),
    )
    return territory


@transaction.atomic
def territory_rep_assign(
    *, actor: Actor | None, territory: Territory, employee: Employee, valid_from: dt.date
) -> TerritoryRep:
    """Hand a territory to a rep from a date, closing the previous rep's period."""
    if employee.position != Role.REP:
        raise ApplicationError(_("Only a medical rep can work a territory."), field="employee")
    open_periods = TerritoryRep.objects.select_for_update().filter(
        territory=territory, valid_to__isnull=True
    )
    for period in open_periods:
        if period.valid_from >= valid_from:
            raise ApplicationError(
                _("The new period must start after the current one."), field="valid_from"
            )
        period.valid_to = valid_from
        period.save(update_fields=["valid_to"])
    period = TerritoryRep.objects.create(
        territory=territory, employee=employee, valid_from=valid_from
    )
    audit_append(
        actor=actor,
        action="territory.rep_assign",
        object_type="territory",
        object_id=territory.pk,
        after={"employee": employee.pk, "valid_from": valid_from},
    )
    return period


@transaction.atomic
def territory_hcos_assign(
    *, actor: Actor | None, territory: Territory, hco_ids: list[int], valid_from: dt.date
) -> int:
    """Add HCOs to a territory from a date; HCOs already in it are left as they are."""
    present = set(
        TerritoryHCO.objects.filter(
            territory=territory, valid_to__isnull=True, hco_id__in=hco_ids
        ).values_list("hco_id", flat=True)
    )
    rows = [
        TerritoryHCO(territory=territory, hco_id=h, valid_from=valid_from)
        for h in dict.fromkeys(hco_ids)
        if h not in present
    ]
    TerritoryHCO.objects.bulk_create(rows, batch_size=500)
    audit_append(
        actor=actor,
        action="territory.hcos_assign",
        object_type="territory",
        object_id=territory.pk,
        after={"hco_ids": [r.hco_id for r in rows], "valid_from": valid_from},
    )
    return len(rows)


@transaction.atomic
def territory_hcos_move(
    *,
    actor: Actor | None,
    source: Territory,
    target: Territory,
    hco_ids: list[int],
    valid_from: dt.date,
) -> list[int]:
    """Move HCOs from one territory to another from a date: the source's periods end that day,
    the target's begin, so who covered a hospital when stays readable. Returns the HCOs moved."""
    if source.pk == target.pk:
        raise ApplicationError(_("Choose another territory."), field="target")
    if source.business_unit_id != target.business_unit_id:
        raise ApplicationError(
            _("HCOs move only between territories of the same business unit."), field="target"
        )
    periods = list(
        TerritoryHCO.objects.select_for_update().filter(
            territory=source, valid_to__isnull=True, hco_id__in=hco_ids
        )
    )
    if not periods:
        raise ApplicationError(_("Choose at least one HCO of this territory."), field="hcos")
    for period in periods:
        if period.valid_from >= valid_from:
            raise ApplicationError(
                _("The move must start after the HCO joined this territory (%(day)s).")
                % {"day": period.valid_from},
                field="valid_from",
            )
        period.valid_to = valid_from
        period.save(update_fields=["valid_to"])
    moved = sorted(p.hco_id for p in periods)
    present = set(
        TerritoryHCO.objects.filter(
            territory=target, valid_to__isnull=True, hco_id__in=moved
        ).values_list("hco_id", flat=True)
    )
    TerritoryHCO.objects.bulk_create(
        [
            TerritoryHCO(territory=target, hco_id=h, valid_from=valid_from)
            for h in moved
            if h not in present
        ]
    )
    audit_append(
        actor=actor,
        action="territory.hcos_move",
        object_type="territory",
        object_id=target.pk,
        before={"territory": source.pk, "hco_ids": moved},
        after={"territory": target.pk, "hco_ids": moved, "valid_from": valid_from},
    )
    return moved


@transaction.atomic
def territory_hcos_repoint(
    *,
    actor: Actor | None,
    old_hco_id: int,
    new_hco_id: int,
    period_ids: list[int] | None = None,
) -> list[int]:
    """Move an HCO's territory periods (or only ``period_ids`` of them) to another HCO.

    For a merge of two HCOs and its undo: the periods, history included, follow the record.
    Returns the ids of the periods moved.
    """
    periods = TerritoryHCO.objects.select_for_update().filter(hco_id=old_hco_id)
    if period_ids is not None:
        periods = periods.filter(pk__in=period_ids)
    moved = sorted(periods.values_list("pk", flat=True))
    if moved:
        TerritoryHCO.objects.filter(pk__in=moved).update(hco_id=new_hco_id)
        audit_append(
            actor=actor,
            action="territory.hcos_repoint",
            object_type="hco",
            object_id=new_hco_id,
            before={"hco_id": old_hco_id, "periods": moved},
            after={"hco_id": new_hco_id, "periods": moved},
        )
    return moved


@transaction.atomic
def user_create(
    *,
    actor: Actor | None,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    email: str = "",
) -> User:
    user = User(
        username=username,
        role=role,
        display_name=display_name,
        email=email,
        is_staff=role in {Role.ADMIN, Role.DATA_STEWARD},
    )
    user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    full_clean_or_raise(user, exclude=["password"])
    user.save()
    audit_append(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        after={"username": username, "role": role},
    )
    return user


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, actor: Actor | None, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a bearer token; the raw value is returned once and never stored."""
    raw = "ohcp_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[5:13], token_hash=_token_hash(raw)
    )
    audit_append(
        actor=actor,
        action="api_token.issue",
        object_type="user",
        object_id=user.pk,
        after={"name": name, "prefix": token.prefix},
    )
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Only touch the row once a minute, so busy integrations do not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
