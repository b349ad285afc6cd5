"""API schemas of master data: HCOs, departments, HCPs, search and personal-information reveal.

Personal information leaves the API only masked (``mobile_masked``, ``licence_masked``); the
clear value comes from ``POST /hcps/{id}/reveal``, which allowed roles call and which is logged.
"""

from typing import Literal

from ninja import Schema
from pydantic import Field

from omnihcp.core.api import InSchema, RecordId
from omnihcp.masterdata.models import Gender, HCOType, HospitalLevel, Position, RecordStatus, Title


class HCOOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    hco_type: HCOType
    level: HospitalLevel
    province: str
    city: str
    district: str
    address: str
    uscc: str | None
    beds: int | None
    status: RecordStatus
    parent_id: int | None


class HCOFilterIn(Schema):
    q: str = Field(default="", max_length=60, description="name, pinyin or initials")
    hco_type: HCOType | None = None
    level: HospitalLevel | None = None
    province: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=30)
    status: RecordStatus = RecordStatus.ACTIVE


class HCOCreateIn(InSchema):
    name: str = Field(min_length=2, max_length=120)
    short_name: str = Field(default="", max_length=60)
    hco_type: HCOType
    level: HospitalLevel = HospitalLevel.UNRATED
    province: str = Field(min_length=2, max_length=20)
    city: str = Field(min_length=2, max_length=30)
    district: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)
    uscc: str | None = Field(default=None, max_length=30, description="GB 32100-2015 code")
    beds: int | None = Field(default=None, ge=0, le=20000)
    parent_id: RecordId | None = None


class HCOUpdateIn(InSchema):
    name: str | None = Field(default=None, min_length=2, max_length=120)
    short_name: str | None = Field(default=None, max_length=60)
    hco_type: HCOType | None = None
    level: HospitalLevel | None = None
    province: str | None = Field(default=None, min_length=2, max_length=20)
    city: str | None = Field(default=None, min_length=2, max_length=30)
    district: str | None = Field(default=None, max_length=30)
    address: str | None = Field(default=None, max_length=200)
    uscc: str | None = Field(default=None, max_length=30)
    beds: int | None = Field(default=None, ge=0, le=20000)
    status: RecordStatus | None = None
    parent_id: RecordId | None = None


class DepartmentOut(Schema):
    id: int
    hco_id: int
    name: str
    standard_code: str | None
    standard_name: str | None

    @staticmethod
    def resolve_standard_code(obj: object) -> str | None:
        standard = obj.standard  # type: ignore[attr-defined]
        return None if standard is None else str(standard.code)

    @staticmethod
    def resolve_standard_name(obj: object) -> str | None:
        standard = obj.standard  # type: ignore[attr-defined]
        return None if standard is None else str(standard.name)


class DepartmentCreateIn(InSchema):
    name: str = Field(min_length=1, max_length=60)
    standard_code: str | None = Field(default=None, max_length=16)


class StandardDepartmentOut(Schema):
    code: str
    name: str
    name_en: str
    synonyms: list[str]


class HCORef(Schema):
    id: int
    name: str
    city: str


class DepartmentRef(Schema):
    id: int
    name: str


class HCPOut(Schema):
    id: int
    code: str
    name: str
    name_pinyin: str
    gender: Gender
    title: Title
    position: Position
    specialty: str
    primary_hco: HCORef
    department: DepartmentRef | None
    mobile_masked: str
    licence_masked: str
    status: RecordStatus


class HCPFilterIn(Schema):
    q: str = Field(default="", max_length=60, description="name, pinyin, initials or hospital")
    hco_id: RecordId | None = None
    title: Title | None = None
    city: str = Field(default="", max_length=30)
    standard_department: str = Field(default="", max_length=16)
    status: RecordStatus = RecordStatus.ACTIVE


class HCPCreateIn(InSchema):
    name: str = Field(min_length=2, max_length=40)
    gender: Gender = Gender.UNKNOWN
    title: Title
    position: Position = Position.NONE
    specialty: str = Field(default="", max_length=60)
    primary_hco_id: RecordId
    department_id: RecordId | None = None
    mobile: str = Field(default="", max_length=20, description="mainland mobile number")
    licence_no: str = Field(default="", max_length=20, description="practising licence number")


class HCPUpdateIn(InSchema):
    name: str | None = Field(default=None, min_length=2, max_length=40)
    gender: Gender | None = None
    title: Title | None = None
    position: Position | None = None
    specialty: str | None = Field(default=None, max_length=60)
    primary_hco_id: RecordId | None = None
    department_id: RecordId | None = None
    mobile: str | None = Field(default=None, max_length=20)
    licence_no: str | None = Field(default=None, max_length=20)
    status: RecordStatus | None = None


class HCPSearchHit(Schema):
    id: int
    name: str
    title: Title
    hco_name: str
    department_name: str | None

    @staticmethod
    def resolve_hco_name(obj: object) -> str:
        return str(obj.primary_hco.name)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_department_name(obj: object) -> str | None:
        department = obj.department  # type: ignore[attr-defined]
        return None if department is None else str(department.name)


class HCPSearchIn(Schema):
    q: str = Field(max_length=60, description="张伟, zhangwei, zw or a hospital name")
    limit: int = Field(default=20, ge=1, le=50)


class HCPSearchOut(Schema):
    items: list[HCPSearchHit]


class RevealIn(InSchema):
    field: Literal["mobile", "licence_no", "email"]
    purpose: str = Field(default="", max_length=200)


class RevealOut(Schema):
    field: str
    value: str
