"""Input rows → the standardised columns Splink compares, one set per mapped role.

Chinese text goes through the master-data standardisers (OpenCC simplified, NFKC, hospital-name
keys, mobile digits) and pypinyin; Latin text is folded (accents dropped, lower case). A name
becomes several columns so that script, spelling and order differences still meet:

    name_std     "张伟" / "johnsmith"        the name as written, cleaned
    name_py      "zhangwei" / "johnsmith"    pinyin for Chinese, so "張偉" meets "Zhang Wei"
    name_alt     "zhangwei" / "smithjohn"    a Latin name's last word first: "Wei Zhang" → 张伟
    name_init    "wz" / "js"                 initials, sorted, so word order does not matter
    family_key, given_key                    when known: mapped columns, or a Chinese name split

An institution becomes ``org_name`` / ``org_key`` / ``org_campus`` and, for Chinese names,
``org_core`` (the key without its places: what tells neighbours apart) and ``org_num`` (its
numerals); a missing city is read off the institution's name where it names one.

Values that cannot be read (a date of 31/02/1980, a phone without digits) become null, never an
error: a null simply adds no evidence either way. A whole file is prepared column by column,
each distinct value once (``prepare_columns``); one record alike (``prepare_row``).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from functools import cache, lru_cache, partial
from typing import Any, TypeAlias

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no type information
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.matching.config import Roles
from omnihcp.masterdata.standardise import (
    clean_text,
    hospital_city,
    hospital_core,
    hospital_name,
    hospital_numerals,
    phone_digits,
    title_code,
)
from omnihcp.masterdata.textkeys import CJK

UNIQUE_ID = "unique_id"
# Distinct values from which standardising them is shared among processes, and how many.
_PARALLEL_FROM = 20_000
_WORKERS = 4
# Texts up to this long take the per-character pinyin path (names; see ``_syllables``).
_SHORT = 6
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


@cache
def _char_syllable(char: str) -> str:
    return _WORDS.sub("", lazy_pinyin(char)[0].lower())


def _in_phrase(text: str) -> bool:
    """Whether some run of two or more of the characters is a word of pypinyin's phrase
    dictionary, whose reading may differ from the characters' own (重庆 chongqing, 重 zhong)."""
    return any(
        text[i:j] in PHRASES_DICT for i in range(len(text)) for j in range(i + 2, len(text) + 1)
    )


@lru_cache(maxsize=65536)
def _syllables(text: str) -> tuple[str, ...]:
    if len(text) <= _SHORT and text.isalpha() and not _in_phrase(text):
        # A name of a few characters and no phrase: one syllable per character, exactly what
        # lazy_pinyin gives, at a dictionary look-up each instead of its segmenter's 40 µs.
        return tuple(s for s in map(_char_syllable, text) if s)
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
    given_tokens = family_tokens = None
    if _has_cjk(name):
        std = clean_text(name, keep_brackets=False)
        alternative = "".join(tokens)
        if not (given or family):
            family, given = _split_chinese(std)
            if len(tokens) == len(std):  # one syllable per character: split them alike
                family_tokens, given_tokens = tokens[: len(family)], tokens[len(family) :]
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
        "given_key": "".join(_tokens(given) if given_tokens is None else given_tokens),
        "family_key": "".join(_tokens(family) if family_tokens is None else family_tokens),
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
    the campus alone ("" for none); for Chinese names ``org_core`` is the key without its
    leading places and ``org_num`` its numerals (what tells neighbouring institutions apart)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _has_cjk(text):
        if text.startswith("市") and _has_cjk(city):
            # "市一院" in a Ningbo file is Ningbo's No. 1 hospital: the file's city is implied.
            text = re.sub(r"市$", "", city.strip()) + text
        name = hospital_name(text)
        return {
            "org_name": name.key + name.campus,
            "org_key": name.key,
            "org_campus": name.campus,
            "org_core": hospital_core(name.key, city=city),
            "org_num": hospital_numerals(name.key),
        }
    words = _latin_words(text, _ORGANISATION_WORDS)
    return {
        "org_name": " ".join(words),
        "org_key": "".join(words),
        "org_campus": "",
        "org_core": "",
        "org_num": "",
    }


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


_GENDERS = {
    **dict.fromkeys(("男", "男性", "先生", "m", "male", "man", "mr"), "m"),
    **dict.fromkeys(("女", "女性", "女士", "f", "female", "woman", "ms", "mrs"), "f"),
}


def gender_key(text: str) -> str:
    """ "m" or "f" whatever the source wrote (男, M, male, 先生 …); "" when unknown."""
    return _GENDERS.get(unicodedata.normalize("NFKC", text or "").strip().lower().rstrip("."), "")


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


# One transform per role: the input columns it reads → a function of their values → the
# standardised columns it gives. A row (online matching) and a whole file (batch linkage) go
# through the same functions, so a record prepares alike either way.
Transform: TypeAlias = tuple[tuple[str, ...], Callable[..., dict[str, str]]]


def _person(name: str = "", given: str = "", family: str = "") -> dict[str, str]:
    return name_keys(name or full_name(given, family), given=given, family=family)


def _keywords(
    function: Callable[..., dict[str, str]], keywords: list[str], *values: str
) -> dict[str, str]:
    return function(**dict(zip(keywords, values, strict=True)))


def _organisation(name: str, city: str = "") -> dict[str, str]:
    return organisation_keys(name, city=city)


def _single(output: str, function: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    return partial(_one_column, output, function)


def _one_column(output: str, function: Callable[[str], str], value: str) -> dict[str, str]:
    return {output: function(value)}


def _city(city: str, organisation: str = "") -> dict[str, str]:
    """The city as written, else the one the organisation's name starts with (杭州市第一医院)."""
    if city or not _has_cjk(organisation):
        return {"city": city_key(city)}
    key = organisation_keys(organisation)["org_key"]
    return {"city": city_key(hospital_city(key, text=organisation))}


def _title(text: str) -> str:
    return title_code(text) or plain_key(text)


def transforms_for(roles: Roles, *, date_order: str) -> list[Transform]:
    """The role transforms of a config side, in the order of its columns."""
    transforms: list[Transform] = []
    if roles.has_person:
        # Only the mapped columns: a file with one name column is keyed by that column alone.
        named = [
            (roles.person_name, "name"),
            (roles.given_name, "given"),
            (roles.family_name, "family"),
        ]
        mapped = [(column, keyword) for column, keyword in named if column]
        inputs = tuple(column for column, _keyword in mapped)
        transforms.append((inputs, partial(_keywords, _person, [k for _c, k in mapped])))
    if roles.organisation_name:
        if roles.city:
            transforms.append(((roles.organisation_name, roles.city), _organisation))
        else:
            transforms.append(((roles.organisation_name,), _organisation))
    if roles.city:
        inputs = (roles.city, roles.organisation_name) if roles.organisation_name else (roles.city,)
        transforms.append((inputs, _city))
    singles: list[tuple[str | None, str, Callable[[str], str]]] = [
        (roles.date, "date", partial(parse_date, date_order=date_order)),
        (roles.address, "address", address_key),
        (roles.postcode, "postcode", code_key),
        (roles.phone, "phone", phone_key),
        (roles.department, "department", plain_key),
        (roles.title, "title", _title),
        (roles.licence, "licence", code_key),
        (roles.gender, "gender", gender_key),
        *((column, f"exact_{i}", plain_key) for i, column in enumerate(roles.exact)),
        *((column, f"fuzzy_{i}", plain_key) for i, column in enumerate(roles.fuzzy)),
    ]
    for column, output, function in singles:
        if column:
            transforms.append(((column,), _single(output, function)))
    return transforms


def prepare_row(row: Mapping[str, object], roles: Roles, *, date_order: str) -> dict[str, str]:
    """The standardised columns of one input row ("" where a value is missing or unreadable)."""
    out: dict[str, str] = {UNIQUE_ID: _text(row.get(roles.record_id))}
    for inputs, function in transforms_for(roles, date_order=date_order):
        out.update(function(*(_text(row.get(c)) for c in inputs)))
    return out


def _input_columns(roles: Roles, transforms: list[Transform]) -> list[str]:
    wanted = [roles.record_id, *(c for inputs, _f in transforms for c in inputs)]
    return list(dict.fromkeys(wanted))


def _collect(rows: Iterable[Mapping[str, object]], columns: list[str]) -> dict[str, list[str]]:
    read = getattr(rows, "column_values", None)
    if read is not None:  # files.CsvRows: the cells, stripped, without a dict per row
        cells: dict[str, list[str]] = read(columns)
        return cells
    values: dict[str, list[str]] = {c: [] for c in columns}
    for row in rows:
        for column in columns:
            values[column].append(_text(row.get(column)))
    return values


def _check_ids(ids: pd.Series, roles: Roles, label: str) -> None:
    # Row 1 of a file is its header, so the n-th record is on row n + 1.
    missing = ids.index[ids == ""]
    if len(missing):
        raise ApplicationError(
            _("Row %(row)d of %(file)s has no record id (column “%(column)s”).")
            % {"row": int(missing[0]) + 2, "file": label, "column": roles.record_id},
            field="record_id",
            code="linkage_input",
        )
    repeated = ids.index[ids.duplicated()]
    if len(repeated):
        row = int(repeated[0])
        raise ApplicationError(
            _("Record id “%(id)s” appears twice in %(file)s (row %(row)d).")
            % {"id": ids.iloc[row], "file": label, "row": row + 2},
            field="record_id",
            code="linkage_input",
        )


def _distinct_keys(values: dict[str, list[str]], inputs: tuple[str, ...]) -> pd.Series:
    if len(inputs) == 1:
        return pd.Series(values[inputs[0]], dtype=object)
    return pd.Series(list(zip(*(values[c] for c in inputs), strict=True)), dtype=object)


def _apply(function: Callable[..., dict[str, str]], keys: list[Any]) -> list[dict[str, str]]:
    if keys and isinstance(keys[0], tuple):
        return [function(*key) for key in keys]
    return [function(key) for key in keys]


def _apply_distinct(
    function: Callable[..., dict[str, str]], keys: list[Any]
) -> list[dict[str, str]]:
    """``function`` of each distinct value, in worker processes when there are many: pinyin
    and hospital keys are pure Python, and a national file has hundreds of thousands."""
    workers = min(os.cpu_count() or 1, _WORKERS)
    if workers < 2 or len(keys) < _PARALLEL_FROM:
        return _apply(function, keys)
    chunk = -(-len(keys) // (workers * 4))
    parts = [keys[i : i + chunk] for i in range(0, len(keys), chunk)]
    # fork: the children inherit the loaded dictionaries (OpenCC, pypinyin) instead of
    # loading them again, and no state goes back but the results.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = pool.map(_apply, [function] * len(parts), parts)
        return [item for part in results for item in part]


def prepare_columns(
    rows: Iterable[Mapping[str, object]], roles: Roles, *, date_order: str, label: str
) -> dict[str, Any]:
    """Standardised records column by column ("" → None), record ids checked: present and
    unique within the file. Each distinct value (a name, a hospital in its city) is
    standardised once, however many rows repeat it."""
    transforms = transforms_for(roles, date_order=date_order)
    values = _collect(rows, _input_columns(roles, transforms))
    ids = pd.Series(values[roles.record_id], dtype=object)
    _check_ids(ids, roles, label)
    columns: dict[str, Any] = {UNIQUE_ID: ids.to_numpy()}
    for inputs, function in transforms:
        codes, distinct = pd.factorize(_distinct_keys(values, inputs))
        results = _apply_distinct(function, list(distinct))
        for output in results[0] if results else function(*[""] * len(inputs)):
            column = np.array([r[output] or None for r in results], dtype=object)
            columns[output] = column[codes] if len(codes) else column[:0]
    return columns
