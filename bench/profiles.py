"""Profiles benchmarks (issue 5) at 1,000,000 HCPs and 20,000,000 activity events, on SQLite and
PostgreSQL: segment count of three-condition rules (p50/p95), HCP 360 page server time
(p50/p95), full rule-tag recompute (wall time, peak RSS), next-best-content training (wall
time, peak RSS) and its time-split evaluation (recall@10, NDCG@10 of the hybrid against the
popularity baseline of the same run).

Setup, not timed: the database ``bench/seed.py --keep`` left at 1M HCPs is taken over (or a
new one seeded with ``omnihcp demo --hcps N --no-engagement``), migrated, and loaded by
``bench/profiles_child.py load EVENTS`` (see there what is generated); then the activity
windows are built (``omnihcp tracking windows``: wall time and peak RSS reported) and the
segment counts measured twice, from the windows and, for comparison, with ``events()``
summed from the daily rollups.

    .venv/bin/python bench/profiles.py                                 # both backends
    .venv/bin/python bench/profiles.py --backends sqlite --hcps 20000 --events 400000

Prints a table and writes ``bench/results/profiles-BACKENDS.json``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    OMNIHCP,
    PYTHON,
    RESULTS,
    WORK_ROOT,
    Database,
    machine_info,
    migrate,
    percentile,
    run_checked,
    run_measured,
    seeded_database,
    source_info,
    table,
    use_git_ref,
    write_json,
)

SECRET = secrets.token_urlsafe(32)
CHILD = Path(__file__).resolve().parent / "profiles_child.py"


def _json(step: str, n: int, db: Database) -> list[float]:
    done = subprocess.run(
        [str(PYTHON), str(CHILD), step, str(n)],
        env=db.env(DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="testserver"),
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(v) for v in json.loads(done.stdout.strip().splitlines()[-1])]


def measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    db = seeded_database(backend, args.hcps, fresh=args.fresh)
    migrate(db)
    env = db.env(DEBUG="0", SECRET_KEY=SECRET)
    logs = WORK_ROOT / "logs"
    result: dict[str, Any] = {}
    if not args.loaded:
        load = run_measured(
            [str(PYTHON), str(CHILD), "load", str(args.events)],
            env,
            logs / f"profiles-load-{backend}.log",
        )
        if load.returncode:
            raise RuntimeError(load.output[-3000:])
        db.analyze()
        result["load_seconds"] = round(load.seconds, 1)
    windows = run_measured(
        [str(OMNIHCP), "tracking", "windows"], env, logs / f"profiles-windows-{backend}.log"
    )
    if windows.returncode:
        raise RuntimeError(windows.output[-3000:])
    db.analyze()
    result["windows"] = {
        "seconds": round(windows.seconds, 1),
        "peak_mib": round(windows.max_rss_mib),
        "output": windows.output.strip().splitlines()[-1],
    }
    for key, step in (("segment_ms", "segments"), ("segment_rollups_ms", "segments-rollups")):
        times = _json(step, args.queries, db)
        result[key] = {"p50": statistics.median(times), "p95": percentile(times, 95)}
    for name, command in (("recompute", "recompute"), ("train", "nbc-train")):
        runs = [
            run_measured(
                [str(OMNIHCP), "profiles", command],
                env,
                logs / f"profiles-{command}-{backend}-{i}.log",
            )
            for i in range(args.repeat)
        ]
        result[name] = {
            "seconds": statistics.median(r.seconds for r in runs),
            "peak_mib": statistics.median(r.max_rss_mib for r in runs),
            "output": runs[-1].output.strip().splitlines()[-1],
        }
    # after training: pages read the model's popularity, as they do once the nightly job ran
    page = _json("pages", args.pages, db)
    result["hcp360_ms"] = {"p50": statistics.median(page), "p95": percentile(page, 95)}
    evaluation = run_checked([str(OMNIHCP), "profiles", "nbc-evaluate", "--json"], env)
    result["evaluation"] = json.loads(evaluation.strip().splitlines()[-1])
    ndcg = result["evaluation"]["ndcg@10"]
    result["evaluation"]["ndcg_ratio"] = round(ndcg["hybrid"] / max(ndcg["popularity"], 1e-9), 2)
    if not args.keep:
        db.drop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--hcps", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="seed a new database")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--loaded", action="store_true", help="the kept database is already loaded: measure only"
    )
    parser.add_argument("--git-ref", help="measure a git archive snapshot of this ref")
    args = parser.parse_args()
    if args.git_ref:
        use_git_ref(args.git_ref)
    results = {b: measure(b, args) for b in args.backends}
    rows = [
        [
            b,
            f"{r['segment_ms']['p95']:.0f} ({r['segment_rollups_ms']['p95']:.0f})",
            f"{r['windows']['seconds']:.0f} s / {r['windows']['peak_mib']:.0f} MiB",
            f"{r['hcp360_ms']['p95']:.0f}",
            f"{r['recompute']['seconds']:.0f} s / {r['recompute']['peak_mib']:.0f} MiB",
            f"{r['train']['seconds']:.0f} s / {r['train']['peak_mib']:.0f} MiB",
            "{hybrid:.3f} vs {popularity:.3f}".format(**r["evaluation"]["ndcg@10"])
            + f" ({r['evaluation']['ndcg_ratio']}×)",
        ]
        for b, r in results.items()
    ]
    head = ["backend", "segment p95 ms (rollups)", "windows", "360 p95 ms", "recompute"]
    print(table([*head, "train", "NDCG@10"], rows))
    write_json(
        RESULTS / f"profiles-{'-'.join(args.backends)}.json",
        {
            "hcps": args.hcps,
            "events": args.events,
            "machine": machine_info(),
            "source": source_info(),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
