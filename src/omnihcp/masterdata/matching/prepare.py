"""Input rows → the standardised columns Splink compares, one set per mapped role.

Chinese text goes through the master-data standardisers (OpenCC simplified, NFKC, hospital-name
keys, mobile digits) and pypinyin; Latin text is folded (accents dropped, lower case). A name
becomes several columns so that script, spelling and order differences still meet:

    name_std     "张伟" / "johnsmith"        the name as written, cleaned
    name_py      "zhangwei" / "johnsmith"    pinyin for Chinese, so "張偉" meets "Zhang Wei"
    name_alt     "zhangwei" / "smithjohn"    a Latin name's last word first: "Wei Zhang" → 张伟
    name_init    "wz" / "js"                 initials, sorted, so word order does not matter
    family_key, given_key                    when known: mapped columns, or a Chinese name split

Values that cannot be read (a date of 31/02/1980, a phone without digits) become null, never an
error: a null simply adds no evidence either way.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.matching.config import Roles
from omnihcp.masterdata.standardise import clean_text, hospital_name, phone_digits, title_code
from omnihcp.masterdata.textkeys import CJK

UNIQUE_ID = "unique_id"
# Names, hospitals, cities and departments repeat across a big file: each distinct value is
# standardised once (the cached results are never modified: callers copy them).
_MEMO = 1 << 17
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "轩辕",
    "呼延",
    "南宫",
    "钟离",
    "独孤",
)
_WORDS = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['’`]")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
# Abbreviations in Latin organisation names and addresses, folded to one spelling.
_ORGANISATION_WORDS = {
    "hosp": "hospital",
    "st": "saint",
    "univ": "university",
    "ctr": "centre",
    "center": "centre",
}
_ADDRESS_WORDS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "sq": "square",
}
_LATIN_STOPWORDS = {"the", "of", "and"}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ t].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2}|\d{4})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*([a-z]+)[\s\-/.,]*(\d{4})$")
_MONTH_NAME_DAY = re.compile(r"^([a-z]+)[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?[\s\-/.,]*(\d{4})$")
# Two-digit years: "05/03/80" is 1980, "05/03/12" is 2012 — fixed, so results never drift.
_CENTURY_PIVOT = 30


def fold_latin(text: str) -> str:
    """Lower case without accents: "José Müller" → "jose muller"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


@lru_cache(maxsize=65536)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s for s in (_WORDS.sub("", p.lower()) for p in lazy_pinyin(text)) if s)


def _tokens(text: str) -> tuple[str, ...]:
    if _has_cjk(text):
        return _syllables(clean_text(text, keep_brackets=False))
    return tuple(w for w in _WORDS.split(_APOSTROPHES.sub("", fold_latin(text))) if w)


def _split_chinese(name: str) -> tuple[str, str]:
    """(family, given) of a Chinese name: the family name comes first, one or two characters."""
    surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s)), name[:1])
    return surname, name[len(surname) :]


@lru_cache(maxsize=_MEMO)
def name_keys(name: str, *, given: str = "", family: str = "") -> dict[str, str]:
    """The name columns of a person (see the module docstring)."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    tokens = _tokens(name)
    if _has_cjk(name):
        std = clean_text(name, keep_brackets=False)
        alternative = "".join(tokens)
        if not (given or family):
            family, given = _split_chinese(std)
    else:
        std = "".join(tokens)
        # "Wei Zhang" and "Fangjing Huang" put the family name last: rotated, they meet
        # 张伟 / 黄芳静, and "Smith John" meets "John Smith".
        alternative = "".join(tokens[-1:] + tokens[:-1])
    return {
        "name_std": std,
        "name_py": "".join(tokens),
        "name_alt": alternative,
        "name_init": "".join(sorted(t[0] for t in tokens)),
        "given_key": "".join(_tokens(given)),
        "family_key": "".join(_tokens(family)),
    }


def full_name(given: str, family: str) -> str:
    """Chinese names are written family name first, Latin ones given name first."""
    given, family = (given or "").strip(), (family or "").strip()
    if _has_cjk(given) or _has_cjk(family):
        return f"{family}{given}"
    return f"{given} {family}".strip()


def _latin_words(text: str, abbreviations: Mapping[str, str]) -> list[str]:
    words = _WORDS.split(_APOSTROPHES.sub("", fold_latin(text)))
    return [abbreviations.get(w, w) for w in words if w and w not in _LATIN_STOPWORDS]


@lru_cache(maxsize=_MEMO)
def organisation_keys(text: str, *, city: str = "") -> dict[str, str]:
    """``org_key`` is the institution, ``org_name`` the institution and campus, ``org_campus``
    the campus alone ("" for none)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _has_cjk(text):
        if text.startswith("市") and _has_cjk(city):
            # "市一院" in a Ningbo file is Ningbo's No. 1 hospital: the file's city is implied.
            text = re.sub(r"市$", "", city.strip()) + text
        name = hospital_name(text)
        return {"org_name": name.key + name.campus, "org_key": name.key, "org_campus": name.campus}
    words = _latin_words(text, _ORGANISATION_WORDS)
    return {"org_name": " ".join(words), "org_key": "".join(words), "org_campus": ""}


@lru_cache(maxsize=_MEMO)
def city_key(text: str) -> str:
    cleaned = clean_text(text or "", keep_brackets=False)
    if _has_cjk(cleaned):
        # "杭州市" and "杭州" are one city, and in pinyin "Hangzhou" and "Xi'an" meet them too.
        return "".join(_syllables(re.sub(r"(市|地区|盟|自治州)$", "", cleaned) or cleaned))
    return "".join(_latin_words(text or "", {}))


@lru_cache(maxsize=_MEMO)
def address_key(text: str) -> str:
    if _has_cjk(text or ""):
        return clean_text(text, keep_brackets=False)
    return " ".join(_latin_words(text or "", _ADDRESS_WORDS))


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < _CENTURY_PIVOT else 1900
    return year


def _iso(year: int, month: int, day: int) -> str:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


def parse_date(text: str, *, date_order: str = "dmy") -> str:
    """A date in ISO form, or "" when the text is not a date we can read without guessing."""
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not value:
        return ""
    if match := _YMD.match(value) or _COMPACT.match(value):
        return _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _DMY.match(value):
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        if first > 12 or (second <= 12 and date_order == "dmy"):
            return _iso(year, second, first)
        return _iso(year, first, second)
    if match := _DAY_MONTH_NAME.match(value):
        month = _MONTHS.get(match.group(2), 0)
        return _iso(int(match.group(3)), month, int(match.group(1))) if month else ""
    if match := _MONTH_NAME_DAY.match(value):
        month = _MONTHS.get(match.group(1), 0)
        return _iso(int(match.group(3)), month, int(match.group(2))) if month else ""
    return ""


def phone_key(text: str) -> str:
    """Mainland mobiles as their 11 digits; other numbers as all their digits (6 or more)."""
    mobile = phone_digits(text or "")
    if mobile:
        return mobile
    digits = re.sub(r"\D+", "", unicodedata.normalize("NFKC", text or ""))
    return digits if len(digits) >= 6 else ""


def code_key(text: str) -> str:
    """Postcodes and licence numbers: upper-case letters and digits only."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", text or "")).upper()


@lru_cache(maxsize=_MEMO)
def plain_key(text: str) -> str:
    """Exact and fuzzy columns: the common clean-up, lower case."""
    cleaned = clean_text(text or "", keep_brackets=False)
    return cleaned if _has_cjk(cleaned) else fold_latin(cleaned)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a pandas frame
        return ""
    return str(value).strip()


def prepare_row(row: Mapping[str, object], roles: Roles, *, date_order: str) -> dict[str, str]:
    """The standardised columns of one input row ("" where a value is missing or unreadable)."""

    def get(column: str | None) -> str:
        return _text(row.get(column)) if column else ""

    out: dict[str, str] = {UNIQUE_ID: get(roles.record_id)}
    if roles.has_person:
        given, family = get(roles.given_name), get(roles.family_name)
        name = get(roles.person_name) or full_name(given, family)
        out.update(name_keys(name, given=given, family=family))
    if roles.organisation_name:
        out.update(organisation_keys(get(roles.organisation_name), city=get(roles.city)))
    if roles.city:
        out["city"] = city_key(get(roles.city))
    if roles.date:
        out["date"] = parse_date(get(roles.date), date_order=date_order)
    if roles.address:
        out["address"] = address_key(get(roles.address))
    if roles.postcode:
        out["postcode"] = code_key(get(roles.postcode))
    if roles.phone:
        out["phone"] = phone_key(get(roles.phone))
    if roles.department:
        out["department"] = plain_key(get(roles.department))
    if roles.title:
        title = get(roles.title)
        out["title"] = title_code(title) or plain_key(title)
    if roles.licence:
        out["licence"] = code_key(get(roles.licence))
    for i, column in enumerate(roles.exact):
        out[f"exact_{i}"] = plain_key(get(column))
    for i, column in enumerate(roles.fuzzy):
        out[f"fuzzy_{i}"] = plain_key(get(column))
    return out


def prepare_columns(
    rows: Iterable[Mapping[str, object]], roles: Roles, *, date_order: str, label: str
) -> dict[str, list[str | None]]:
    """Standardised records column by column ("" → None), record ids checked: present and
    unique within the file. Rows are consumed one at a time, so a file can stream in."""
    columns: dict[str, list[str | None]] = {}
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):  # row 1 of a file is its header
        record = prepare_row(row, roles, date_order=date_order)
        record_id = record[UNIQUE_ID]
        if not record_id:
            raise ApplicationError(
                _("Row %(row)d of %(file)s has no record id (column “%(column)s”).")
                % {"row": number, "file": label, "column": roles.record_id},
                field="record_id",
                code="linkage_input",
            )
        if record_id in seen:
            raise ApplicationError(
                _("Record id “%(id)s” appears twice in %(file)s (row %(row)d).")
                % {"id": record_id, "file": label, "row": number},
                field="record_id",
                code="linkage_input",
            )
        seen.add(record_id)
        if not columns:
            columns = {key: [] for key in record}
        for key, value in record.items():
            columns[key].append(value or None)
    return columns
