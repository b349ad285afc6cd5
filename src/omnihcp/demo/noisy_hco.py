"""Noisy HCO source records with ground truth, for training and measuring the HCO model.

The master is ``noisy.hco_master`` (names with their abbreviations, campuses as HCOs of their
own). Each master HCO gets a fixed profile — an address on a street of its district (a campus
on another street), a USCC for most, its level and type — and each source record writes it as
an institution file from a CRM or a distributor would: the name through ``noisy.hospital_text``
(abbreviations such as 北医三院, typos, traditional characters, campus in brackets), the city
sometimes missing, the address shortened, misspelt or missing, level and USCC often missing.
``truth`` is the master HCO's id. Same seed, same records.

The shipped HCO model (``masterdata/matching/data/hco_model.json``) learnt from::

    python -m omnihcp.demo.noisy_hco hco_training.csv     # master + 20,000 noisy records
    omnihcp mdm train hco_training.csv --entity hco --label truth
"""

from __future__ import annotations

import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from omnihcp.demo import data
from omnihcp.demo.noisy import (
    DEFAULT_SEED,
    HOMOPHONES,
    MasterHco,
    _needs_city,
    _to_traditional,
    hco_master,
    hospital_text,
)

TRAINING_SEED = 7
TRAINING_RECORDS = 20_000
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class HcoRecord:
    """One institution as a file has it (a master row, or a source's noisy copy of one)."""

    record_id: str
    name: str
    city: str
    address: str
    level: str
    hco_type: str
    uscc: str
    truth: int


COLUMNS = tuple(f.name for f in fields(HcoRecord))


def _uscc(rng: random.Random, enterprise: bool) -> str:
    # Shaped like a USCC (registration authority, area code, organisation code); the check
    # character is not computed: the model compares codes, the importer validates them.
    head = "91" if enterprise else "12"
    return head + f"{rng.randrange(110000, 659999):06d}" + "".join(rng.choices(USCC_ALPHABET, k=10))


def master_record(hco: MasterHco, *, seed: int = DEFAULT_SEED) -> HcoRecord:
    """The master's own row of ``hco``: the profile every source copies (with noise)."""
    rng = random.Random(f"{seed}-hco-profile-{hco.id}")
    district = hco.district or rng.choice(_districts(hco.city) or [""])
    province = hco.province if hco.province != hco.city else ""
    street = rng.choice(data.STREETS)
    address = f"{province}{hco.city}{district}{street}{rng.randrange(1, 999)}号"
    uscc = _uscc(rng, hco.hco_type == "pharmacy") if rng.random() < 0.85 else ""
    return HcoRecord(
        f"H{hco.id}", hco.name, hco.city, address, hco.level, hco.hco_type, uscc, hco.id
    )


def _districts(city: str) -> list[str]:
    return [d for _r, _n, areas in data.REGIONS for _a, _m, cs in areas for _p, c, ds in cs
            if c == city for d in ds]  # fmt: skip


def _address(rng: random.Random, master: HcoRecord, hco: MasterHco) -> str:
    text = master.address
    pick = rng.random()
    if pick < 0.35:
        return ""
    if pick < 0.6 and text.startswith(hco.province) and hco.province != hco.city:
        text = text[len(hco.province) :]  # 杭州市西湖区… without 浙江省
    elif pick < 0.7 and hco.city in text:
        text = text[text.index(hco.city) + len(hco.city) :]  # the district and street only
    if rng.random() < 0.1:
        spots = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + rng.choice(HOMOPHONES[text[i]]) + text[i + 1 :]
    if rng.random() < 0.05:
        text = _to_traditional().convert(text)
    return text


def noisy_record(rng: random.Random, hco: MasterHco, master: HcoRecord, number: int) -> HcoRecord:
    """How one source writes ``hco``."""
    name, _noise = hospital_text(rng, hco)
    city = hco.city
    if rng.random() < 0.1 and not _needs_city(name, hco):
        city = ""
    # Level as the importer reads it (三级甲等 → 3A), known to half the sources.
    level = master.level if rng.random() < 0.5 else ""
    uscc = master.uscc if rng.random() < 0.3 else ""
    return HcoRecord(
        f"N{number}", name, city, _address(rng, master, hco), level, hco.hco_type, uscc, hco.id
    )


def hco_records(n: int, *, hcos: list[MasterHco], seed: int = DEFAULT_SEED) -> Iterator[HcoRecord]:
    """``n`` source records of the master's HCOs, hospitals more often than pharmacies."""
    rng = random.Random(f"{seed}-hco-records")
    weights = {"hospital": 6.0, "community": 1.0, "clinic": 0.5, "pharmacy": 1.0}
    cum, total = [], 0.0
    for hco in hcos:
        total += weights.get(hco.hco_type, 0.0)
        cum.append(total)
    masters = {hco.id: master_record(hco) for hco in hcos}
    for number in range(n):
        hco = rng.choices(hcos, cum_weights=cum)[0]
        yield noisy_record(rng, hco, masters[hco.id], number)


def write_training_csv(
    path: Path, *, records: int = TRAINING_RECORDS, seed: int = TRAINING_SEED
) -> int:
    """The labelled file the shipped HCO model learnt from: every master HCO and ``records``
    noisy copies, each with its true HCO id in ``truth``; returns the rows written."""
    master = hco_master()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(master_record(hco)) for hco in master)
        writer.writerows(astuple(r) for r in hco_records(records, hcos=master, seed=seed))
    return len(master) + records


if __name__ == "__main__":
    print(write_training_csv(Path(sys.argv[1])), "rows")  # noqa: T201
