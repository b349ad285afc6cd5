"""HCO rows matched as the importer matches them (rules, then the Splink HCO model of
``matching.online_hco``): precision and recall of the automatic decisions, and latency.

    .venv/bin/python bench/mdm_hco_online.py                     # 2,000 rows, SQLite
    .venv/bin/python bench/mdm_hco_online.py \\
        --database postgres://postgres@127.0.0.1:5432/omnihcp_hco_bench

Without ``--database`` a fresh SQLite file is made under ``$TMPDIR/omnihcp-bench/`` (removed
at the end); a PostgreSQL database must exist, empty or holding the demo company. The master is
the demo company at ``omnihcp demo``'s default size (20,000 HCPs); the rows are institution-file
rows of its HCOs written by ``demo.noisy_hco`` (abbreviations, typos, traditional characters,
campus brackets, shortened or misspelt addresses, level and USCC often missing), plus one row
in ten naming an institution the master does not hold (another generator's hospital of the same
city, named like the real ones: 第七人民医院 where the city has six). Each row is read by
``hco_row`` and decided by ``match_record`` as ``import_file`` decides it, without writing.

An automatic decision (matched) is right when it is the row's true HCO; precision is right / all
automatic decisions, recall is right / rows of known HCOs; an unknown institution merged into
a known one counts against precision. A review is useful when the truth is among the
steward's candidates. Writes bench/results/hco_online.json (one entry per backend).

``--write-training FILE`` writes the labelled file the shipped model learnt from
(``demo.noisy_hco``); ``omnihcp mdm train FILE --entity hco --label truth`` trains it again.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results" / "hco_online.json"
SEED = 20240501  # the shipped model learnt from the noisy master with seed 7
UNKNOWN_SHARE = 0.1
TYPE_WORDS = {"hospital": "医院", "community": "社区卫生服务中心", "clinic": "诊所"}


def _master() -> tuple[list[Any], dict[int, Any]]:
    """The demo's HCOs as the noise generator reads them, and their master rows."""
    from omnihcp.demo.noisy import MasterHco
    from omnihcp.demo.noisy_hco import HcoRecord
    from omnihcp.masterdata.models import HCO, RecordStatus

    fields = ("id", "name", "short_name", "hco_type", "level", "province", "city", "district")
    hcos, records = [], {}
    for row in (
        HCO.objects.filter(status=RecordStatus.ACTIVE)
        .order_by("id")
        .values(*fields, "address", "uscc")
    ):
        # A short name is how sources abbreviate the main hospital; the demo's second HCO of
        # one name (…（二部）) shares it, and a source naming that one writes its 二部 too.
        short = row["short_name"] if "（" not in row["name"] else ""
        hco = MasterHco(**{f: row[f] for f in fields}, forms=(short,) if short else ())
        hcos.append(hco)
        records[hco.id] = HcoRecord(
            f"H{hco.id}",
            hco.name,
            hco.city,
            row["address"],
            hco.level,
            hco.hco_type,
            row["uscc"] or "",
            hco.id,
        )
    return hcos, records


def _unknown(hcos: list[Any], count: int) -> list[Any]:
    """Institutions of the master's cities that the master does not hold."""
    from omnihcp.demo.noisy import hco_master
    from omnihcp.masterdata.standardise import hospital_name

    held = {(h.city, hospital_name(h.name).key) for h in hcos}
    cities = {h.city for h in hcos}
    others = [
        h
        for h in hco_master()
        if h.city in cities
        and h.hco_type != "pharmacy"  # a chain's branch names say little: kept out of both
        and (h.city, hospital_name(h.name).key) not in held
    ]
    return random.Random(f"{SEED}-unknown").sample(others, min(count, len(others)))


def _rows(names: int) -> list[tuple[dict[str, str], int | None]]:
    """(raw file row, true HCO id or None for an unknown institution)."""
    from omnihcp.demo.noisy_hco import master_record, noisy_record

    hcos, records = _master()
    rng = random.Random(f"{SEED}-hco-rows")
    weights = {"hospital": 6.0, "community": 1.0, "clinic": 0.5, "pharmacy": 1.0}
    known = rng.choices(
        hcos,
        weights=[weights.get(h.hco_type, 0.5) for h in hcos],
        k=names - int(names * UNKNOWN_SHARE),
    )
    picked = [(h, records[h.id], h.id) for h in known]
    picked += [(h, master_record(h), None) for h in _unknown(hcos, int(names * UNKNOWN_SHARE))]
    rows = []
    for number, (hco, master, truth) in enumerate(picked):
        record = noisy_record(rng, hco, master, number)
        raw = {
            "name": record.name,
            "hco_type": TYPE_WORDS.get(record.hco_type, record.hco_type),
            "level": record.level,
            "province": hco.province,
            "city": hco.city,  # an institution file's city column is required
            "address": record.address,
            "uscc": record.uscc,
        }
        rows.append((raw, truth))
    return rows


def run(names: int) -> dict[str, Any]:
    from benchlib import percentile
    from omnihcp.masterdata.importing.match import MATCHED, NEW, HCOIndex, match_record
    from omnihcp.masterdata.importing.rows import hco_row
    from omnihcp.masterdata.matching.online_hco import SCORER, HCOQuery, match_hco
    from omnihcp.masterdata.models import HCO

    SCORER.reset()
    rows = _rows(names)
    match_hco(HCOQuery(name="杭州市第一人民医院", city="杭州市"))  # build the index
    index = HCOIndex()
    latencies: list[float] = []
    counts = dict.fromkeys(
        ("known", "unknown", "auto", "auto_right", "review", "review_has", "new", "new_unknown"), 0
    )
    for number, (raw, truth) in enumerate(rows):
        counts["known" if truth else "unknown"] += 1
        values = hco_row(raw).values
        started = time.perf_counter()
        found = match_record(
            entity_type="hco", source="bench", source_key=str(number), values=values, index=index
        )
        latencies.append((time.perf_counter() - started) * 1000)
        if found.outcome == MATCHED:
            counts["auto"] += 1
            counts["auto_right"] += found.hco is not None and found.hco.pk == truth
        elif found.outcome == NEW:
            counts["new"] += 1
            counts["new_unknown"] += truth is None
        else:
            counts["review"] += 1
            counts["review_has"] += truth in found.candidates
    return {
        "rows": len(rows),
        "known_rows": counts["known"],
        "unknown_rows": counts["unknown"],
        "master_hcos": HCO.objects.count(),
        "auto_precision": counts["auto_right"] / max(counts["auto"], 1),
        "auto_recall": counts["auto_right"] / max(counts["known"], 1),
        "auto_share": counts["auto"] / len(rows),
        "review_share": counts["review"] / len(rows),
        "review_holds_truth": counts["review_has"] / max(counts["review"], 1),
        "new_share": counts["new"] / len(rows),
        "unknown_kept_new": counts["new_unknown"] / max(counts["unknown"], 1),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2000, help="file rows to match")
    parser.add_argument("--database", help="a PostgreSQL URL; default: a fresh SQLite file")
    parser.add_argument("--write-training", type=Path, help="write the training file and stop")
    args = parser.parse_args()
    if args.write_training:
        from omnihcp.demo.noisy_hco import write_training_csv

        print(write_training_csv(args.write_training), "rows")
        return 0
    from mdm_platform import configure, prepare

    backend, fresh = configure(args.database)
    from benchlib import machine_info, write_json

    demo_seconds = prepare(20_000)
    result = {"backend": backend, **run(args.names), "demo_seconds": demo_seconds}
    existing: dict[str, Any] = {}
    if RESULTS.exists():
        import json

        existing = json.loads(RESULTS.read_text(encoding="utf-8"))
    results = {**existing.get("results", {}), backend: result}
    write_json(RESULTS, {"machine": machine_info(), "results": results})
    for key, value in result.items():
        print(f"{key:20} {value:.4f}" if isinstance(value, float) else f"{key:20} {value}")
    if fresh:
        path = os.environ.get("OMNIHCP_SQLITE_PATH", "")
        if path:
            Path(path).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
