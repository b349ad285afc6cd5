"""Noisy multi-source test data: deterministic, every noise kind present, truth consistent."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command

from omnihcp.demo import noisy
from omnihcp.masterdata.standardise import phone_digits
from omnihcp.masterdata.textkeys import pinyin_key

SEED = 7
COLUMN = {name: i for i, name in enumerate(noisy.HCP_COLUMNS)}


@pytest.fixture(scope="module")
def master() -> list[noisy.MasterHco]:
    return noisy.hco_master(12_000, seed=SEED)


@pytest.fixture(scope="module")
def records(master: list[noisy.MasterHco]) -> list[tuple[str, ...]]:
    return list(noisy.hcp_records(20_000, hcos=master, seed=SEED))


def field(record: tuple[str, ...], name: str) -> str:
    return record[COLUMN[name]]


def noise_of(record: tuple[str, ...]) -> set[str]:
    return set(filter(None, field(record, "noise").split("|")))


def test_master_has_over_ten_thousand_distinct_hcos_in_every_city(
    master: list[noisy.MasterHco],
) -> None:
    assert len(master) == 12_000
    assert len({h.name for h in master}) == 12_000
    assert [h.id for h in master] == list(range(1, 12_001))
    assert Counter(h.hco_type for h in master).keys() == {
        "hospital",
        "community",
        "clinic",
        "pharmacy",
    }
    assert len({h.city for h in master}) == 81
    names = {h.name for h in master}
    assert {"北京大学第三医院", "四川大学华西医院", "浙江大学医学院附属第一医院"} <= names
    campuses = [h for h in master if h.parent_id]
    assert campuses
    for campus in campuses:
        main = master[campus.parent_id - 1]  # type: ignore[operator]
        assert campus.name.startswith(main.name + "（")
        assert campus.name.endswith(("院区）", "分院）"))


def test_same_seed_gives_the_same_data_and_another_seed_does_not(
    master: list[noisy.MasterHco], records: list[tuple[str, ...]]
) -> None:
    assert noisy.hco_master(12_000, seed=SEED) == master
    assert list(noisy.hcp_records(20_000, hcos=master, seed=SEED)) == records
    assert list(noisy.hcp_records(2_000, hcos=master, seed=SEED + 1)) != records[:2_000]
    names = list(noisy.hospital_names(500, hcos=master, seed=SEED))
    assert list(noisy.hospital_names(500, hcos=master, seed=SEED)) == names


def test_every_noise_kind_occurs(
    master: list[noisy.MasterHco], records: list[tuple[str, ...]]
) -> None:
    seen = set().union(*(noise_of(r) for r in records))
    assert set(noisy.HCP_NOISE) <= seen
    hospital_noise = {k for row in noisy.hospital_names(5_000, hcos=master) for k in row.noise}
    assert set(noisy.HOSPITAL_NOISE) <= hospital_noise
    assert {field(r, "source") for r in records} == set(noisy.SOURCES)


def test_each_true_doctor_is_one_to_four_records_from_distinct_sources(
    master: list[noisy.MasterHco], records: list[tuple[str, ...]]
) -> None:
    by_doctor: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for record in records:
        by_doctor[field(record, "true_id")].append(record)
    assert len({field(r, "record_id") for r in records}) == len(records)
    sizes = Counter(len(rs) for rs in by_doctor.values())
    assert set(sizes) == {1, 2, 3, 4}
    hco_ids = {h.id for h in master}
    for doctor in by_doctor.values():
        assert len({field(r, "source") for r in doctor}) == len(doctor)
        assert {int(field(r, "true_hco_id")) for r in doctor} <= hco_ids
        clean = {field(r, "name") for r in doctor if not noise_of(r) & _NAME_NOISE}
        assert len(clean) <= 1  # one true name, whatever the sources did to it
        stayed = {field(r, "true_hco_id") for r in doctor if "moved" not in noise_of(r)}
        moved = {field(r, "true_hco_id") for r in doctor if "moved" in noise_of(r)}
        assert len(stayed) <= 1
        assert not moved & stayed


_NAME_NOISE = {"name_typo", "name_traditional", "name_pinyin"}


def test_records_without_hospital_noise_carry_the_master_name(
    master: list[noisy.MasterHco], records: list[tuple[str, ...]]
) -> None:
    checked = 0
    for record in records:
        if not any(k.startswith("hospital_") and k != "hospital_campus" for k in noise_of(record)):
            assert field(record, "hospital") == master[int(field(record, "true_hco_id")) - 1].name
            checked += 1
    assert checked > 2_000


def test_latin_names_are_the_pinyin_of_the_true_name_in_either_order(
    records: list[tuple[str, ...]],
) -> None:
    clean: dict[str, str] = {}
    for record in records:
        if not noise_of(record) & _NAME_NOISE:
            clean[field(record, "true_id")] = field(record, "name")
    swapped = 0
    for record in records:
        kinds = noise_of(record)
        truth = clean.get(field(record, "true_id"))
        if "name_pinyin" not in kinds or "name_typo" in kinds or truth is None:
            continue
        words = field(record, "name").lower().split()
        # 曾 reads zeng as a surname (pypinyin alone says ceng).
        surname = "zeng" if truth[0] == "曾" else pinyin_key(truth[0])
        given = "".join(pinyin_key(char) for char in truth[1:])
        if "name_pinyin_swapped" in kinds:
            assert words == [given, surname]
            swapped += 1
        else:
            assert words == [surname, given]
    assert swapped > 50


def test_phones_in_other_formats_hold_the_same_mobile(records: list[tuple[str, ...]]) -> None:
    plain: dict[str, str] = {}
    for record in records:
        mobile = field(record, "mobile")
        if mobile and "phone_format" not in noise_of(record):
            plain[field(record, "true_id")] = mobile
    compared = 0
    for record in records:
        if "phone_format" in noise_of(record) and field(record, "true_id") in plain:
            assert phone_digits(field(record, "mobile")) == plain[field(record, "true_id")]
            compared += 1
    assert compared > 500


def test_common_names_belong_to_many_different_doctors(records: list[tuple[str, ...]]) -> None:
    doctors_by_name: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if not noise_of(record) & _NAME_NOISE:
            doctors_by_name[field(record, "name")].add(field(record, "true_id"))
    assert len(doctors_by_name["张伟"]) >= 10
    assert len(doctors_by_name["王芳"]) >= 10
    surnames = Counter(name[0] for name, ids in doctors_by_name.items() for _ in ids)
    assert {s for s, _n in surnames.most_common(5)} & {"王", "李", "张"}


def test_missing_city_only_where_the_name_still_says_where(
    master: list[noisy.MasterHco],
) -> None:
    rows = [r for r in noisy.hospital_names(5_000, hcos=master) if "missing_city" in r.noise]
    assert rows
    for row in rows:
        assert row.city == row.province == ""
        assert not noisy._needs_city(row.text, master[row.true_hco_id - 1])


def test_demo_noisy_command_writes_the_three_files(tmp_path: Path) -> None:
    call_command(
        "demo_noisy",
        "--hcp-records",
        "600",
        "--hospital-names",
        "300",
        "--hcos",
        "2000",
        "--out",
        str(tmp_path),
        "--seed",
        "3",
    )

    def read(name: str) -> list[dict[str, str]]:
        with (tmp_path / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    hcos, names, hcps = read("hcos.csv"), read("hospital_names.csv"), read("hcp_records.csv")
    assert (len(hcos), len(names), len(hcps)) == (2_000, 300, 600)
    assert tuple(hcps[0]) == noisy.HCP_COLUMNS
    ids = {row["id"] for row in hcos}
    assert {row["true_hco_id"] for row in names} <= ids
    assert {row["true_hco_id"] for row in hcps} <= ids
    first = next(noisy.hcp_records(600, hcos=noisy.hco_master(2_000, seed=3), seed=3))
    assert tuple(hcps[0].values()) == first
