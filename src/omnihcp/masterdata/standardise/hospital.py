"""Hospital-name normalisation for matching free-text names (distributor files, platforms).

"北医三院" and "北京大学第三医院", "浙江大学医学院附一院" and "浙江大学医学院附属第一医院",
"浙大一院", "杭州市1院" and "杭州市第一医院" get one ``key``; a campus ("之江院区", "西院分院")
is split off into ``campus`` so campuses of one hospital stay distinct entities, and a
department a distributor appends ("…医院药剂科") is dropped. The ``key`` also folds spellings
that name the same institution: 附属第一医院 / 第一附属医院, 中医医院 / 中医院, 妇保院 /
妇幼保健院, 街道社区卫生服务中心 / 社区卫生服务中心.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import cpca
from rapidfuzz.distance import Levenshtein

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
    "邵逸夫": "浙江大学医学院附属邵逸夫医院",
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

# Universities as people shorten them before a numbered hospital ("浙大一院", "郑大一附院").
UNIVERSITY_ABBREVIATIONS: dict[str, str] = {
    "首医": "首都医科大学",
    "中大": "中山大学",
    "南医大": "南京医科大学",
    "南医": "南方医科大学",
    "浙大": "浙江大学医学院",
    "武大": "武汉大学",
    "成医": "成都医学院",
    "西交大": "西安交通大学",
    "西交": "西安交通大学",
    "重医": "重庆医科大学",
    "中国医大": "中国医科大学",
    "郑大": "郑州大学",
    "山大": "山东大学",
    "天医大": "天津医科大学",
    "哈医大": "哈尔滨医科大学",
    "昆医": "昆明医科大学",
    "福医": "福建医科大学",
    "安医大": "安徽医科大学",
    "苏大": "苏州大学",
}
_ENDS = r"(?:医院|卫生院|中心|保健院|[一二三四五六七八九十\d]附?院|附院)"
_CAMPUS = re.compile(rf"^(?P<base>.+?{_ENDS})\(?(?P<campus>[^()]{{1,12}}(?:院区|分院))\)?$")
_CAMPUS_IN_BRACKETS = re.compile(r"^(?P<base>.+)\((?P<campus>[^()]{1,12}(?:院区|分院))\)$")
# Where a distributor delivers inside a hospital: "…医院药剂科(西药库)" is the hospital.
_PHARMACY_UNITS = "住院药房|门诊药房|药剂科|药学部|药库|药房"
_DEPARTMENT = re.compile(
    rf"^(?P<base>.+?(?:{_ENDS}|院区\)?|分院\)?))(?:{_PHARMACY_UNITS})(?:\(.*\))?$"
)
_UNIVERSITY = re.compile(
    "^("
    + "|".join(sorted(UNIVERSITY_ABBREVIATIONS, key=len, reverse=True))
    + ")(?=附?[一二三四五六七八九十]附?医?院$)"
)
_ARABIC_ORDINAL = re.compile(r"第?(\d{1,2})(?=(?:人民)?医院|附属医院)")
_ARABIC_SHORT = re.compile(r"第?(\d{1,2})(?=附?院$)")
_AFFILIATED_SHORT = re.compile(r"附([一二三四五六七八九十])院")
_AFFILIATED_ONLY = re.compile(r"附院$")
_BARE_ORDINAL = re.compile(r"(?<!医)第?([一二三四五六七八九十]{1,2})院$")
_FIRST_AFFILIATED = re.compile(r"([一二三四五六七八九十])附院$")
_ADMIN_SUFFIX = re.compile(r"(?<=[\u4e00-\u9fff]{2})[省市](?=[\u4e00-\u9fff])")
# Spellings of one institution that the key folds together (the name keeps what was written).
_KEY_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(大学|学院)附属"), r"\1"),
    (re.compile(r"第([一二三四五六七八九十]{1,2})附属医院"), r"第\1医院"),
    (
        re.compile(r"(?<![第一二三四五六七八九十])([一二三四五六七八九十]{1,2})(?=(?:人民)?医院)"),
        r"第\1",
    ),
    (re.compile("中医医院"), "中医院"),
    (re.compile("妇保院|妇幼保健医院"), "妇幼保健院"),
    (re.compile("街道社区卫生服务"), "社区卫生服务"),
    (re.compile("镇卫生院"), "卫生院"),
)


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
    key: str  # what matching compares: base without 省/市, one spelling per word (hospital_key)


def _expand(base: str) -> str:
    base = ALIASES.get(base, base)
    base = _ARABIC_ORDINAL.sub(lambda m: f"第{_chinese_number(int(m.group(1)))}", base)
    base = _ARABIC_SHORT.sub(lambda m: _chinese_number(int(m.group(1))), base)
    base = _UNIVERSITY.sub(lambda m: UNIVERSITY_ABBREVIATIONS[m.group(1)], base)
    base = _AFFILIATED_SHORT.sub(r"附属第\1医院", base)
    base = _FIRST_AFFILIATED.sub(r"第\1附属医院", base)
    base = _AFFILIATED_ONLY.sub("附属医院", base)
    base = _BARE_ORDINAL.sub(r"第\1医院", base)
    return ALIASES.get(base, base)


def hospital_key(base: str) -> str:
    """What matching compares: the base name without 省/市 and with one spelling per word."""
    key = _ADMIN_SUFFIX.sub("", base)
    for pattern, replacement in _KEY_FOLDS:
        key = pattern.sub(replacement, key)
    return key


def hospital_name(text: str) -> HospitalName:
    cleaned = clean_text(text)
    department = _DEPARTMENT.match(cleaned)
    if department:
        cleaned = department.group("base")
    match = _CAMPUS.match(cleaned) or _CAMPUS_IN_BRACKETS.match(cleaned)
    base, campus = (match.group("base"), match.group("campus")) if match else (cleaned, "")
    base = _expand(base.replace("(", "").replace(")", ""))
    key = hospital_key(base)
    name = base + campus
    return HospitalName(name=name, base=base, campus=campus, key=key)


_PLACE_SUFFIX = re.compile(r"(?:特别行政区|自治区|自治州|自治县|地区|省|市|盟|区|县|旗)$")
# A place at the start of these is part of the institution's own name (浙江大学 is not 中山大学).
_ACADEMIC = re.compile(r"大学|学院")
_NUMERALS = re.compile(r"[一二三四五六七八九十百零〇0-9]")
_BRANCH = re.compile(r"[（(]([^）)]+)[）)]")
_COUNTY = 2  # cpca's rank of a county or district (0 province, 1 city)
# Words an abbreviation drops: 市二医院 is 第二人民医院, 中大附二院 中山大学附属第二医院.
_FILLERS = re.compile(r"第|人民|街道|附属|镇|乡")
_MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}
# cpca's table lists these as cities; they are groupings, not places.
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@cache
def _place_names() -> frozenset[str]:
    """Every province, city and county of cpca's national table; provinces and cities also
    short (杭州市, 杭州). Counties only in full: short, they are often a town's or a street's
    name too (老城, 解放), and that is what tells a township health centre from the next."""
    names: set[str] = set()
    for info in cpca.ad_2_addr_dict.values():
        names.add(info.name)
        short = _PLACE_SUFFIX.sub("", info.name)
        if info.rank < _COUNTY and len(short) >= 2:
            names.add(short)
    return frozenset(names)


@cache
def _local_places() -> dict[str, tuple[str, ...]]:
    """By city (short name): its own names, its province's and its counties', longest first —
    the places a hospital of that city may start with, misspelt or not."""
    infos = list(cpca.ad_2_addr_dict.values())
    counties: dict[str, list[str]] = {}
    for info in infos:
        if info.rank == _COUNTY:
            counties.setdefault(info.adcode[:4], []).append(info.name)
            counties.setdefault(info.adcode[:2], []).append(info.name)
    names = {info.adcode: info.name for info in infos}
    local: dict[str, tuple[str, ...]] = {}
    for info in infos:
        if info.name in _PLACEHOLDERS:
            continue
        if info.rank == 1 or (info.rank == 0 and info.name in _MUNICIPALITIES):
            province = names.get(info.adcode[:2] + "0000", "")
            prefix = info.adcode[:2] if info.rank == 0 else info.adcode[:4]
            own = {info.name, _short(info.name), province, _short(province)}
            places = {n for n in (*own, *counties.get(prefix, ())) if len(n) >= 2}
            local[_short(info.name)] = tuple(sorted(places, key=len, reverse=True))
    return local


@cache
def _place_cities() -> dict[str, str]:
    """Place → the city it is or lies in, for places that name one city only (杭州, 柯桥区)."""
    cities: dict[str, set[str]] = {}
    for city, places in _local_places().items():
        for place in places:
            cities.setdefault(place, set()).add(city)
    return {place: next(iter(found)) for place, found in cities.items() if len(found) == 1}


def hospital_city(key: str, *, text: str = "") -> str:
    """The city a hospital key starts with, directly or by a county of that city (short
    name: 绍兴), or that a chain's branch names in brackets (海王星辰（兰州南关店）, in
    ``text``); "" when there is none, or the place is in several cities."""
    cities, places = _place_cities(), _place_names()
    for start in (key, *_BRANCH.findall(clean_text(text))):
        for length in range(min(len(start) - 1, 9), 1, -1):
            head = start[:length]
            if head in cities and not _ACADEMIC.search(start[length:]):
                return cities[head]
            if head in places:  # 朝阳区: in Beijing and in Changchun, so no city
                return ""
    return ""


def _short(place: str) -> str:
    return _PLACE_SUFFIX.sub("", place)


def _strip_place(
    core: str, places: frozenset[str], local: tuple[str, ...], *, first: bool
) -> str | None:
    for length in range(min(len(core) - 1, 9), 1, -1):  # the longest place first
        if core[:length] in places and not _ACADEMIC.search(core[length:]):
            return core[length:]
    # A place of the hospital's own city written with a typo (冬莞, 白云曲 for 白云区). A short
    # one only where the name begins: further in, 清波 is a street, not 宁波 misspelt.
    for place in local:
        if len(place) < 3 and not first:
            continue
        head, rest = core[: len(place)], core[len(place) :]
        if rest and Levenshtein.distance(head, place) <= 1 and not _ACADEMIC.search(rest):
            return rest
    return None


def hospital_core(key: str, *, city: str = "") -> str:
    """The part of a hospital key that tells one institution from its neighbours: the key
    without the places it starts with (of anywhere, or misspelt of ``city``) and the words
    abbreviations drop. 柯桥区康桥社区卫生服务中心 → 康桥社区卫生服务中心, so that it no longer
    looks like 柯桥区新村社区卫生服务中心 to a similarity score; 济南市第一人民医院 → 一医院."""
    places = _place_names()
    local = _local_places().get(_short(clean_text(city)), ())
    core = key
    for step in range(3):  # province, city, district at most
        stripped = _strip_place(core, places, local, first=step == 0)
        if stripped is None:
            break
        core = stripped
    town = _short(clean_text(city))
    if len(town) >= 2 and town in core[1:]:
        # A chain's branch names its city inside: 大参林（深圳南关路店） is 大参林（南关路店）.
        core = core[0] + core[1:].replace(town, "")
    return _FILLERS.sub("", core)


def hospital_numerals(key: str) -> str:
    """The numerals of a key (第三人民医院 → 三): one character apart, 第一 and 第三 differ."""
    return "".join(_NUMERALS.findall(key))
