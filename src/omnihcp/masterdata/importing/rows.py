"""One mapped file row → standardised, validated values, or the reasons it is refused.

Standardisation is masterdata.standardise's (OpenCC, NFKC, hospital names, cpca addresses,
titles); validation is masterdata.validation's (USCC check character, mobile, licence), so a
file row is held to exactly the rules of a form or an API call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, FieldError
from omnihcp.masterdata.importing.mapping import HCO, HCP, fields_for
from omnihcp.masterdata.models import Gender, HCOType, HospitalLevel, Title
from omnihcp.masterdata.standardise import (
    clean_text,
    hospital_name,
    parse_address,
    title_code,
)
from omnihcp.masterdata.standardise.text import to_simplified
from omnihcp.masterdata.validation import normalise_licence, normalise_mobile, normalise_uscc

HCO_TYPE_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("医院", "综合医院", "专科医院", "中医院", "公立医院", "民营医院", "hospital"),
        HCOType.HOSPITAL,
    ),
    **dict.fromkeys(
        (
            "社区",
            "社区卫生服务中心",
            "社区医院",
            "卫生院",
            "乡镇卫生院",
            "基层医疗机构",
            "community",
            "communityhealthcentre",
        ),
        HCOType.COMMUNITY,
    ),
    **dict.fromkeys(("诊所", "门诊部", "clinic"), HCOType.CLINIC),
    **dict.fromkeys(
        ("药店", "药房", "零售药店", "连锁药店", "大药房", "pharmacy"), HCOType.PHARMACY
    ),
    **dict.fromkeys(
        ("经销商", "商业公司", "配送商", "医药公司", "distributor"), HCOType.DISTRIBUTOR
    ),
}
LEVEL_WORDS: dict[str, str] = {
    **dict.fromkeys(("三级甲等", "三甲", "3a", "3级甲等", "tier3a"), HospitalLevel.L3A),
    **dict.fromkeys(("三级乙等", "三乙", "3b", "3级乙等", "tier3b"), HospitalLevel.L3B),
    **dict.fromkeys(("三级丙等", "三丙", "3c", "tier3c"), HospitalLevel.L3C),
    **dict.fromkeys(("二级甲等", "二甲", "2a", "2级甲等", "tier2a"), HospitalLevel.L2A),
    **dict.fromkeys(("二级乙等", "二乙", "2b", "tier2b"), HospitalLevel.L2B),
    **dict.fromkeys(("二级丙等", "二丙", "2c", "tier2c"), HospitalLevel.L2C),
    **dict.fromkeys(
        ("一级", "一级甲等", "一甲", "一级乙等", "一级丙等", "1", "tier1"), HospitalLevel.L1
    ),
    **dict.fromkeys(("", "未定级", "未评级", "无", "unrated"), HospitalLevel.UNRATED),
}
GENDER_WORDS: dict[str, str] = {
    **dict.fromkeys(("男", "m", "male", "先生"), Gender.MALE),
    **dict.fromkeys(("女", "f", "female", "女士"), Gender.FEMALE),
    **dict.fromkeys(("", "u", "unknown", "未知"), Gender.UNKNOWN),
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD_FOLD = re.compile(r"[\s_\-]+")


@dataclass
class Row:
    """A row's standardised values and the errors found; ``ok`` when there are none."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def refuse(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def take(self, name: str, check: Any, raw: str) -> None:
        """Set ``name`` to ``check(raw)``, or record the validator's field-named error."""
        try:
            self.values[name] = check(raw)
        except ApplicationError as exc:
            self.refuse(name, exc.message)


def _fold_word(text: str) -> str:
    return _WORD_FOLD.sub("", unicodedata.normalize("NFKC", text).strip().lower())


def _plain(text: str) -> str:
    """NFKC, simplified characters, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", to_simplified(text)).split())


def _display_name(text: str) -> str:
    """A name to store: "張 偉" → "张伟", "Li  Ming" → "Li Ming"; "买买提·艾力" keeps its dot."""
    plain = _plain(text)
    return plain.replace(" ", "") if _CJK.search(plain) else plain


def _place(province: str, city: str, fallback: str = "") -> tuple[str, str]:
    """Province and city as master data writes them ("杭州" → 浙江省, 杭州市)."""
    given = clean_text(province) + clean_text(city)
    parsed = parse_address(given or fallback)
    if parsed.city:
        return parsed.province, parsed.city
    return _plain(province), _plain(city)


def _check_required(entity_type: str, raw: dict[str, str], row: Row) -> None:
    for spec in fields_for(entity_type):
        if spec.required and not raw.get(spec.name, "").strip():
            row.refuse(spec.name, _("%(field)s is empty.") % {"field": spec.label})


def _lookup(row: Row, name: str, words: dict[str, str], raw: str, choices: Any) -> None:
    folded = _fold_word(raw)
    if raw.strip() in choices.values:
        row.values[name] = raw.strip()
    elif folded in words:
        row.values[name] = words[folded]
    else:
        row.refuse(name, _('"%(value)s" is not a known value here.') % {"value": raw.strip()})


def _beds(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 100_000:
        raise ApplicationError(_("Beds must be a whole number, e.g. 800."), field="beds")
    return int(text)


def hco_row(raw: dict[str, str]) -> Row:
    """An HCO row as ``hco_create`` takes it."""
    row = Row()
    _check_required(HCO, raw, row)
    if raw.get("hco_type", "").strip():
        _lookup(row, "hco_type", HCO_TYPE_WORDS, raw["hco_type"], HCOType)
    name = raw.get("name", "")
    if name.strip():
        # Hospital-name standardisation (简称, numbering, campus) suits care providers; a
        # pharmacy's or distributor's name keeps its brackets: "大药房(中山路店)".
        trade = row.values.get("hco_type") in {HCOType.PHARMACY, HCOType.DISTRIBUTOR}
        row.values["name"] = (clean_text(name) if trade else hospital_name(name).name)[:120]
    _lookup(row, "level", LEVEL_WORDS, raw.get("level", ""), HospitalLevel)
    province, city = _place(raw.get("province", ""), raw.get("city", ""), raw.get("address", ""))
    row.values.update(province=province, city=city)
    for name_ in ("district", "address"):
        if raw.get(name_, "").strip():
            row.values[name_] = _plain(raw[name_])
    if raw.get("uscc", "").strip():
        row.take("uscc", normalise_uscc, raw["uscc"])
    row.take("beds", _beds, raw.get("beds", ""))
    if row.values.get("beds") is None:
        row.values.pop("beds", None)
    return row


def hcp_row(raw: dict[str, str]) -> Row:
    """An HCP row: the fields ``hcp_create`` takes, plus ``hospital``/``province``/``city``
    for finding the primary HCO and ``department`` as the source wrote it."""
    row = Row()
    _check_required(HCP, raw, row)
    if raw.get("name", "").strip():
        row.values["name"] = _display_name(raw["name"])[:40]
    _lookup(row, "gender", GENDER_WORDS, raw.get("gender", ""), Gender)
    title = raw.get("title", "").strip()
    if title:
        code = title if title in Title.values else title_code(title)
        if code:
            row.values["title"] = code
        else:
            row.refuse("title", _('"%(value)s" is not a title we know.') % {"value": title})
    if raw.get("specialty", "").strip():
        row.values["specialty"] = _plain(raw["specialty"])[:60]
    if raw.get("mobile", "").strip():
        row.take("mobile", normalise_mobile, raw["mobile"])
    if raw.get("licence_no", "").strip():
        row.take("licence_no", normalise_licence, raw["licence_no"])
    if raw.get("department", "").strip():
        row.values["department"] = _plain(raw["department"])
    hospital = raw.get("hospital", "")
    if hospital.strip():
        row.values["hospital"] = hospital_name(hospital)
        province, city = _place(raw.get("province", ""), raw.get("city", ""))
        if not city:
            # No city column: "杭州市第一人民医院" names its own city often enough to try.
            province, city = _place("", "", hospital)
        row.values.update(province=province, city=city)
    return row
