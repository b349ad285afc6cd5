"""Online single-record HCP matching against a master of N HCPs: latency, and agreement with
the batch Splink model.

    .venv/bin/python bench/mdm_online.py --database sqlite:////tmp/master1m.sqlite3
    .venv/bin/python bench/mdm_online.py --database postgres://postgres@127.0.0.1:5432/omnihcp_online1m

The database must hold a demo company (``omnihcp demo --hcps 1000000``). Queries are master
doctors of one city written as sources write them (homophone typos, traditional characters,
Latin names in either order, short hospital names, dropped department or title, phone formats)
plus doctors unknown to the master. Each query is timed through ``match_hcp`` (candidates from
the database, scored by the model in DuckDB), after a warm-up; the figures are the median of
``--repeat`` passes of p50/p95/p99.

Agreement: the same queries are linked in batch by Splink (``linker.inference.predict`` with
the model's blocking rules) against every master doctor of that city, with the same model, λ
and name term frequencies; per query, the batch decision (best doctor and auto / review / none)
is compared with the online one. Writes bench/results/online.json (one entry per backend).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "online.json"


def configure(database: str) -> str:
    if database.startswith("sqlite:///"):
        os.environ["OMNIHCP_SQLITE_PATH"] = database.removeprefix("sqlite:///")
        os.environ.pop("DATABASE_URL", None)
        backend = "sqlite"
    else:
        os.environ["DATABASE_URL"] = database
        backend = "postgresql"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
    import django

    django.setup()
    return backend


def queries(city: str, count: int, unknown: int, seed: int) -> list[tuple[int | None, Any]]:
    from omnihcp.core import pi
    from omnihcp.demo import noisy
    from omnihcp.masterdata.matching.online import HCPQuery
    from omnihcp.masterdata.models import HCP, RecordStatus

    rng = random.Random(seed)
    ids = list(
        HCP.objects.filter(status=RecordStatus.ACTIVE, primary_hco__city=city).values_list(
            "id", flat=True
        )
    )
    chosen = rng.sample(ids, count)
    hcps = HCP.objects.filter(pk__in=chosen).select_related("primary_hco", "department")
    out: list[tuple[int | None, Any]] = []
    traditional = noisy._to_traditional()
    for hcp in hcps:
        hco = hcp.primary_hco
        name, hospital = hcp.name, hco.name
        department = hcp.department.name if hcp.department else ""
        title = hcp.get_title_display()
        mobile = ""
        roll = rng.random()
        if roll < 0.2:
            name = noisy._typo(rng, name)
        elif roll < 0.35:
            name = traditional.convert(name)
        elif roll < 0.45:
            name, _swapped = noisy._latin_name(rng, name)
        if rng.random() < 0.4 and hco.short_name:
            hospital = hco.short_name
        if rng.random() < 0.3:
            department = ""
        if rng.random() < 0.3:
            title = ""
        if hcp.mobile_encrypted and rng.random() < 0.3:
            mobile = noisy._phone(rng, pi.decrypt(hcp.mobile_encrypted))
        query = HCPQuery(
            name=name,
            hospital=hospital,
            city=city,
            department=department,
            title=title,
            mobile=mobile,
        )
        out.append((hcp.pk, query))
    others = list(hcps)
    for _ in range(unknown):
        hcp = rng.choice(others)
        name = noisy._person_name(rng)
        out.append((None, HCPQuery(name=name, hospital=hcp.primary_hco.name, city=city)))
    rng.shuffle(out)
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timings(batch: list[tuple[int | None, Any]], repeat: int) -> dict[str, Any]:
    from omnihcp.masterdata.matching.online import match_hcp

    for _, query in batch[:20]:  # warm-up: model compiled, hospital index built
        match_hcp(query)
    passes = []
    for _ in range(repeat):
        times = []
        for _, query in batch:
            start = time.perf_counter()
            match_hcp(query)
            times.append((time.perf_counter() - start) * 1000)
        passes.append(
            {
                "p50": percentile(times, 0.5),
                "p95": percentile(times, 0.95),
                "p99": percentile(times, 0.99),
                "max": max(times),
            }
        )
    return {key: round(statistics.median(p[key] for p in passes), 1) for key in passes[0]} | {
        "passes": passes
    }


def online_decisions(batch: list[tuple[int | None, Any]]) -> list[tuple[int | None, str]]:
    from omnihcp.masterdata.matching.online import NONE, match_hcp

    out: list[tuple[int | None, str]] = []
    for _, query in batch:
        found = match_hcp(query, limit=1)
        if not found or found[0].outcome == NONE:
            out.append((None, NONE))
        else:
            out.append((found[0].hcp_id, found[0].outcome))
    return out


def batch_decisions(batch: list[tuple[int | None, Any]], city: str) -> list[tuple[int | None, str]]:
    import duckdb
    import pandas as pd
    from splink import DuckDBAPI, Linker

    from omnihcp.masterdata.matching import online
    from omnihcp.masterdata.matching.comparisons import register_functions
    from omnihcp.masterdata.models import HCP, RecordStatus

    ids = list(
        HCP.objects.filter(status=RecordStatus.ACTIVE, primary_hco__city=city).values_list(
            "id", flat=True
        )
    )
    right = []
    for start in range(0, len(ids), 5000):
        right += online._candidate_rows(ids[start : start + 5000])
    left = []
    for number, (_, query) in enumerate(batch):
        place = online._place(query)
        row = online._query_row(query, place.hospital, place.city)
        row["unique_id"] = f"q{number}"
        left.append(row)
    names = {r["name_std"] for r in [*left, *right] if r.get("name_std")}
    total = online.SCORER.master_size
    frequencies = online._term_frequencies(names, total)
    _label, body = online.active_settings("hcp")
    body = {**body, "link_type": "link_only", "probability_two_random_records_match": 1 / total}
    connection = duckdb.connect()
    register_functions(connection)
    columns = sorted({c for r in [*left, *right] for c in r})
    for name, rows in (("left_records", left), ("right_records", right)):
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        connection.register("incoming", frame)
        casts = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in columns)
        connection.execute(f"CREATE TABLE {name} AS SELECT {casts} FROM incoming")
        connection.unregister("incoming")
    linker = Linker(
        ["left_records", "right_records"],
        body,
        DuckDBAPI(connection=connection),
        set_up_basic_logging=False,
        input_table_aliases=["left", "right"],
    )
    lookup = pd.DataFrame(
        {"name_std": list(frequencies), "tf_name_std": list(frequencies.values())}
    )
    linker.table_management.register_term_frequency_lookup(lookup, "name_std")
    limits = online.thresholds("hcp")
    predictions = linker.inference.predict(
        threshold_match_probability=limits.review
    ).as_pandas_dataframe()
    best: dict[str, tuple[float, int, float]] = {}
    for row in predictions.to_dict("records"):
        left_id, right_id = row["unique_id_l"], row["unique_id_r"]
        if str(left_id).startswith("q") is False:
            left_id, right_id = right_id, left_id
        key = (row["match_weight"], -int(right_id))
        if left_id not in best or key > best[left_id][:2]:
            best[left_id] = (row["match_weight"], -int(right_id), row["match_probability"])
    out: list[tuple[int | None, str]] = []
    for number in range(len(batch)):
        found = best.get(f"q{number}")
        if found is None:
            out.append((None, online.NONE))
        else:
            out.append((-found[1], online.outcome_for(found[2], limits)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="sqlite:///PATH or postgres://…")
    parser.add_argument("--city", default="杭州市")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--unknown", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    backend = configure(args.database)
    from omnihcp.masterdata.matching import online
    from omnihcp.masterdata.models import HCP

    master = HCP.objects.count()
    batch = queries(args.city, args.queries, args.unknown, args.seed)
    latency = timings(batch, args.repeat)
    on = online_decisions(batch)
    started = time.perf_counter()
    off = batch_decisions(batch, args.city)
    batch_seconds = time.perf_counter() - started
    same = sum(1 for a, b in zip(on, off, strict=True) if a == b)
    truth = [hcp_id for hcp_id, _ in batch]
    correct = sum(
        1
        for (hcp_id, outcome), true in zip(on, truth, strict=True)
        if (true is None and outcome == online.NONE) or (true is not None and hcp_id == true)
    )
    auto_right = sum(
        1
        for (hcp_id, outcome), true in zip(on, truth, strict=True)
        if outcome == online.AUTO and hcp_id == true
    )
    autos = sum(1 for _, outcome in on if outcome == online.AUTO)
    result = {
        "backend": backend,
        "master_hcps": master,
        "queries": len(batch),
        "unknown": args.unknown,
        "city": args.city,
        "latency_ms": latency,
        "agreement_with_batch": round(same / len(batch), 4),
        "disagreements": [
            {"query": batch[i][1].__dict__, "online": on[i], "batch": off[i]}
            for i in range(len(batch))
            if on[i] != off[i]
        ][:20],
        "online_correct": round(correct / len(batch), 4),
        "auto_precision": round(auto_right / max(autos, 1), 4),
        "auto_share": round(autos / len(batch), 4),
        "batch_seconds": round(batch_seconds, 1),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored[backend] = result
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(stored, ensure_ascii=False, indent=2, default=str))
    print(
        f"{backend}: master {master:,} HCPs, {len(batch)} queries — p50 {latency['p50']} ms, "
        f"p95 {latency['p95']} ms, p99 {latency['p99']} ms; same decision as batch "
        f"{same / len(batch):.1%}; correct {correct / len(batch):.1%}; "
        f"auto precision {auto_right / max(autos, 1):.1%} ({autos} auto)"
    )


if __name__ == "__main__":
    main()
