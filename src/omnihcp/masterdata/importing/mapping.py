"""Our import fields per entity type, which are required, and the mapping from file columns.

A mapping is ``{our field: the file's column header}``. The first file of a source gets a
suggestion from header synonyms in Chinese and English (姓名/name, 医院/hospital, 手机/mobile …);
the steward confirms or corrects it once, and the source keeps it for its next files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core.errors import ApplicationError

HCP = "hcp"
HCO = "hco"


@dataclass(frozen=True)
class ImportField:
    name: str
    label: Promise
    required: bool
    synonyms: tuple[str, ...]


_SOURCE_KEY = ImportField(
    "source_key",
    gettext_lazy("Source key (the record's id in the source)"),
    True,
    (
        "source_key",
        "id",
        "编号",
        "编码",
        "医生编号",
        "医生编码",
        "医生id",
        "机构编号",
        "机构编码",
        "医院编号",
        "医院编码",
        "代码",
        "客户编码",
        "客户编号",
        "记录编号",
        "源编号",
        "外部编号",
        "crm编号",
        "crmid",
        "code",
        "key",
    ),
)
_PROVINCE = ImportField(
    "province", gettext_lazy("Province"), False, ("province", "省", "省份", "所在省")
)
_CITY = ImportField("city", gettext_lazy("City"), False, ("city", "市", "城市", "地市", "所在城市"))

FIELDS: dict[str, tuple[ImportField, ...]] = {
    HCP: (
        _SOURCE_KEY,
        ImportField(
            "name",
            gettext_lazy("Name"),
            True,
            ("name", "姓名", "医生姓名", "医生", "名字", "hcpname"),
        ),
        ImportField("gender", gettext_lazy("Gender"), False, ("gender", "sex", "性别")),
        ImportField(
            "title", gettext_lazy("Title"), True, ("title", "职称", "技术职称", "专业职称")
        ),
        ImportField(
            "department", gettext_lazy("Department"), False, ("department", "dept", "科室")
        ),
        ImportField(
            "hospital",
            gettext_lazy("Hospital"),
            True,
            (
                "hospital",
                "hco",
                "医院",
                "医院名称",
                "机构",
                "机构名称",
                "所在医院",
                "执业机构",
                "工作单位",
                "单位",
                "终端名称",
                "institution",
            ),
        ),
        _PROVINCE,
        _CITY,
        ImportField(
            "mobile",
            gettext_lazy("Mobile phone"),
            False,
            ("mobile", "phone", "cellphone", "手机", "手机号", "手机号码", "电话", "联系电话"),
        ),
        ImportField(
            "licence_no",
            gettext_lazy("Practising licence no."),
            False,
            (
                "licence_no",
                "licence",
                "license",
                "licenseno",
                "licenceno",
                "执业证书编码",
                "医师执业证书编码",
                "执业证号",
                "执业证书编号",
                "执业证书号",
            ),
        ),
        ImportField(
            "specialty", gettext_lazy("Specialty"), False, ("specialty", "专长", "擅长", "专业")
        ),
    ),
    HCO: (
        _SOURCE_KEY,
        ImportField(
            "name",
            gettext_lazy("Name"),
            True,
            (
                "name",
                "hospital",
                "名称",
                "机构名称",
                "医院名称",
                "医院",
                "机构",
                "终端名称",
                "客户名称",
                "单位名称",
            ),
        ),
        ImportField(
            "hco_type",
            gettext_lazy("Type"),
            True,
            ("hco_type", "type", "类型", "机构类型", "终端类型", "客户类型"),
        ),
        ImportField(
            "level", gettext_lazy("Hospital level"), False, ("level", "等级", "医院等级", "级别")
        ),
        ImportField(_PROVINCE.name, _PROVINCE.label, True, _PROVINCE.synonyms),
        ImportField(_CITY.name, _CITY.label, True, _CITY.synonyms),
        ImportField(
            "district", gettext_lazy("district"), False, ("district", "区", "区县", "县区")
        ),
        ImportField("address", gettext_lazy("Address"), False, ("address", "地址", "详细地址")),
        ImportField(
            "uscc",
            gettext_lazy("USCC"),
            False,
            ("uscc", "统一社会信用代码", "信用代码", "社会信用代码"),
        ),
        ImportField("beds", gettext_lazy("Beds"), False, ("beds", "床位", "床位数", "编制床位")),
    ),
}

_FOLD = re.compile(r"[\s_\-./:：()（）]+")


def _fold(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).lower())


def fields_for(entity_type: str) -> tuple[ImportField, ...]:
    return FIELDS[entity_type]


def suggest_mapping(*, entity_type: str, columns: list[str]) -> dict[str, str]:
    """Our fields matched to the file's columns by header synonyms; unknown columns are left."""
    by_fold = {_fold(column): column for column in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field in fields_for(entity_type):
        for synonym in (field.name, *field.synonyms):
            column = by_fold.get(_fold(synonym))
            if column is not None and column not in used:
                mapping[field.name] = column
                used.add(column)
                break
    return mapping


def initial_mapping(
    *, entity_type: str, saved: dict[str, str], columns: list[str]
) -> dict[str, str]:
    """The saved mapping where its columns are in this file, else the suggestion."""
    present = {field: column for field, column in saved.items() if column in columns}
    if saved and present:
        return present
    return suggest_mapping(entity_type=entity_type, columns=columns)


def check_mapping(
    *, entity_type: str, mapping: dict[str, str], columns: list[str]
) -> dict[str, str]:
    """The mapping without blanks; an error names the field whose column is missing."""
    known = {field.name: field for field in fields_for(entity_type)}
    cleaned = {field: column for field, column in mapping.items() if column}
    for field, column in cleaned.items():
        if field not in known:
            raise ApplicationError(
                _('"%(field)s" is not a field of this import.') % {"field": field}, field=field
            )
        if column not in columns:
            raise ApplicationError(
                _('The file has no column "%(column)s" (mapped to %(field)s).')
                % {"column": column, "field": known[field].label},
                field=field,
            )
    doubled = [c for c in set(cleaned.values()) if list(cleaned.values()).count(c) > 1]
    if doubled:
        raise ApplicationError(
            _('The column "%(column)s" is mapped to more than one field.') % {"column": doubled[0]},
            field="mapping",
        )
    for spec in known.values():
        if spec.required and spec.name not in cleaned:
            raise ApplicationError(
                _("The file has no column for the required field %(field)s.")
                % {"field": spec.label},
                field=spec.name,
            )
    return cleaned
