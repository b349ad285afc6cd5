"""Addresses → province / city / district with cpca (a Chinese address parser shipping the
national administrative-division table), after the common text clean-up."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cpca

from omnihcp.masterdata.standardise.text import clean_text

_MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}


@dataclass(frozen=True)
class Address:
    province: str
    city: str
    district: str
    street: str
    adcode: str


@lru_cache(maxsize=50_000)
def parse_address(text: str) -> Address:
    cleaned = clean_text(text)
    if not cleaned:
        return Address("", "", "", "", "")
    row = cpca.transform([cleaned]).iloc[0]

    def field(name: str) -> str:
        value = row.get(name)
        return str(value) if isinstance(value, str) else ""

    province, city = field("省"), field("市")
    # cpca names the city of a municipality "市辖区"; our master data repeats the province.
    if province in _MUNICIPALITIES and city in {"市辖区", ""}:
        city = province
    return Address(province, city, field("区"), field("地址"), field("adcode"))
