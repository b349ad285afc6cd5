"""``omnihcp mdm dedupe`` / ``mdm link``: the general record-linkage engine on files we do not
own — a Latin-script people file, a Chinese doctors file, free-text hospital names against an
HCO master — built here deterministically with known truth, typos and format changes."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import random
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import opencc
import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from omnihcp.masterdata.matching import LinkageConfig, dedupe, link, parse_config, read_table
from omnihcp.masterdata.matching.blocking import sampled_rule
from omnihcp.masterdata.matching.prepare import (
    city_key,
    gender_key,
    name_keys,
    parse_date,
    prepare_columns,
    prepare_row,
)

SEED = 7

# --- a people file (not pharma): given name, surname, date of birth, address, postcode --------

GIVEN = (  # noqa: SIM905  (a word list reads best as one string)
    "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie Henry "
    "Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas "
    "Mohammed Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary Riley "
    "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Evie Sophia Grace Jessica "
    "Sophie Ruby Charlotte Daisy Alice Matilda Chloe Florence Phoebe Scarlett Freya Layla Ivy "
    "Evelyn Erin Elsie Harriet Rosie Lucy Imogen Esme Maya Hannah Holly Eleanor Martha Willow "
    "Nancy"
).split()
SURNAMES = (  # noqa: SIM905  (a word list reads best as one string)
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips "
    "Mason Mitchell Rose Davis Rodriguez Cox Alexander Morgan Moore Martin Price Hughes "
    "Turner Baker Harris Cooper Hill Ward Morris King Watson Edwards Bennett Gray Parker Bell "
    "Cook Collins Murphy Bailey Richardson Carter Fletcher Shaw Marshall Holmes Palmer Ellis "
    "Fisher Butler Mills Graham Dixon Knight Foster Hunt Pearson Reid Lloyd Barnes"
).split()
STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
    "Victoria Street",
    "Green Lane",
    "Manor Road",
    "Kings Road",
    "Queen Street",
    "Orchard Drive",
    "Market Square",
)
TOWNS = (
    ("Leeds", "LS"),
    ("York", "YO"),
    ("Bath", "BA"),
    ("Derby", "DE"),
    ("Exeter", "EX"),
    ("Norwich", "NR"),
    ("Oxford", "OX"),
    ("Truro", "TR"),
)
MONTHS = "January February March April May June July August September October November December"


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(text))  # the first letter survives: people rarely mistype it
    kind = rng.choice(("substitute", "delete", "insert", "transpose"))
    if kind == "substitute":
        return text[:i] + rng.choice("aeiounrst") + text[i + 1 :]
    if kind == "delete":
        return text[:i] + text[i + 1 :]
    if kind == "insert":
        return text[:i] + rng.choice("aeiounrst") + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :] if i < len(text) else text


def _date_text(date: dt.date, rng: random.Random) -> str:
    style = rng.choice(("dmy", "long", "compact", "slashed_iso"))
    if style == "dmy":
        return f"{date.day:02d}/{date.month:02d}/{date.year}"
    if style == "long":
        return f"{date.day} {MONTHS.split()[date.month - 1]} {date.year}"
    if style == "compact":
        return date.strftime("%Y%m%d")
    return date.strftime("%Y/%m/%d")


def people_file(
    *, people: int = 1200, seed: int = SEED
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """Rows and, for each row id, the person it is. Households share surname and address."""
    rng = random.Random(seed)
    persons: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    while len(persons) < people:
        if persons and rng.random() < 0.15:
            # A relative: same surname, address and postcode; another given name and birthday.
            household = rng.choice(persons)
            surname, address, postcode = (
                household["surname"],
                household["address"],
                household["postcode"],
            )
        else:
            town, area = rng.choice(TOWNS)
            surname = rng.choice(SURNAMES)
            address = f"{rng.randint(1, 240)} {rng.choice(STREETS)}, {town}"
            unit = "".join(rng.choices("ABDEFGHJLNPQRSTUWXYZ", k=2))
            postcode = f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{unit}"
        given = rng.choice(GIVEN)
        born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(70 * 365))
        if (given, surname, born.isoformat()) in seen:
            continue
        seen.add((given, surname, born.isoformat()))
        persons.append(
            {
                "given_name": given,
                "surname": surname,
                "date_of_birth": born.isoformat(),
                "address": address,
                "postcode": postcode,
            }
        )
    rows: list[dict[str, str]] = []
    truth: dict[str, int] = {}
    for number, person in enumerate(persons):
        copies = 1 + (rng.random() < 0.25) + (rng.random() < 0.05)
        for copy in range(copies):
            row = dict(person)
            if copy:
                _vary_person(row, rng)
            row_id = f"P{len(rows) + 1:05d}"
            rows.append({"person_id": row_id, **row})
            truth[row_id] = number
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [rows[i] for i in order], truth


def _vary_person(row: dict[str, str], rng: random.Random) -> None:
    changes = rng.sample(
        ["given_typo", "surname_typo", "swap", "date", "address", "postcode", "missing"],
        k=rng.randint(1, 3),
    )
    born = dt.date.fromisoformat(row["date_of_birth"])
    if "given_typo" in changes:
        row["given_name"] = _typo(row["given_name"], rng)
    if "surname_typo" in changes:
        row["surname"] = _typo(row["surname"], rng)
    if "swap" in changes:
        row["given_name"], row["surname"] = row["surname"].upper(), row["given_name"].upper()
    if "date" in changes:
        row["date_of_birth"] = _date_text(born, rng)
    if "address" in changes:
        row["address"] = (
            row["address"].replace("Street", "St").replace("Road", "Rd").replace("Avenue", "Ave")
        ).lower()
    if "postcode" in changes:
        row["postcode"] = row["postcode"].replace(" ", "").lower()
    if "missing" in changes:
        row[rng.choice(["address", "postcode", "date_of_birth"])] = ""


def pairwise_quality(
    clusters: Iterable[tuple[str, str]], truth: dict[str, int]
) -> tuple[float, float]:
    """Precision and recall of the record pairs put in one cluster, against the known truth."""
    members: dict[str, list[str]] = defaultdict(list)
    for record_id, cluster_id in clusters:
        members[cluster_id].append(record_id)
    found = {frozenset(pair) for ids in members.values() for pair in itertools.combinations(ids, 2)}
    by_person: dict[int, list[str]] = defaultdict(list)
    for record_id, person in truth.items():
        by_person[person].append(record_id)
    true = {
        frozenset(pair) for ids in by_person.values() for pair in itertools.combinations(ids, 2)
    }
    right = len(found & true)
    return right / max(len(found), 1), right / max(len(true), 1)


PEOPLE_CONFIG = parse_config(
    {
        "record_id": "person_id",
        "given_name": "given_name",
        "family_name": "surname",
        "date": "date_of_birth",
        "address": "address",
        "postcode": "postcode",
    }
)


def test_people_file_duplicates_are_found_despite_typos_swaps_and_date_formats():
    rows, truth = people_file()
    assert 1400 <= len(rows) <= 1700

    result = dedupe(rows, PEOPLE_CONFIG)

    clusters = list(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert sorted(r for r, _ in clusters) == sorted(truth)
    precision, recall = pairwise_quality(clusters, truth)
    assert precision >= 0.97, precision
    assert recall >= 0.97, recall
    assert list(result.pairs.columns) == ["left_id", "right_id", "match_probability"]
    assert result.pairs["match_probability"].between(0, 1).all()


def test_training_twice_gives_the_same_model_whatever_the_row_order():
    rows, _truth = people_file(people=1000, seed=17)  # > 400k pairs: u is sampled

    first, second = dedupe(rows, PEOPLE_CONFIG), dedupe(list(reversed(rows)), PEOPLE_CONFIG)

    assert len(first.pairs) > 200
    assert first.pairs.to_dict("records") == second.pairs.to_dict("records")
    assert first.model.splink_settings["comparisons"] == second.model.splink_settings["comparisons"]


def test_relatives_sharing_a_surname_and_address_stay_apart():
    rows, truth = people_file(people=600, seed=11)
    result = dedupe(rows, PEOPLE_CONFIG)
    person_of_cluster: dict[str, set[int]] = defaultdict(set)
    for record_id, cluster_id in zip(
        result.clusters["record_id"], result.clusters["cluster_id"], strict=True
    ):
        person_of_cluster[cluster_id].add(truth[record_id])
    merged = [people for people in person_of_cluster.values() if len(people) > 1]
    assert len(merged) <= 3, merged


# --- a Chinese doctors file ----------------------------------------------------------------

HOSPITALS = (
    ("北京大学第三医院", "北医三院", "北京"),
    ("北京协和医院", "北京协和", "北京"),
    ("四川大学华西医院", "华西医院", "成都"),
    ("中南大学湘雅医院", "湘雅医院", "长沙"),
    ("复旦大学附属中山医院", "中山医院", "上海"),
    ("上海市第十人民医院", "上海市第10人民医院", "上海"),
    ("浙江大学医学院附属第一医院", "浙一医院", "杭州"),
    ("杭州市第一医院", "杭州市1院", "杭州"),
    ("山东大学齐鲁医院", "齐鲁医院", "济南"),
    ("中山大学附属第一医院", "中山一院", "广州"),
    ("空军军医大学西京医院", "西京医院", "西安"),
    ("华中科技大学同济医学院附属同济医院", "同济医院", "武汉"),
)
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平刚桂兰玉红文辉志鹏晓东海燕雪梅宇浩"
DEPARTMENTS = ("心内科", "消化内科", "呼吸内科", "内分泌科", "肿瘤科", "神经内科", "肾内科")
TITLES = ("主任医师", "副主任医师", "主治医师", "住院医师")
_TO_TRADITIONAL = opencc.OpenCC("s2t")


def _pinyin_written(name: str, rng: random.Random) -> str:
    keys = name_keys(name)
    syllables = keys["name_py"]
    family = name_keys(name[0])["name_py"]
    given = syllables[len(family) :]
    style = rng.choice(("family_first", "upper", "given_first"))
    if style == "family_first":
        return f"{family.title()} {given.title()}"
    if style == "upper":
        return f"{family.upper()} {given.title()}"
    return f"{given.title()} {family.title()}"


def _phone_written(phone: str, rng: random.Random) -> str:
    return rng.choice(
        (
            f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            f"(0086){phone}",
            phone,
        )
    )


def doctors_file(
    *, doctors: int = 400, seed: int = SEED
) -> tuple[list[dict[str, str]], dict[str, int]]:
    rng = random.Random(seed)
    base: list[dict[str, str]] = []
    taken: set[tuple[str, str]] = set()
    while len(base) < doctors:
        name = rng.choice(FAMILY) + "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))
        hospital = rng.choice(HOSPITALS)
        if (name, hospital[0]) in taken:
            continue
        taken.add((name, hospital[0]))
        base.append(
            {
                "姓名": name,
                "医院": hospital[0],
                "城市": hospital[2],
                "科室": rng.choice(DEPARTMENTS),
                "职称": rng.choice(TITLES),
                "手机": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            }
        )
    rows: list[dict[str, str]] = []
    truth: dict[str, int] = {}
    for number, doctor in enumerate(base):
        for copy in range(1 + (rng.random() < 0.35)):
            row = dict(doctor)
            if copy:
                hospital = next(h for h in HOSPITALS if h[0] == doctor["医院"])
                row["姓名"] = rng.choice(
                    (_TO_TRADITIONAL.convert(doctor["姓名"]), _pinyin_written(doctor["姓名"], rng))
                )
                row["医院"] = rng.choice((hospital[1], _TO_TRADITIONAL.convert(hospital[0])))
                row["手机"] = rng.choice((_phone_written(doctor["手机"], rng), ""))
                row["职称"] = row["职称"].replace("医师", "")
                row["城市"] = doctor["城市"] + "市"
            row_id = f"D{len(rows) + 1:04d}"
            rows.append({"医生编码": row_id, **row})
            truth[row_id] = number
    rng.shuffle(rows)
    return rows, truth


DOCTORS_TOML = """
record_id = "医生编码"
person_name = "姓名"
organisation_name = "医院"
city = "城市"
department = "科室"
title = "职称"
phone = "手机"
"""


def _toml_config(text: str) -> LinkageConfig:
    return parse_config(tomllib.loads(text))


def test_chinese_doctors_written_in_traditional_pinyin_and_abbreviations_cluster_together():
    rows, truth = doctors_file()

    result = dedupe(rows, _toml_config(DOCTORS_TOML))

    clusters = list(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    precision, recall = pairwise_quality(clusters, truth)
    assert precision >= 0.97, precision
    assert recall >= 0.97, recall


def test_one_doctor_at_beiyisan_and_peking_university_third_hospital_is_one_cluster():
    doctor = {"城市": "北京", "科室": "心内科", "职称": "主任医师"}
    rows, _truth = doctors_file(doctors=300, seed=13)
    rows += [
        {
            **doctor,
            "医生编码": "a",
            "姓名": "张晓东",
            "医院": "北京大学第三医院",
            "手机": "13812345678",
        },
        {
            **doctor,
            "医生编码": "b",
            "姓名": "張曉東",
            "医院": "北医三院",
            "手机": "+86 138-1234-5678",
        },
        {**doctor, "医生编码": "c", "姓名": "Zhang Xiaodong", "医院": "北醫三院", "手机": ""},
        {**doctor, "医生编码": "e", "姓名": "Xiaodong ZHANG", "医院": "北医三院", "手机": ""},
        {
            **doctor,
            "医生编码": "d",
            "姓名": "张晓东",
            "医院": "四川大学华西医院",
            "手机": "13900001111",
        },
    ]

    result = dedupe(rows, _toml_config(DOCTORS_TOML))

    cluster = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cluster["a"] == cluster["b"] == cluster["c"] == cluster["e"]
    assert cluster["d"] != cluster["a"]  # the same name at another hospital is someone else


# --- free-text hospital names against an HCO master ---------------------------------------

CITIES = ("北京", "上海", "杭州", "广州", "成都", "武汉", "西安", "南京")


def hco_master() -> list[dict[str, str]]:
    rows = [{"hco_code": f"H{i:03d}", "name": h[0], "city": h[2]} for i, h in enumerate(HOSPITALS)]
    for city in CITIES:
        for kind in [f"第{n}人民医院" for n in "一二三四五"] + [
            "中医医院",
            "妇幼保健院",
            "儿童医院",
        ]:
            rows.append({"hco_code": f"H{len(rows):03d}", "name": f"{city}市{kind}", "city": city})
    return rows


def free_text_hospitals(master: list[dict[str, str]], seed: int = SEED) -> list[dict[str, str]]:
    """Distributor-style customer names, each with the master record it means."""
    rng = random.Random(seed)
    aliases = {h[0]: h[1] for h in HOSPITALS}
    numerals = {c: str(n) for n, c in enumerate("一二三四五", start=1)}
    rows = []
    for number, hco in enumerate(master):
        name, city = hco["name"], hco["city"]
        variants = [_TO_TRADITIONAL.convert(name), name.replace(f"{city}市", city)]
        if name in aliases:
            variants.append(aliases[name])
        ordinal = name[len(city) + 2 : len(city) + 3]
        if "人民医院" in name and ordinal in numerals:
            variants.append(name.replace(f"第{ordinal}", numerals[ordinal]))
            variants.append(name.replace(f"{city}市", ""))  # the city only in its own column
        variants.append(name + rng.choice(("(总院)", "药剂科", "")))
        rows.append(
            {
                "customer_no": f"C{number:03d}",
                "customer_name": rng.choice(variants),
                "customer_city": city + rng.choice(("", "市")),
                "expected": hco["hco_code"],
            }
        )
    return rows


LINK_TOML = """
record_id = "customer_no"
organisation_name = "customer_name"
city = "customer_city"

[right]
record_id = "hco_code"
organisation_name = "name"
city = "city"

[thresholds]
floor = 0.01
"""


def test_free_text_hospital_names_link_to_the_right_hco():
    master = hco_master()
    left = free_text_hospitals(master)

    pairs = link(left, master, _toml_config(LINK_TOML)).pairs

    best = pairs.drop_duplicates("left_id").set_index("left_id")["right_id"].to_dict()
    correct = sum(best.get(row["customer_no"]) == row["expected"] for row in left)
    assert correct / len(left) >= 0.9, (correct, len(left))
    assert set(pairs.columns) == {"left_id", "right_id", "match_probability"}
    assert set(pairs["left_id"]) <= {row["customer_no"] for row in left}
    assert set(pairs["right_id"]) <= {row["hco_code"] for row in master}


TOWNS_ONLY = [town for town, _area in TOWNS]


def test_latin_hospital_names_link_to_the_right_master_record():
    kinds = (
        "{town} General Hospital",
        "{town} Royal Infirmary",
        "St Mary's Hospital {town}",
        "{town} Children's Hospital",
        "University Hospital of {town}",
    )
    master = [
        {"code": f"M{i:02d}", "name": kind.format(town=town), "town": town}
        for i, (town, kind) in enumerate(itertools.product(TOWNS_ONLY, kinds))
    ]
    written = {
        "{town} General Hospital": "{town} Gen. Hospital",
        "{town} Royal Infirmary": "{TOWN} ROYAL INFIRMAY",
        "St Mary's Hospital {town}": "Saint Marys Hosp {town}",
        "{town} Children's Hospital": "Childrens Hospital",
        "University Hospital of {town}": "the university hospital, {town}",
    }
    left = [
        {
            "id": f"L{i:02d}",
            "customer": written[kind].format(town=town, TOWN=town.upper()),
            "town": town,
            "expected": f"M{i:02d}",
        }
        for i, (town, kind) in enumerate(itertools.product(TOWNS_ONLY, kinds))
    ]
    config = parse_config(
        {
            "record_id": "id",
            "organisation_name": "customer",
            "city": "town",
            "right": {"record_id": "code", "organisation_name": "name", "city": "town"},
        }
    )

    pairs = link(left, master, config).pairs

    best = pairs.drop_duplicates("left_id").set_index("left_id")["right_id"].to_dict()
    correct = sum(best.get(row["id"]) == row["expected"] for row in left)
    assert correct / len(left) >= 0.9, (correct, len(left))


# --- the command line ---------------------------------------------------------------------


def _write_csv(path: Path, rows: list[dict[str, str]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_dedupe_command_reads_a_gbk_file_and_writes_clusters_and_pairs(tmp_path, capsys):
    rows, truth = doctors_file(doctors=150, seed=3)
    source = tmp_path / "doctors.csv"
    _write_csv(source, rows, "gbk")
    config = tmp_path / "doctors.toml"
    config.write_text(DOCTORS_TOML, encoding="utf-8")
    table = read_table(source)
    assert table.encoding == "gb18030"
    assert next(iter(table.rows))["姓名"] == rows[0]["姓名"]

    with translation.override("zh-hans"):
        call_command("mdm", "dedupe", str(source), "--config", str(config), "--out", str(tmp_path))

    clusters = _read_csv(tmp_path / "clusters.csv")
    pairs = _read_csv(tmp_path / "pairs.csv")
    assert clusters[0] == ["record_id", "cluster_id"]
    assert pairs[0] == ["left_id", "right_id", "match_probability"]
    assert sorted(r for r, _ in clusters[1:]) == sorted(truth)
    precision, recall = pairwise_quality([(r, c) for r, c in clusters[1:]], truth)
    assert precision >= 0.9
    assert recall >= 0.9
    out = capsys.readouterr().out
    # The command speaks the active language; here a Chinese user's.
    assert f"{len(rows)} 条记录" in out
    assert "聚类" in out


def test_link_command_reads_an_excel_master_and_writes_best_pairs_first(tmp_path):
    master = hco_master()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["hco_code", "name", "city"])
    for row in master:
        sheet.append([row["hco_code"], row["name"], row["city"]])
    workbook.save(tmp_path / "master.xlsx")
    left = free_text_hospitals(master, seed=5)
    _write_csv(tmp_path / "customers.csv", left, "utf-8-sig")
    (tmp_path / "link.toml").write_text(LINK_TOML, encoding="utf-8")

    call_command(
        "mdm",
        "link",
        str(tmp_path / "customers.csv"),
        str(tmp_path / "master.xlsx"),
        "--config",
        str(tmp_path / "link.toml"),
        "--out",
        str(tmp_path / "pairs.csv"),
    )

    pairs = _read_csv(tmp_path / "pairs.csv")
    assert pairs[0] == ["left_id", "right_id", "match_probability"]
    best: dict[str, str] = {}
    for left_id, right_id, _probability in pairs[1:]:
        best.setdefault(left_id, right_id)
    correct = sum(best.get(row["customer_no"]) == row["expected"] for row in left)
    assert correct / len(left) >= 0.9


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('record_id = "person_id"\nsurname = "surname"\n', "surname"),
        ('record_id = "person_id"\nfamily_name = "last_name"\n', "last_name"),
        ('given_name = "given_name"\n', "record_id"),
        ('record_id = "person_id"\n[thresholds]\ncluster = 1.5\n', "thresholds.cluster"),
        ('record_id = "person_id"\nexact = "postcode"\n', "exact"),
    ],
)
def test_a_bad_config_is_refused_naming_what_to_fix(tmp_path, toml, named):
    rows, _truth = people_file(people=20)
    _write_csv(tmp_path / "people.csv", rows, "utf-8")
    (tmp_path / "bad.toml").write_text(toml, encoding="utf-8")

    with pytest.raises(CommandError, match=f"“{named}”"):
        call_command(
            "mdm",
            "dedupe",
            str(tmp_path / "people.csv"),
            "--config",
            str(tmp_path / "bad.toml"),
            "--out",
            str(tmp_path / "out"),
        )
    assert not (tmp_path / "out" / "clusters.csv").exists()


def test_a_saved_model_reloaded_gives_the_same_pairs(tmp_path):
    rows, _truth = people_file(people=500, seed=5)
    _write_csv(tmp_path / "people.csv", rows, "utf-8")
    config = tmp_path / "people.toml"
    config.write_text(
        'record_id = "person_id"\ngiven_name = "given_name"\nfamily_name = "surname"\n'
        'date = "date_of_birth"\naddress = "address"\npostcode = "postcode"\n',
        encoding="utf-8",
    )
    model = tmp_path / "model.json"
    common = [str(tmp_path / "people.csv"), "--config", str(config)]

    call_command("mdm", "dedupe", *common, "--out", str(tmp_path / "a"), "--save-model", str(model))
    call_command("mdm", "dedupe", *common, "--out", str(tmp_path / "b"), "--model", str(model))

    header = json.loads(model.read_text(encoding="utf-8"))["omnihcp_linkage_model"]
    assert header["version"] == 1
    assert len(header["config_digest"]) == 16
    first = _read_csv(tmp_path / "a" / "pairs.csv")
    assert len(first) > 50
    assert _read_csv(tmp_path / "b" / "pairs.csv") == first
    assert _read_csv(tmp_path / "b" / "clusters.csv") == _read_csv(tmp_path / "a" / "clusters.csv")


def test_a_model_trained_on_other_roles_is_refused(tmp_path):
    rows, _truth = people_file(people=200, seed=5)
    _write_csv(tmp_path / "people.csv", rows, "utf-8")
    full = tmp_path / "full.toml"
    full.write_text(
        'record_id = "person_id"\ngiven_name = "given_name"\nfamily_name = "surname"\n'
        'date = "date_of_birth"\n',
        encoding="utf-8",
    )
    fewer = tmp_path / "fewer.toml"
    fewer.write_text(
        'record_id = "person_id"\ngiven_name = "given_name"\nfamily_name = "surname"\n',
        encoding="utf-8",
    )
    model = tmp_path / "model.json"
    source = str(tmp_path / "people.csv")
    call_command(
        "mdm",
        "dedupe",
        source,
        "--config",
        str(full),
        "--out",
        str(tmp_path),
        "--save-model",
        str(model),
    )

    with translation.override("en"), pytest.raises(CommandError, match="different linkage config"):
        call_command(
            "mdm",
            "dedupe",
            source,
            "--config",
            str(fewer),
            "--out",
            str(tmp_path),
            "--model",
            str(model),
        )


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("1980-03-05", "1980-03-05"),
        ("05/03/1980", "1980-03-05"),
        ("5 March 1980", "1980-03-05"),
        ("March 5, 1980", "1980-03-05"),
        ("19800305", "1980-03-05"),
        ("1980年3月5日", "1980-03-05"),
        ("1980/3/5", "1980-03-05"),
        ("25/12/79", "1979-12-25"),
        ("31/02/1980", ""),
        ("not a date", ""),
        ("", ""),
    ],
)
def test_dates_written_many_ways_read_as_iso(written, iso):
    assert parse_date(written) == iso


def test_month_first_dates_read_as_the_config_says():
    assert parse_date("03/05/1980", date_order="mdy") == "1980-03-05"
    assert parse_date("03/05/1980", date_order="dmy") == "1980-05-03"
    assert parse_date("25/12/1980", date_order="mdy") == "1980-12-25"  # no 25th month


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("张伟", "張偉"),
        ("张伟", "Zhang Wei"),
        ("张伟", "Wei ZHANG"),
        ("黄芳静", "Fangjing Huang"),
        ("John Smith", "SMITH John"),
        ("José Müller", "Jose Muller"),
        ("O'Brien Sean", "Sean OBrien"),
    ],
)
def test_one_name_written_two_ways_meets_on_a_key(one, other):
    first, second = name_keys(one), name_keys(other)
    assert first["name_py"] in {second["name_py"], second["name_alt"]}


@pytest.mark.parametrize(
    ("one", "other"),
    [("杭州市", "杭州"), ("西安", "Xi'an"), ("北京市", "Beijing"), ("Leeds", "LEEDS ")],
)
def test_a_city_written_two_ways_is_one_city(one, other):
    assert city_key(one) == city_key(other)


# --- national scale: neighbouring institutions, genders, files without a city ---------------

NEIGHBOURS_TOML = """
record_id = "id"
person_name = "name"
organisation_name = "hospital"
city = "city"
department = "department"
gender = "gender"
"""


def _doctor(record_id: str, name: str, hospital: str, **values: str) -> dict[str, str]:
    return {
        "id": record_id,
        "name": name,
        "hospital": hospital,
        "city": values.get("city", ""),
        "department": values.get("department", "全科医学科"),
        "gender": values.get("gender", ""),
    }


def test_namesakes_at_neighbouring_health_centres_stay_apart_and_misspellings_meet():
    rows, _truth = doctors_file(doctors=300, seed=21)
    rows = [
        _doctor(r["医生编码"], r["姓名"], r["医院"], city=r["城市"], department=r["科室"])
        for r in rows
    ]
    rows += [
        # One doctor: the city in its own column or in the name, 区 misspelt 曲, 街道 dropped.
        _doctor("a1", "杨帆", "宁波市海曙区湖墅街道社区卫生服务中心", gender="男"),
        _doctor("a2", "杨帆", "海曙曲湖墅社区卫生服务中心", city="宁波", gender="M"),
        _doctor("a3", "Yang Fan", "湖墅街道社区卫生服务中心", city="宁波市", gender="male"),
        # Another 杨帆 at the next health centre of the same district.
        _doctor("b1", "杨帆", "宁波市海曙区清波街道社区卫生服务中心", gender="男"),
        _doctor("b2", "杨帆", "海曙区清波社区卫生服务中心", city="宁波", gender="男"),
        # The same name at the city's No. 1 and No. 3 hospitals: two doctors.
        _doctor("c1", "王磊", "宁波市第一医院", department="心内科", gender="女"),
        _doctor("c2", "王磊", "市一院", city="宁波", department="心内科", gender="F"),
        _doctor("d1", "王磊", "宁波市第三医院", department="心内科", gender="女"),
    ]

    result = dedupe(rows, _toml_config(NEIGHBOURS_TOML))

    cluster = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cluster["a1"] == cluster["a2"] == cluster["a3"]
    assert cluster["b1"] == cluster["b2"] != cluster["a1"]
    assert cluster["c1"] == cluster["c2"] != cluster["d1"]


@pytest.mark.parametrize(
    ("written", "key"),
    [("男", "m"), ("M", "m"), ("male", "m"), ("先生", "m"), ("女", "f"), ("F", "f"), ("女士", "f")],
)
def test_genders_written_many_ways_read_alike(written, key):
    assert gender_key(written) == key
    assert gender_key("未知") == ""


def test_a_file_prepares_column_by_column_as_each_row_would(tmp_path):
    rows, _truth = doctors_file(doctors=80, seed=5)
    rows[3]["城市"] = ""  # the city then comes from the hospital's name, if it has one
    config = _toml_config(DOCTORS_TOML)
    source = tmp_path / "doctors.csv"
    _write_csv(source, rows, "utf-8")

    columns = prepare_columns(
        read_table(source).rows, config.left, date_order="dmy", label="doctors.csv"
    )

    by_row = [prepare_row(row, config.left, date_order="dmy") for row in rows]
    assert [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ] == [{key: value or None for key, value in row.items()} for row in by_row]


def test_em_on_a_huge_block_learns_from_a_fixed_slice_of_it():
    rule = sampled_rule(("org_key", "city"), 0.25)

    sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
    assert "l.org_key = r.org_key AND l.city = r.city" in sql
    assert "substr(md5(l.org_key), 1, 2) < '40'" in sql
    assert sampled_rule(("org_key",), 1.0).get_blocking_rule("duckdb").blocking_rule_sql == (
        'l."org_key" = r."org_key"'
    )
