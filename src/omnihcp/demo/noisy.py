"""Noisy multi-source test data with ground truth, for matching tests and benchmarks.

Independent of the database: an HCO master (``hco_master``) in the demo company's cities
(``demo.data``) with the demo generator's naming, widened so that 10,000+ distinct names
exist; distributor-style free-text names of those HCOs (``hospital_names``); and HCP source
records (``hcp_records``) in which each true doctor appears in 1–4 sources with the noise real
sources carry: homophone typos, traditional characters, missing fields, pinyin names in either
order, phone formats, hospital aliases and abbreviations, doctors who moved hospital, and
common-name collisions. Every row says what it truly is (``true_id``, ``true_hco_id``) and
which noise it got (``noise``). Same seed, same data; rows stream, so a million records never
sit in memory at once. OpenCC writes traditional characters, pypinyin the Latin names.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

from omnihcp.demo import data

DEFAULT_SEED = 20261123
DEFAULT_HCOS = 12_000
NUMERALS = "一二三四五六七八九十"
SOURCES = ("crm", "doctor_platform", "conference", "distributor")
HCP_COLUMNS = (
    "record_id",
    "source",
    "name",
    "gender",
    "hospital",
    "city",
    "province",
    "department",
    "title",
    "mobile",
    "licence_no",
    "true_id",
    "true_hco_id",
    "noise",
)
HOSPITAL_NOISE = (
    "abbreviation",
    "no_prefix",
    "arabic",
    "typo",
    "traditional",
    "fullwidth",
    "spaces",
    "suffix",
    "campus",
    "missing_city",
)
HCP_NOISE = (
    "name_typo",
    "name_traditional",
    "name_pinyin",
    "name_pinyin_swapped",
    "phone_format",
    "missing_phone",
    "missing_department",
    "missing_title",
    "missing_gender",
    "department_synonym",
    "moved",
    *(f"hospital_{kind}" for kind in HOSPITAL_NOISE if kind != "missing_city"),
)

# Universities whose hospitals are numbered, how people shorten them, and the numbering style.
UNIVERSITIES: dict[str, list[tuple[str, str, str]]] = {
    "北京市": [("首都医科大学", "首医", "附属第{n}医院")],
    "广州市": [("中山大学", "中大", "附属第{n}医院"), ("南方医科大学", "南医", "第{n}附属医院")],
    "杭州市": [("浙江大学医学院", "浙大", "附属第{n}医院")],
    "南京市": [("南京医科大学", "南医大", "第{n}附属医院")],
    "武汉市": [("武汉大学", "武大", "附属第{n}医院")],
    "成都市": [("成都医学院", "成医", "第{n}附属医院")],
    "西安市": [("西安交通大学", "西交大", "第{n}附属医院")],
    "重庆市": [("重庆医科大学", "重医", "附属第{n}医院")],
    "沈阳市": [("中国医科大学", "中国医大", "附属第{n}医院")],
    "郑州市": [("郑州大学", "郑大", "第{n}附属医院")],
    "济南市": [("山东大学", "山大", "第{n}医院")],
    "天津市": [("天津医科大学", "天医大", "第{n}附属医院")],
    "哈尔滨市": [("哈尔滨医科大学", "哈医大", "附属第{n}医院")],
    "昆明市": [("昆明医科大学", "昆医", "第{n}附属医院")],
    "福州市": [("福建医科大学", "福医", "附属第{n}医院")],
    "合肥市": [("安徽医科大学", "安医大", "第{n}附属医院")],
    "苏州市": [("苏州大学", "苏大", "附属第{n}医院")],
}
# Real hospitals known by their short names, and the short names people write.
FAMOUS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "北京市": [
        ("北京大学第一医院", ("北大医院", "北医一院")),
        ("北京大学第三医院", ("北医三院",)),
        ("北京大学人民医院", ("北大人民医院",)),
        ("北京协和医院", ("协和医院", "北京协和")),
    ],
    "上海市": [
        ("上海交通大学医学院附属瑞金医院", ("瑞金医院",)),
        ("上海交通大学医学院附属仁济医院", ("仁济医院",)),
        ("复旦大学附属中山医院", ("中山医院",)),
        ("复旦大学附属华山医院", ("华山医院",)),
    ],
    "成都市": [("四川大学华西医院", ("华西医院", "川大华西"))],
    "长沙市": [
        ("中南大学湘雅医院", ("湘雅医院",)),
        ("中南大学湘雅二医院", ("湘雅二医院",)),
        ("中南大学湘雅三医院", ("湘雅三医院",)),
    ],
    "杭州市": [("浙江大学医学院附属邵逸夫医院", ("邵逸夫医院", "邵逸夫"))],
    "济南市": [("山东大学齐鲁医院", ("齐鲁医院",))],
    "西安市": [("空军军医大学西京医院", ("西京医院",))],
    "武汉市": [("华中科技大学同济医学院附属同济医院", ("同济医院",))],
}
CITY_SPECIALTIES = (
    "中心医院",
    "中医院",
    "妇幼保健院",
    "儿童医院",
    "肿瘤医院",
    "传染病医院",
    "口腔医院",
    "眼科医院",
    "中西医结合医院",
    "精神卫生中心",
    "胸科医院",
    "康复医院",
)
DISTRICT_KINDS = ("人民医院", "中医医院", "妇幼保健院", "第{n}人民医院", "中西医结合医院")
_SUBDISTRICT_WORDS = (
    "翠苑 文新 北山 灵隐 西溪 古荡 湖滨 清波 小营 望江 南星 紫阳 长庆 朝晖 米市巷 湖墅 "
    "大关 和睦 祥符 康桥 半山 东新 石桥 笕桥 彭埠 九堡 四季青 闸弄口 凯旋 采荷 新塘 "
    "白杨 下沙 浦沿 长河 西兴 城厢 北干 蜀山 新街 宁围 南苑 东湖 临平 五常 仓前 良渚 "
    "瓶窑 塘栖 崇贤 星桥 乔司 运河 东城 西城 南城 北城 新华 光明 胜利 和平 建设 友谊 "
    "解放 人民 中山 文化 健康 长江 东风 青年 学府 滨江 花园 新村 龙山 凤凰 金桥 "
    "银河 东港 西关 南关 北关 城南 城北 江南 江北 河西 河东 桥东 桥西 新城 老城 "
    "府前 育才 青松 红旗 向阳 前进 幸福 永安"
)
SUBDISTRICTS = tuple(_SUBDISTRICT_WORDS.split())
CAMPUS_WORDS = ("东", "西", "南", "北", "城东", "城西", "滨江", "新城", "高新", "江南", "江北")
# Homophones an input method offers, and look-alikes: the typos people really make.
_HOMOPHONE_TEXT = (
    "医依衣 院园员 民明名 人仁 第弟地 中忠钟 心新 附付复 属术 学雪 大达 "
    "保宝 健建 妇付 幼优 卫为 生声 服福 务物 社设 区曲 州洲周 江疆 京经 "
    "安按 南男 东冬 西希 湖胡 华化 科可 儿而 童同 肿种 瘤流 药要 房方 "
    "诊珍 所锁 街接 道到 阳杨 宁凝 城成 汉汗 沙莎 广光 伟玮炜 芳方 娜纳 "
    "丽莉立 静晶婧 敏民 明铭 杰洁 军君 磊垒 洋阳 勇永 艳燕 涛滔 超潮 建健 "
    "国果 文雯 斌彬 红宏 玉钰 萍平 辉晖 鹏朋 飞菲 宇雨 浩皓 志智 晓小 "
    "燕艳 婷亭 梅玫 琳林 颖莹 佳嘉 欣馨 怡宜 晨辰 俊骏 峰锋 凯恺 春淳 "
    "兰蓝 亮良 新欣 云芸 瑞睿 琦琪 远源 涵晗 子梓 慧惠 秀绣 英瑛 张章 "
    "王汪 李黎 陈程 徐许 吴武 林琳"
)
HOMOPHONES = {word[0]: word[1:] for word in _HOMOPHONE_TEXT.split()}
DEPARTMENT_SUFFIXES = ("药剂科", "药库", "药剂科(西药库)", "门诊药房", "住院药房")
TITLES = (
    ("主任医师", ("主任医师", "主任", "教授", "Chief physician")),
    ("副主任医师", ("副主任医师", "副主任", "副教授")),
    ("主治医师", ("主治医师", "主治", "主治医生")),
    ("住院医师", ("住院医师", "住院医生", "医师")),
)
TITLE_WEIGHTS = (12, 22, 38, 28)
PHONE_FORMATS = (
    "{p}",
    "{a} {b} {c}",
    "{a}-{b}-{c}",
    "+86 {p}",
    "+86-{a}-{b}-{c}",
    "0086{p}",
    "0086 {a} {b} {c}",
    "(+86){p}",
    "86{p}",
)
# Per source: P(Latin name), P(traditional), P(name typo), P(no phone), P(no department),
# P(no title), P(phone written in another format), P(hospital noise), P(licence present).
PROFILES: dict[str, tuple[float, ...]] = {
    "crm": (0.0, 0.01, 0.02, 0.25, 0.05, 0.05, 0.10, 0.30, 0.70),
    "doctor_platform": (0.02, 0.08, 0.04, 0.50, 0.10, 0.15, 0.30, 0.60, 0.50),
    "conference": (0.30, 0.03, 0.05, 0.30, 0.40, 0.50, 0.70, 0.80, 0.05),
    "distributor": (0.05, 0.02, 0.07, 0.20, 0.30, 0.60, 0.60, 0.90, 0.0),
}
SURNAME_PINYIN = {"曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "仇": "qiu"}


@dataclass(frozen=True)
class MasterHco:
    """An HCO of the master the noisy names refer to (what ``hcos.csv`` holds)."""

    id: int
    name: str
    short_name: str
    hco_type: str  # hospital, community, clinic, pharmacy
    level: str
    province: str
    city: str
    district: str
    parent_id: int | None = None  # the main hospital of a campus
    # How people shorten this name (abbreviations, prefix-less forms); not master data.
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class HospitalNameRow:
    """One distributor-style free-text name and the HCO it truly is."""

    text: str
    city: str
    province: str
    true_hco_id: int
    noise: tuple[str, ...]


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _cities() -> list[tuple[str, str, list[str]]]:
    return [(p, c, ds) for _r, _n, areas in data.REGIONS for _a, _m, cs in areas for p, c, ds in cs]


def _short_city(city: str) -> str:
    for suffix in ("白族自治州", "自治州", "市"):
        if city.endswith(suffix) and len(city) > len(suffix) + 1:
            return city.removesuffix(suffix)
    return city


def _person_name(rng: random.Random) -> str:
    """A name with realistic surname frequencies, so 张伟 and 王芳 recur (as in the demo)."""
    if rng.random() < 0.03:
        return rng.choice(data.COMMON_FULL_NAMES)
    surname = rng.choices(data.SURNAMES, cum_weights=_SURNAME_CUM)[0]
    given = rng.choice(data.GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(data.GIVEN_CHARS)
    return surname + given


_SURNAME_CUM = [sum(data.SURNAME_WEIGHTS[: i + 1]) for i in range(len(data.SURNAME_WEIGHTS))]


class _Master:
    """Builds the HCO master: hospitals of every city and district first, then community
    centres, township health centres, clinics and pharmacies until ``n`` HCOs exist."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}-hcos")
        self.rows: list[MasterHco] = []
        self.names: set[str] = set()
        self.local: set[tuple[str, str]] = set()  # (city, the short form people use)

    def add(
        self,
        name: str,
        kind: tuple[str, str],
        place: tuple[str, str, str],
        forms: tuple[str, ...] = (),
        short_name: str = "",
        parent_id: int | None = None,
    ) -> int:
        if name in self.names:
            return 0
        self.names.add(name)
        province, city, district = place
        row = MasterHco(
            id=len(self.rows) + 1,
            name=name,
            short_name=short_name,
            hco_type=kind[0],
            level=kind[1],
            province=province,
            city=city,
            district=district,
            parent_id=parent_id,
            forms=forms,
        )
        self.rows.append(row)
        return row.id

    def city_hospitals(self, province: str, city: str, districts: list[str]) -> None:
        rng, cs, place = self.rng, _short_city(city), (province, city, "")
        big = len(districts) >= 4
        if province != city and province != "江苏省" and (province, "省") not in self.local:
            # The provincial people's hospital sits in the first city listed for the province.
            # (江苏省人民医院 is the registered alias of 南京医科大学第一附属医院.)
            self.local.add((province, "省"))
            self.add(f"{province}人民医院", ("hospital", "3A"), place)
        for univ, short, style in UNIVERSITIES.get(city, []):
            for n in range(1, rng.randint(2, 3) + 1):
                num = NUMERALS[n - 1]
                forms: tuple[str, ...] = (f"{short}{num}院", f"{univ}{num}院")
                if "附属" in style:
                    forms += (f"{short}附{num}院", f"{short}{num}附院", f"{univ}附{num}院")
                    forms += (f"{univ}{num}附院",)
                name = univ + style.format(n=num)
                self.campuses(self.add(name, ("hospital", "3A"), place, forms, forms[0]), 0.3)
        for name, forms in FAMOUS.get(city, []):
            self.campuses(self.add(name, ("hospital", "3A"), place, forms, forms[0]), 0.3)
        series = "第{n}人民医院" if rng.random() < 0.7 else "第{n}医院"
        for n in range(1, min(10, 2 + len(districts) + rng.randrange(3)) + 1):
            num = NUMERALS[n - 1]
            forms = (f"{cs}{num}院", f"市{num}院", f"{city}{num}医院")
            if series.endswith("人民医院"):
                forms += (f"{cs}市{num}医院", f"市{num}医院")
            hco_id = self.add(
                city + series.format(n=num), ("hospital", "3A" if n <= 3 else "3B"), place, forms
            )
            self.campuses(hco_id, 0.12 if n <= 3 else 0.0)
        specialties = rng.sample(CITY_SPECIALTIES, rng.randint(6, 12) if big else rng.randint(2, 6))
        for kind in specialties:
            forms = (f"{cs}妇保院", f"{city}妇保院") if kind == "妇幼保健院" else ()
            if kind == "中医院":
                forms = (f"{city}中医医院", f"{cs}市中医院")
            self.add(city + kind, ("hospital", "3B"), place, forms)

    def campuses(self, hco_id: int, share: float) -> None:
        if not hco_id or self.rng.random() >= share:
            return
        main = self.rows[hco_id - 1]
        districts = next(ds for _p, c, ds in _cities() if c == main.city)
        words = [*CAMPUS_WORDS, *(d.removesuffix("区") for d in districts if len(d) > 2)]
        for word in self.rng.sample(words, self.rng.randint(1, 2)):
            campus = word + ("院区" if self.rng.random() < 0.8 else "分院")
            forms = tuple(
                f"{base}{brackets[0]}{campus}{brackets[1]}"
                for base in (main.name, *main.forms[:3])
                for brackets in (("", ""), ("(", ")"))
            )
            self.add(
                f"{main.name}（{campus}）",
                ("hospital", main.level),
                (main.province, main.city, ""),
                forms,
                parent_id=main.id,
            )

    def district_hospitals(self, province: str, city: str, district: str) -> None:
        rng, cs = self.rng, _short_city(city)
        if district.endswith(("街道", "园区")):
            return
        for kind in rng.sample(DISTRICT_KINDS, rng.randint(1, 3)):
            kind = kind.format(n=NUMERALS[rng.randrange(3)])
            forms: tuple[str, ...] = (f"{district}{kind}", f"{cs}{district}{kind}")
            if district.endswith("区") and len(district) > 2:
                forms += (f"{district.removesuffix('区')}{kind}",)
            level = "2A" if rng.random() < 0.6 else "2B"
            self.add(
                f"{city}{district}{kind}", ("hospital", level), (province, city, district), forms
            )

    def other(self, province: str, city: str, district: str) -> None:
        rng, cs, place = self.rng, _short_city(city), (province, city, district)
        kind = rng.choices(("community", "township", "clinic", "pharmacy"), (38, 7, 22, 33))[0]
        if kind == "community":
            x = rng.choice(SUBDISTRICTS)
            if (city, x) in self.local:
                return
            self.local.add((city, x))
            forms: tuple[str, ...] = (
                f"{x}街道社区卫生服务中心",
                f"{x}社区卫生服务中心",
                f"{district}{x}社区卫生服务中心",
                f"{district}{x}街道社区卫生服务中心",
            )
            self.add(f"{city}{district}{x}街道社区卫生服务中心", ("community", ""), place, forms)
        elif kind == "township":
            x = rng.choice(SUBDISTRICTS)
            if (city, x + "镇") not in self.local:
                self.local.add((city, x + "镇"))
                forms = (f"{x}镇卫生院", f"{district}{x}镇卫生院", f"{x}卫生院")
                self.add(f"{city}{district}{x}镇卫生院", ("community", ""), place, forms)
        elif kind == "clinic":
            person = _person_name(rng)
            if (city, person) not in self.local:
                self.local.add((city, person))
                forms = (f"{district}{person}诊所", f"{person}诊所", f"{cs}{person}诊所")
                self.add(f"{city}{district}{person}诊所", ("clinic", ""), place, forms)
        else:
            chain = rng.choice(data.PHARMACY_CHAINS)
            x = rng.choice((*SUBDISTRICTS, *(s.removesuffix("路") for s in data.STREETS)))
            x += rng.choice(("", "", "路", "新村"))
            # 老百姓大药房 → 老百姓, 国大药房 → 国大
            short = chain.removesuffix("大药房")
            short = short if len(short) >= 2 else chain.removesuffix("药房")
            forms = (f"{chain}{cs}{x}店", f"{chain}({x}店)", f"{short}{x}店", f"{chain}{x}店")
            self.add(f"{chain}（{cs}{x}店）", ("pharmacy", ""), place, forms)


def hco_master(n: int = DEFAULT_HCOS, *, seed: int = DEFAULT_SEED) -> list[MasterHco]:
    """``n`` HCOs with distinct names: every city's hospitals, then primary care and pharmacies."""
    master = _Master(seed)
    cities = _cities()
    for province, city, districts in cities:
        master.city_hospitals(province, city, districts)
    for province, city, districts in cities:
        for district in districts:
            master.district_hospitals(province, city, district)
    slots = [(p, c, d) for p, c, ds in cities for d in ds]
    for _attempt in range(n * 20):
        if len(master.rows) >= n:
            break
        master.other(*master.rng.choice(slots))
    return master.rows[:n]


# ---------------------------------------------------------------- noise
_ORDINAL = re.compile(r"第([一二三四五六七八九十])|([一二三四五六七八九十])(?=附?医?院)")
_FULL_WIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


def _arabic(rng: random.Random, text: str) -> str:
    def digit(m: re.Match[str]) -> str:
        value = str(NUMERALS.index(m.group(1) or m.group(2)) + 1)
        return (rng.choice(("第", "")) if m.group(1) else "") + value

    return _ORDINAL.sub(digit, text)


def _typo(rng: random.Random, text: str) -> str:
    spots = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + rng.choice(HOMOPHONES[text[i]]) + text[i + 1 :]


def _without_prefix(rng: random.Random, text: str, hco: MasterHco) -> str:
    """The name without its place: 杭州市第一人民医院 → 杭州第一人民医院 or 第一人民医院."""
    if text.startswith(hco.city):
        rest = text[len(hco.city) :]
        return rng.choice((_short_city(hco.city) + rest, rest, rest)) if len(rest) > 3 else text
    if text.startswith(hco.province) and hco.province != hco.city:
        return hco.province.removesuffix("省") + text[len(hco.province) :]
    return text


def hospital_text(
    rng: random.Random, hco: MasterHco, *, p_noise: float = 0.9
) -> tuple[str, list[str]]:
    """How a source writes ``hco``'s name, and the noise it got."""
    noise = ["campus"] if hco.parent_id else []
    text = hco.name
    if rng.random() >= p_noise:
        return text, noise
    pick = rng.random()
    if hco.forms and pick < 0.4:
        text = rng.choice(hco.forms)
        noise.append("abbreviation")
    elif pick < 0.75:
        shorter = _without_prefix(rng, text, hco)
        if shorter != text:
            text = shorter
            noise.append("no_prefix")
    if rng.random() < 0.2:
        numbered = _arabic(rng, text)
        if numbered != text:
            text = numbered
            noise.append("arabic")
    if rng.random() < 0.15:
        misspelt = _typo(rng, text)
        if misspelt != text:
            text = misspelt
            noise.append("typo")
    if rng.random() < 0.06:
        text = _to_traditional().convert(text)
        noise.append("traditional")
    if rng.random() < 0.08:
        wide = text.translate(_FULL_WIDTH)
        text = wide if wide != text else text[:2] + "\u3000" + text[2:]
        noise.append("fullwidth")
    if rng.random() < 0.1:
        i = rng.randrange(1, len(text))
        text = rng.choice(("", " ")) + text[:i] + rng.choice((" ", "  ")) + text[i:] + " "
        noise.append("spaces")
    if hco.hco_type == "hospital" and rng.random() < 0.06:
        text += rng.choice(("", "-", " ")) + rng.choice(DEPARTMENT_SUFFIXES)
        noise.append("suffix")
    return text, noise


def _needs_city(text: str, hco: MasterHco) -> bool:
    """Whether a name is ambiguous without its city (so no honest source would drop both)."""
    if _short_city(hco.city) in text or hco.province.removesuffix("省") in text:
        return False
    return hco.hco_type != "hospital" or hco.city in hco.name


def _weighted(hcos: list[MasterHco], weights: dict[str, float]) -> list[float]:
    cum, total = [], 0.0
    for hco in hcos:
        total += weights.get(hco.hco_type, 0.0)
        cum.append(total)
    return cum


def hospital_names(
    n: int, *, hcos: list[MasterHco], seed: int = DEFAULT_SEED
) -> Iterator[HospitalNameRow]:
    """``n`` distributor-style names (customers in flow data); about half are hospitals."""
    rng = random.Random(f"{seed}-hospital-names")
    cum = _weighted(hcos, {"hospital": 6.0, "community": 1.0, "clinic": 0.5, "pharmacy": 1.0})
    for _ in range(n):
        hco = rng.choices(hcos, cum_weights=cum)[0]
        text, noise = hospital_text(rng, hco)
        city = hco.city
        if rng.random() < 0.15 and not _needs_city(text, hco):
            city = ""
            noise.append("missing_city")
        yield HospitalNameRow(text, city, hco.province if city else "", hco.id, tuple(noise))


# ---------------------------------------------------------------- HCP source records
@cache
def _pinyin(char: str) -> str:
    return SURNAME_PINYIN.get(char) or lazy_pinyin(char)[0]


def _latin_name(rng: random.Random, name: str) -> tuple[str, bool]:
    """ "张秀英" as "Zhang Xiuying", "ZHANG Xiuying", "Xiuying Zhang", "zhang xiuying"…"""
    surname, given = _pinyin(name[0]), "".join(_pinyin(c) for c in name[1:])
    style = rng.randrange(6)
    if style == 0:
        return f"{surname.upper()} {given.capitalize()}", False
    if style == 1:
        return f"{given.capitalize()} {surname.capitalize()}", True
    if style == 2:
        return f"{given.capitalize()} {surname.upper()}", True
    if style == 3:
        return f"{surname} {given}", False
    if style == 4:
        return f"{surname.upper()} {given.upper()}", False
    return f"{surname.capitalize()} {given.capitalize()}", False


def _phone(rng: random.Random, mobile: str) -> str:
    return rng.choice(PHONE_FORMATS).format(p=mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:])


@dataclass
class _Doctor:
    true_id: str
    name: str
    gender: str
    hco: MasterHco
    department: tuple[str, str, str, list[str], str]
    title: int
    mobile: str
    licence: str


class _Sources:
    """Doctors and the records each source holds of them."""

    def __init__(self, seed: int, hcos: list[MasterHco]) -> None:
        self.rng = random.Random(f"{seed}-hcp-records")
        self.hcos = [h for h in hcos if h.hco_type in {"hospital", "community", "clinic"}]
        weights = {"hospital": 12.0, "community": 3.0, "clinic": 1.0}
        self.cum = _weighted(self.hcos, weights)
        self.by_city: dict[str, list[MasterHco]] = {}
        for hco in self.hcos:
            if hco.hco_type == "hospital":
                self.by_city.setdefault(hco.city, []).append(hco)
        self.counters = dict.fromkeys(SOURCES, 0)
        self.hospital_departments = data.DEPARTMENTS
        self.primary = [d for d in data.DEPARTMENTS if d[0] in {"D10", "D20", "D12"}]

    def doctor(self, n: int) -> _Doctor:
        rng = self.rng
        hco = rng.choices(self.hcos, cum_weights=self.cum)[0]
        pool = self.hospital_departments if hco.hco_type == "hospital" else self.primary
        department = pool[0] if rng.random() < 0.3 else rng.choice(pool)
        mobile = ""
        if rng.random() < 0.85:
            mobile = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        licence = (
            f"1{rng.randrange(10, 66)}{rng.randrange(10**12):012d}" if rng.random() < 0.85 else ""
        )
        return _Doctor(
            true_id=f"T{n:07d}",
            name=_person_name(rng),
            gender=rng.choice("男女"),
            hco=hco,
            department=department,
            title=rng.choices(range(len(TITLES)), TITLE_WEIGHTS)[0],
            mobile=mobile,
            licence=licence,
        )

    def records(self, doctor: _Doctor, count: int) -> Iterator[tuple[str, ...]]:
        rng = self.rng
        sources = sorted(rng.sample(range(len(SOURCES)), count))
        moved_from = rng.randrange(1, count) if count > 1 and rng.random() < 0.08 else count
        hco = doctor.hco
        for position, index in enumerate(sources):
            source = SOURCES[index]
            noise: list[str] = []
            if position == moved_from:
                others = [h for h in self.by_city.get(hco.city, []) if h.id != hco.id]
                hco = rng.choice(others) if others else hco
            if position >= moved_from and hco is not doctor.hco:
                noise.append("moved")
            yield self.record(source, doctor, hco, noise)

    def record(
        self, source: str, doctor: _Doctor, hco: MasterHco, noise: list[str]
    ) -> tuple[str, ...]:
        rng = self.rng
        latin, trad, typo, no_phone, no_dept, no_title, fmt, p_hosp, has_licence = PROFILES[source]
        self.counters[source] += 1
        record_id = f"{source[:3].upper()}{self.counters[source]:08d}"
        name = doctor.name
        if rng.random() < typo:
            misspelt = _typo(rng, name)
            if misspelt != name:
                name = misspelt
                noise.append("name_typo")
        if rng.random() < latin:
            name, swapped = _latin_name(rng, name)
            noise.append("name_pinyin")
            if swapped:
                noise.append("name_pinyin_swapped")
        elif rng.random() < trad:
            name = _to_traditional().convert(name)
            noise.append("name_traditional")
        gender = doctor.gender
        if source == "conference":
            gender = "M" if gender == "男" else "F"
        if rng.random() < 0.05:
            gender = ""
            noise.append("missing_gender")
        hospital, hospital_noise = hospital_text(rng, hco, p_noise=p_hosp)
        noise.extend(f"hospital_{kind}" for kind in hospital_noise)
        city = hco.city if rng.random() > 0.1 or _needs_city(hospital, hco) else ""
        _code, department, _en, synonyms, _ta = doctor.department
        if rng.random() < no_dept:
            department = ""
            noise.append("missing_department")
        elif synonyms and rng.random() < 0.25:
            department = rng.choice(synonyms)
            noise.append("department_synonym")
        title = rng.choice(TITLES[doctor.title][1])
        if rng.random() < no_title:
            title = ""
            noise.append("missing_title")
        mobile = doctor.mobile
        if mobile and rng.random() < no_phone:
            mobile = ""
            noise.append("missing_phone")
        elif mobile and rng.random() < fmt:
            mobile = _phone(rng, mobile)
            noise.append("phone_format")
        licence = doctor.licence if rng.random() < has_licence else ""
        return (
            record_id,
            source,
            name,
            gender,
            hospital,
            city,
            hco.province if city else "",
            department,
            title,
            mobile,
            licence,
            doctor.true_id,
            str(hco.id),
            "|".join(noise),
        )


_MOBILE_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "158",
    "159",
    "182",
    "187",
    "188",
    "130",
    "131",
    "155",
    "186",
    "133",
    "153",
    "180",
    "189",
    "199",
)
SOURCE_COUNT_WEIGHTS = (35, 30, 22, 13)  # a doctor is in 1, 2, 3 or 4 sources
CHUNK = 20_000


def hcp_records(
    n: int, *, hcos: list[MasterHco], seed: int = DEFAULT_SEED
) -> Iterator[tuple[str, ...]]:
    """``n`` source records (columns ``HCP_COLUMNS``), shuffled within chunks of 20,000 so a
    doctor's records are not neighbours, yet memory stays bounded."""
    sources = _Sources(seed, hcos)
    chunk: list[tuple[str, ...]] = []
    made = doctors = 0
    while made < n:
        doctors += 1
        count = sources.rng.choices((1, 2, 3, 4), SOURCE_COUNT_WEIGHTS)[0]
        for record in sources.records(sources.doctor(doctors), min(count, n - made)):
            chunk.append(record)
            made += 1
        if len(chunk) >= CHUNK or made >= n:
            sources.rng.shuffle(chunk)
            yield from chunk
            chunk = []


HCO_COLUMNS = (
    "id",
    "code",
    "name",
    "short_name",
    "hco_type",
    "level",
    "province",
    "city",
    "district",
    "parent_id",
)
HOSPITAL_NAME_COLUMNS = ("name", "city", "province", "true_hco_id", "noise")


def write_csv(
    out: Path,
    *,
    hcp_count: int,
    hospital_count: int,
    hco_count: int = DEFAULT_HCOS,
    seed: int = DEFAULT_SEED,
) -> dict[str, int]:
    """Write ``hcos.csv``, ``hospital_names.csv`` and ``hcp_records.csv`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    hcos = hco_master(hco_count, seed=seed)
    with (out / "hcos.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HCO_COLUMNS)
        writer.writerows(
            (
                h.id,
                f"HCO{h.id:08d}",
                h.name,
                h.short_name,
                h.hco_type,
                h.level,
                h.province,
                h.city,
                h.district,
                h.parent_id or "",
            )
            for h in hcos
        )
    with (out / "hospital_names.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HOSPITAL_NAME_COLUMNS)
        writer.writerows(
            (r.text, r.city, r.province, r.true_hco_id, "|".join(r.noise))
            for r in hospital_names(hospital_count, hcos=hcos, seed=seed)
        )
    with (out / "hcp_records.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HCP_COLUMNS)
        writer.writerows(hcp_records(hcp_count, hcos=hcos, seed=seed))
    return {"hcos": len(hcos), "hospital_names": hospital_count, "hcp_records": hcp_count}
