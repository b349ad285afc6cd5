"""HCO rows scored by the Splink HCO model (``matching.online_hco``): decisions and latency.

    .venv/bin/python bench/mdm_hco_online.py                     # 2,000 names, SQLite
    .venv/bin/python bench/mdm_hco_online.py \\
        --database postgres://postgres@127.0.0.1:5432/omnihcp_hco_bench

Without ``--database`` a fresh SQLite file is made under ``$TMPDIR/omnihcp-bench/`` (removed
at the end); a PostgreSQL database must exist and is emptied of HCOs first. The master is the
noisy generator's 12,000 HCOs (``demo.noisy.hco_master``), written as HCO rows; the queries
are its free-text names (``hospital_names``: abbreviations, typos, traditional characters,
missing city …) with a seed other than the one the shipped model was trained on. Each name is
matched with ``match_hco`` as the importer does; a decision is right when an auto match is the
true HCO, and a review is useful when the true HCO is among the steward's candidates. Writes
bench/results/hco_online.json (one entry per backend).

``--write-training FILE`` writes the labelled file the shipped model was trained on (seed 7):
``omnihcp mdm train FILE --entity hco --label truth`` then trains it again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results" / "hco_online.json"
SEED = 20240501  # the shipped model learnt from seed 7


def _load_master() -> dict[int, int]:
    """The generator's HCOs as master HCO rows; generator id → HCO pk."""
    from omnihcp.demo.noisy import hco_master
    from omnihcp.masterdata.models import HCO, HCOType, RecordStatus

    HCO.objects.all().delete()
    master = hco_master()
    types = {t.value for t in HCOType}
    rows = [
        HCO(
            code=f"B{h.id:08d}",
            name=h.name,
            short_name=h.short_name or "",
            hco_type=h.hco_type if h.hco_type in types else HCOType.HOSPITAL,
            province=h.province,
            city=h.city,
            district=h.district,
            status=RecordStatus.ACTIVE,
        )
        for h in master
    ]
    HCO.objects.bulk_create(rows, batch_size=2000)
    codes = dict(HCO.objects.values_list("code", "id"))
    return {h.id: codes[f"B{h.id:08d}"] for h in master}


def write_training_file(path: Path, names: int = 20_000, seed: int = 7) -> None:
    """The labelled file the shipped model learnt from: the master HCOs and free-text names
    of them, each with its true HCO (``omnihcp mdm train FILE --entity hco --label truth``)."""
    import csv

    from omnihcp.demo.noisy import hco_master, hospital_names

    master = hco_master()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "name", "city", "truth"])
        writer.writerows([f"H{h.id}", h.name, h.city, h.id] for h in master)
        for i, row in enumerate(hospital_names(names, hcos=master, seed=seed)):
            writer.writerow([f"N{i}", row.text, row.city, row.true_hco_id])


def run(names: int) -> dict[str, Any]:
    from benchlib import percentile
    from omnihcp.demo.noisy import hco_master, hospital_names
    from omnihcp.masterdata.matching import online
    from omnihcp.masterdata.matching.online_hco import SCORER, HCOQuery, match_hco

    pks = _load_master()
    SCORER.reset()
    queries = list(hospital_names(names, hcos=hco_master(), seed=SEED))
    match_hco(HCOQuery(name=queries[0].text, city=queries[0].city))  # build the index
    latencies, outcome = [], {"auto": 0, "auto_right": 0, "review": 0, "review_has": 0, "none": 0}
    top1 = 0
    for row in queries:
        truth = pks[row.true_hco_id]
        started = time.perf_counter()
        found = match_hco(HCOQuery(name=row.text, city=row.city, province=row.province))
        latencies.append((time.perf_counter() - started) * 1000)
        top1 += bool(found) and found[0].hco_id == truth
        best = found[0].outcome if found else online.NONE
        if best == online.AUTO:
            outcome["auto"] += 1
            outcome["auto_right"] += found[0].hco_id == truth
        elif best == online.REVIEW:
            outcome["review"] += 1
            outcome["review_has"] += any(
                s.hco_id == truth for s in found if s.outcome != online.NONE
            )
        else:
            outcome["none"] += 1
    return {
        "names": len(queries),
        "master_hcos": len(pks),
        "top1_accuracy": top1 / len(queries),
        "auto_share": outcome["auto"] / len(queries),
        "auto_precision": outcome["auto_right"] / max(outcome["auto"], 1),
        "review_share": outcome["review"] / len(queries),
        "review_holds_truth": outcome["review_has"] / max(outcome["review"], 1),
        "new_share": outcome["none"] / len(queries),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--database", help="a PostgreSQL URL; default: a fresh SQLite file")
    parser.add_argument("--write-training", type=Path, help="write the training file and stop")
    args = parser.parse_args()
    if args.write_training:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
        import django

        django.setup()
        write_training_file(args.write_training)
        return 0
    from mdm_platform import configure

    backend, fresh = configure(args.database)
    from django.core.management import call_command

    from benchlib import machine_info, write_json

    call_command("migrate", verbosity=0)
    result = {"backend": backend, **run(args.names)}
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
