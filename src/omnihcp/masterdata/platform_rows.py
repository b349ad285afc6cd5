"""A doctor platform's user list read row by row: its columns mapped to ``FIELDS`` (suggested
from Chinese and English headers), every row checked, personal identifiers hashed at once.

Used by ``platform_users`` (the import); a bad row is reported with its number, field and
reason, and the other rows go on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.importing.mapping import ImportField
from omnihcp.masterdata.standardise import phone_digits
from omnihcp.masterdata.validation import normalise_mobile

MAX_FILE_BYTES = 50 * 1024 * 1024
_BLIND_INDEX = re.compile(r"^[0-9a-f]{40}$")
_HEX = re.compile(r"^[0-9a-f]+$")
_FOLD = re.compile(r"[\s_\-./:：()（）]+")

# Our field, its label, whether required, and header synonyms (compared case- and
# punctuation-insensitively), most specific first.
_SPECS = (
    (
        "user_id",
        gettext_lazy("Platform user id"),
        True,
        "用户ID 用户编号 平台用户ID 会员ID 会员编号 医生ID userid uid memberid id",
    ),
    ("name", gettext_lazy("Name"), True, "姓名 医生姓名 名字 医生 name"),
    (
        "hospital",
        gettext_lazy("Hospital"),
        True,
        "医院 医院名称 所在医院 执业机构 工作单位 单位 机构 机构名称 hospital institution hco",
    ),
    ("department", gettext_lazy("Department"), False, "科室 所在科室 department dept"),
    ("title", gettext_lazy("Title"), False, "职称 技术职称 title"),
    ("province", gettext_lazy("Province"), False, "省份 省 所在省 province"),
    ("city", gettext_lazy("City"), False, "城市 市 所在城市 地市 city"),
    (
        "phone_hash",
        gettext_lazy("Mobile phone (hash)"),
        False,
        "手机号(哈希) 手机号哈希 手机哈希 手机号hash phonehash mobilehash 手机号 手机 手机号码 "
        "mobile phone",
    ),
    ("openid", gettext_lazy("WeChat openid"), False, "openid 微信openid"),
    ("unionid", gettext_lazy("WeChat unionid"), False, "unionid 微信unionid"),
)
FIELDS = tuple(
    ImportField(name, label, required, tuple(words.split()))
    for name, label, required, words in _SPECS
)
FIELD_NAMES = {spec.name: spec for spec in FIELDS}


# --- column mapping ----------------------------------------------------------------------------


def _fold(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).lower())


def suggest_mapping(*, columns: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """The platform's last mapping where its columns are in this file, else header synonyms."""
    present = {f: c for f, c in (saved or {}).items() if f in FIELD_NAMES and c in columns}
    if present:
        return present
    by_fold = {_fold(column): column for column in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in FIELDS:
        for synonym in (spec.name, *spec.synonyms):
            column = by_fold.get(_fold(synonym))
            if column is not None and column not in used:
                mapping[spec.name] = column
                used.add(column)
                break
    return mapping


def check_mapping(*, mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """The mapping without blanks; an error names the field whose column is missing."""
    cleaned = {name: column for name, column in mapping.items() if column}
    for name, column in cleaned.items():
        if name not in FIELD_NAMES:
            raise ApplicationError(
                _('"%(field)s" is not a field of a platform list.') % {"field": name}, field=name
            )
        if column not in columns:
            raise ApplicationError(
                _('The file has no column "%(column)s" (mapped to %(field)s).')
                % {"column": column, "field": FIELD_NAMES[name].label},
                field=name,
            )
    values = list(cleaned.values())
    doubled = sorted({c for c in values if values.count(c) > 1})
    if doubled:
        raise ApplicationError(
            _('The column "%(column)s" is mapped to more than one field.') % {"column": doubled[0]},
            field="mapping",
        )
    for spec in FIELDS:
        if spec.required and spec.name not in cleaned:
            raise ApplicationError(
                _("The file has no column for the required field %(field)s.")
                % {"field": spec.label},
                field=spec.name,
            )
    return cleaned


# --- rows ------------------------------------------------------------------------------------


@dataclass
class PlatformRow:
    number: int
    user_id: str
    name: str
    hospital: str
    department: str
    title: str
    province: str
    city: str
    phone_hash: str
    openid: str  # clear only in memory: stored as blind index and masked form
    unionid: str
    row_hash: str


@dataclass
class ReadRun:
    """What one import found, before anything is written."""

    rows: list[PlatformRow] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0


def mask_id(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}****{value[-4:]}"


def hashed_phone(raw: str) -> str:
    """A platform's phone value → our blind index: kept if it is one, made if it is a number."""
    text = raw.strip()
    if not text:
        return ""
    lowered = text.lower()
    if _BLIND_INDEX.match(lowered):
        return lowered
    if _HEX.match(lowered) and len(lowered) >= 32:
        raise ApplicationError(
            _(
                "This is not the OmniHCP phone hash (40 hexadecimal characters); "
                "ask the platform to hash the number with the key it was given."
            ),
            field="phone_hash",
        )
    digits = phone_digits(text)
    if not digits:
        raise ApplicationError(
            _("Neither a phone hash nor a mobile phone number."), field="phone_hash"
        )
    # A clear number is turned into its blind index at once; the number itself is not kept.
    return pi.blind_index(normalise_mobile(digits, field="phone_hash"))


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def row_hash(raw: dict[str, str]) -> str:
    # Keyed, not a bare SHA-256: the row may hold a phone number or an openid.
    return pi.blind_index(json.dumps(raw, sort_keys=True, ensure_ascii=False))


class RowReader:
    """Checks the rows of one file, collecting good rows and per-row reasons."""

    def __init__(self, columns: list[str], mapping: dict[str, str]) -> None:
        self.columns = columns
        self.mapping = mapping
        self.run = ReadRun()
        self.seen: dict[str, int] = {}

    def refuse(self, number: int, name: str, reason: str) -> None:
        column = self.mapping.get(name, "")
        self.run.rejected.append({"row": number, "field": name, "column": column, "reason": reason})

    def add(self, number: int, values: list[str]) -> None:
        if not any(value.strip() for value in values):
            return  # a blank line is not a user
        self.run.rows_read += 1
        width = len(self.columns)
        if len(values) < width or any(v.strip() for v in values[width:]):
            self.refuse(
                number,
                "",
                _("This row has %(found)s values; the header has %(width)s columns.")
                % {"found": len(values), "width": width},
            )
            return
        cells = dict(zip(self.columns, values, strict=False))
        raw = {name: cells.get(column, "").strip() for name, column in self.mapping.items()}
        errors = [
            (spec.name, _("%(field)s is empty.") % {"field": spec.label})
            for spec in FIELDS
            if spec.required and not raw.get(spec.name)
        ]
        user_id = raw.get("user_id", "")
        if len(user_id) > 128:
            errors.append(("user_id", _("A user id has at most 128 characters.")))
        elif user_id in self.seen:
            errors.append(
                (
                    "user_id",
                    _("The user id %(id)s is also in row %(row)s.")
                    % {"id": user_id, "row": self.seen[user_id]},
                )
            )
        name = _plain(raw.get("name", ""))
        if len(name) > 40:
            errors.append(("name", _("A name has at most 40 characters.")))
        phone_hash = ""
        try:
            phone_hash = hashed_phone(raw.get("phone_hash", ""))
        except ApplicationError as exc:
            errors.append(("phone_hash", exc.message))
        if errors:
            for name_, reason in errors:
                self.refuse(number, name_, reason)
            return
        self.seen[user_id] = number
        self.run.rows.append(
            PlatformRow(
                number=number,
                user_id=user_id,
                name=name,
                hospital=_plain(raw["hospital"])[:120],
                department=_plain(raw.get("department", ""))[:60],
                title=_plain(raw.get("title", ""))[:40],
                province=_plain(raw.get("province", "")),
                city=_plain(raw.get("city", "")),
                phone_hash=phone_hash,
                openid=raw.get("openid", ""),
                unionid=raw.get("unionid", ""),
                row_hash=row_hash(raw),
            )
        )
