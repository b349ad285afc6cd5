"""Free-text hospital names → master HCOs (what a distributor file or a source writes)."""

from __future__ import annotations

import pytest

from omnihcp.demo import noisy
from omnihcp.masterdata.hco_lookup import CONFIDENT, HcoRow, HospitalIndex

ROWS = [
    HcoRow(1, "北京大学第三医院", "", "北京市", "北京市"),
    HcoRow(2, "浙江大学医学院附属第一医院", "浙大一院", "浙江省", "杭州市"),
    HcoRow(3, "浙江大学医学院附属第一医院（之江院区）", "", "浙江省", "杭州市"),
    HcoRow(4, "杭州市第一人民医院", "", "浙江省", "杭州市"),
    HcoRow(5, "杭州市第二人民医院", "", "浙江省", "杭州市"),
    HcoRow(6, "宁波市第一人民医院", "", "浙江省", "宁波市"),
    HcoRow(7, "郑州大学第一附属医院", "", "河南省", "郑州市"),
    HcoRow(8, "杭州市西湖区翠苑街道社区卫生服务中心", "", "浙江省", "杭州市"),
    HcoRow(9, "杭州市第十一人民医院", "", "浙江省", "杭州市"),
    HcoRow(10, "老百姓大药房（杭州解放路店）", "", "浙江省", "杭州市"),
    HcoRow(11, "杭州市中医院", "", "浙江省", "杭州市"),
    HcoRow(12, "杭州市中心医院", "", "浙江省", "杭州市"),
]


@pytest.fixture(scope="module")
def index() -> HospitalIndex:
    return HospitalIndex.from_rows(ROWS)


def best(index: HospitalIndex, text: str, **where: str) -> tuple[int, float, str]:
    found = index.lookup(text, **where)
    assert found, f"nothing found for {text!r}"
    return found[0].hco_id, found[0].score, found[0].reason


@pytest.mark.parametrize(
    ("text", "hco_id"),
    [
        ("北医三院", 1),
        ("浙大一院", 2),
        ("浙江大学医学院附一院", 2),
        ("浙大附1院", 2),
        ("郑大一附院", 7),
        ("郑州大学一附院", 7),
        ("郑州大学附属第一医院", 7),
    ],
)
def test_abbreviations_and_affiliated_forms_find_the_registered_hospital(
    index: HospitalIndex, text: str, hco_id: int
) -> None:
    assert best(index, text)[:2] == (hco_id, 1.0)


def test_a_campus_is_found_as_itself_and_never_as_its_main_hospital(
    index: HospitalIndex,
) -> None:
    assert best(index, "浙大一院(之江院区)")[:2] == (3, 1.0)
    assert best(index, "浙江大学医学院附属第一医院之江院区")[:2] == (3, 1.0)
    assert best(index, "浙江大学医学院附属第一医院")[:2] == (2, 1.0)
    assert [c.hco_id for c in index.lookup("浙江大学医学院附属第一医院滨江院区")][:2] == [2, 3]
    assert index.lookup("浙江大学医学院附属第一医院滨江院区")[0].score < CONFIDENT


def test_the_city_decides_which_first_people_s_hospital_is_meant(index: HospitalIndex) -> None:
    assert best(index, "第一人民医院", city="杭州市") == (4, 1.0, "exact name in city")
    assert best(index, "第一人民医院", city="宁波市") == (6, 1.0, "exact name in city")
    assert best(index, "市一院", city="杭州市")[:2] == (4, 1.0)
    assert best(index, "杭州一院")[:2] == (4, 1.0)  # the city read off the name
    unsure = index.lookup("第一人民医院")
    assert {c.hco_id for c in unsure} == {4, 6}
    assert all(c.score < CONFIDENT for c in unsure)


def test_traditional_full_width_and_spaced_names_are_found(index: HospitalIndex) -> None:
    assert best(index, "杭州市第一人民醫院")[:2] == (4, 1.0)
    assert best(index, "杭州市第１人民医院")[:2] == (4, 1.0)
    assert best(index, " 杭州市  第二人民医院 ")[:2] == (5, 1.0)
    assert best(index, "浙江大學醫學院附屬第一醫院（之江院區）")[:2] == (3, 1.0)


def test_a_typo_is_matched_within_the_city_but_not_confidently_exact(
    index: HospitalIndex,
) -> None:
    hco_id, score, reason = best(index, "杭州市第一人明医院", city="杭州市")
    assert hco_id == 4
    assert CONFIDENT <= score < 1.0
    assert reason == "similar name in city"


def test_numbering_outweighs_similar_spelling(index: HospitalIndex) -> None:
    assert best(index, "杭州市第十一人民医院")[0] == 9
    found = index.lookup("杭州市第十一人明医院", city="杭州市")
    assert found[0].hco_id == 9


def test_names_missing_their_district_or_chain_find_the_hco(index: HospitalIndex) -> None:
    assert best(index, "翠苑社区卫生服务中心", city="杭州市")[0] == 8
    assert best(index, "老百姓大药房解放路店", city="杭州市")[:2] == (10, 1.0)
    assert best(index, "杭州市第二人民医院药剂科")[:2] == (5, 1.0)


def test_an_unknown_name_gets_no_confident_match(index: HospitalIndex) -> None:
    for text in ("上海市肺科医院", "协和医科肿瘤研究所", "宁波大学附属人民医院"):
        assert all(c.score < CONFIDENT for c in index.lookup(text))
    assert index.lookup("") == []
    assert index.lookup("！！！") == []


def test_rows_may_be_plain_tuples() -> None:
    index = HospitalIndex.from_rows([(5, "杭州市第一人民医院", "", "浙江省", "杭州市")])
    assert len(index) == 1
    assert best(index, "杭州一院")[:2] == (5, 1.0)


def test_most_generated_distributor_names_find_their_hco() -> None:
    master = noisy.hco_master(3_000, seed=11)
    index = HospitalIndex.from_rows(
        HcoRow(h.id, h.name, h.short_name, h.province, h.city) for h in master
    )
    rows = list(noisy.hospital_names(1_000, hcos=master, seed=11))
    hits = 0
    for row in rows:
        found = index.lookup(row.text, city=row.city or None, province=row.province or None)
        hits += bool(found) and found[0].hco_id == row.true_hco_id
    assert hits / len(rows) >= 0.9
