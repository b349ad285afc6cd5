"""Hospital-name normalisation for matching free-text names (distributor files, platforms).

"北医三院" and "北京大学第三医院", "浙江大学医学院附一院" and "浙江大学医学院附属第一医院",
"杭州市1院" and "杭州市第一医院" get one ``key``; a campus ("之江院区", "西院分院") is split
off into ``campus`` so campuses of one hospital stay distinct entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from omnihcp.masterdata.standardise.text import clean_text

NUMERALS = "零一二三四五六七八九十"

# Well-known abbreviations (简称) → full registered names.
ALIASES: dict[str, str] = {
    "北医三院": "北京大学第三医院",
    "北医一院": "北京大学第一医院",
    "北大医院": "北京大学第一医院",
    "北大人民医院": "北京大学人民医院",
    "北京协和": "北京协和医院",
    "华西医院": "四川大学华西医院",
    "川大华西": "四川大学华西医院",
    "湘雅医院": "中南大学湘雅医院",
    "湘雅二医院": "中南大学湘雅二医院",
    "湘雅三医院": "中南大学湘雅三医院",
    "瑞金医院": "上海交通大学医学院附属瑞金医院",
    "仁济医院": "上海交通大学医学院附属仁济医院",
    "中山医院": "复旦大学附属中山医院",
    "华山医院": "复旦大学附属华山医院",
    "浙一": "浙江大学医学院附属第一医院",
    "浙一医院": "浙江大学医学院附属第一医院",
    "浙二": "浙江大学医学院附属第二医院",
    "浙二医院": "浙江大学医学院附属第二医院",
    "邵逸夫医院": "浙江大学医学院附属邵逸夫医院",
    "齐鲁医院": "山东大学齐鲁医院",
    "西京医院": "空军军医大学西京医院",
    "同济医院": "华中科技大学同济医学院附属同济医院",
    "中大一院": "中山大学附属第一医院",
    "中山一院": "中山大学附属第一医院",
    "郑大一附院": "郑州大学第一附属医院",
    "苏大附一院": "苏州大学附属第一医院",
    "南医大一附院": "南京医科大学第一附属医院",
    "江苏省人民医院": "南京医科大学第一附属医院",
    "安医大一附院": "安徽医科大学第一附属医院",
    "重医附一院": "重庆医科大学附属第一医院",
    "西交一附院": "西安交通大学第一附属医院",
    "哈医大一院": "哈尔滨医科大学附属第一医院",
    "中国医大一院": "中国医科大学附属第一医院",
}

_CAMPUS = re.compile(
    r"^(?P<base>.+?(?:医院|卫生院|中心|保健院))\(?(?P<campus>[^()]{1,12}(?:院区|分院))\)?$"
)
_ARABIC_ORDINAL = re.compile(r"第?(\d{1,2})(?=(?:人民)?医院|附属医院|院$)")
_AFFILIATED_SHORT = re.compile(r"附([一二三四五六七八九十])院")
_AFFILIATED_ONLY = re.compile(r"附院$")
_BARE_ORDINAL = re.compile(r"(?<!医)第?([一二三四五六七八九十]{1,2})院$")
_FIRST_AFFILIATED = re.compile(r"([一二三四五六七八九十])附院$")
_ADMIN_SUFFIX = re.compile(r"(?<=[\u4e00-\u9fff]{2})[省市](?=[\u4e00-\u9fff])")


def _chinese_number(n: int) -> str:
    if n <= 10:
        return NUMERALS[n]
    tens, ones = divmod(n, 10)
    return f"{NUMERALS[tens] if tens > 1 else ''}十{NUMERALS[ones] if ones else ''}"


@dataclass(frozen=True)
class HospitalName:
    name: str  # the full standard name, campus included
    base: str  # the institution without its campus
    campus: str  # "" when the name has none
    key: str  # what matching compares: base without admin suffixes (省/市)


def _expand(base: str) -> str:
    base = ALIASES.get(base, base)
    base = _ARABIC_ORDINAL.sub(lambda m: f"第{_chinese_number(int(m.group(1)))}", base)
    base = _AFFILIATED_SHORT.sub(r"附属第\1医院", base)
    base = _FIRST_AFFILIATED.sub(r"第\1附属医院", base)
    base = _AFFILIATED_ONLY.sub("附属医院", base)
    base = _BARE_ORDINAL.sub(r"第\1医院", base)
    return ALIASES.get(base, base)


def hospital_name(text: str) -> HospitalName:
    cleaned = clean_text(text)
    match = _CAMPUS.match(cleaned)
    base, campus = (match.group("base"), match.group("campus")) if match else (cleaned, "")
    base = _expand(base.replace("(", "").replace(")", ""))
    key = _ADMIN_SUFFIX.sub("", base)
    name = base + campus
    return HospitalName(name=name, base=base, campus=campus, key=key)
