"""API schemas of the org app: org tree, employees, business units, therapy areas, products."""

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from omnihcp.core.api import InSchema, RecordId
from omnihcp.org.types import OrgLevel, Role


class OrgNodeOut(Schema):
    id: int
    code: str
    name: str
    level: OrgLevel
    parent_id: int | None
    path: str
    manager_id: int | None


class OrgNodeFilterIn(Schema):
    level: OrgLevel | None = None
    parent_id: RecordId | None = None


class OrgNodeCreateIn(InSchema):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=80)
    level: OrgLevel
    parent_id: RecordId | None = None


class OrgNodeUpdateIn(InSchema):
    code: str | None = Field(default=None, min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=80)
    manager_id: RecordId | None = None


class EmployeeOut(Schema):
    id: int
    employee_no: str
    name: str
    position: Role
    org_node_id: int
    org_node_name: str
    user_id: int | None
    hired_on: dt.date | None
    is_active: bool

    @staticmethod
    def resolve_org_node_name(obj: object) -> str:
        return str(obj.org_node.name)  # type: ignore[attr-defined]


class EmployeeFilterIn(Schema):
    org_node_id: RecordId | None = None
    position: Role | None = None


class BusinessUnitOut(Schema):
    code: str
    name: str
    name_en: str


class TherapyAreaOut(Schema):
    code: str
    name: str
    name_en: str


class SKUOut(Schema):
    id: int
    code: str
    specification: str
    pack: str
    list_price: Decimal


class ProductOut(Schema):
    id: int
    code: str
    brand_name: str
    brand_name_en: str
    molecule: str
    molecule_en: str
    business_unit: str
    therapy_area: str
    vbp_contracted: bool
    is_active: bool
    skus: list[SKUOut]

    @staticmethod
    def resolve_business_unit(obj: object) -> str:
        return str(obj.business_unit.code)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_therapy_area(obj: object) -> str:
        return str(obj.therapy_area.code)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_skus(obj: object) -> list[object]:
        return list(obj.skus.all())  # type: ignore[attr-defined]


class ProductFilterIn(Schema):
    business_unit: str | None = None
    therapy_area: str | None = None


class ProductCreateIn(InSchema):
    code: str = Field(min_length=1, max_length=16)
    brand_name: str = Field(min_length=1, max_length=80)
    brand_name_en: str = Field(min_length=1, max_length=80)
    molecule: str = Field(min_length=1, max_length=80)
    molecule_en: str = Field(min_length=1, max_length=80)
    business_unit: str = Field(min_length=1, max_length=16, description="business unit code")
    therapy_area: str = Field(min_length=1, max_length=16, description="therapy area code")
    vbp_contracted: bool = False


class ProductUpdateIn(InSchema):
    brand_name: str | None = Field(default=None, min_length=1, max_length=80)
    brand_name_en: str | None = Field(default=None, min_length=1, max_length=80)
    molecule: str | None = Field(default=None, min_length=1, max_length=80)
    molecule_en: str | None = Field(default=None, min_length=1, max_length=80)
    vbp_contracted: bool | None = None
    is_active: bool | None = None


class SKUCreateIn(InSchema):
    code: str = Field(min_length=1, max_length=24)
    specification: str = Field(min_length=1, max_length=40)
    pack: str = Field(min_length=1, max_length=40)
    list_price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
