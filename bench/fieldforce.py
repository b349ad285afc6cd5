"""Field-force benchmarks (issue 6) at 500 reps, 1,000,000 HCPs and 5,000,000 visits, on SQLite
and PostgreSQL: the rep's today page and the manager's team page, p50/p95 server time, and
call-plan generation for the whole company (wall time, peak RSS), and the refresh of every
rep's next-best-action list of the day (the job the today page reads from); the today page is
measured twice: with the lists stored (production's steady state) and without (each page
computes its list).

Setup, not timed: the database ``bench/seed.py --keep`` left at 1M HCPs is taken over (or a new
one seeded with ``omnihcp demo --hcps N --no-engagement``), migrated, and loaded by
``bench/fieldforce_child.py load VISITS`` (see there what is generated).

    .venv/bin/python bench/fieldforce.py                                   # both backends
    .venv/bin/python bench/fieldforce.py --backends sqlite --hcps 20000 --visits 100000
    .venv/bin/python bench/fieldforce.py --backends sqlite --loaded --keep --git-ref HEAD

Prints a table and writes ``bench/results/fieldforce-BACKENDS.json``.
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
    PYTHON,
    RESULTS,
    WORK_ROOT,
    Database,
    machine_info,
    migrate,
    percentile,
    run_measured,
    seeded_database,
    source_info,
    table,
    use_git_ref,
    write_json,
)

CHILD = Path(__file__).resolve().parent / "fieldforce_child.py"
SECRET = secrets.token_urlsafe(32)


def _child(db: Database, *args: str) -> str:
    done = subprocess.run(
        [str(PYTHON), str(CHILD), *args],
        env=db.env(DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="testserver"),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout.strip().splitlines()[-1]


def measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    db = seeded_database(backend, args.hcps, fresh=args.fresh)
    migrate(db)
    env = db.env(DEBUG="0", SECRET_KEY=SECRET)
    logs = WORK_ROOT / "logs"
    result: dict[str, Any] = {}
    if not args.loaded:
        load = run_measured(
            [str(PYTHON), str(CHILD), "load", str(args.visits)],
            env,
            logs / f"fieldforce-load-{backend}.log",
        )
        if load.returncode:
            raise RuntimeError(load.output[-3000:])
        db.analyze()
        result["load"] = json.loads(load.output.strip().splitlines()[-1])
        write_json(RESULTS / f"fieldforce-load-{backend}.json", result["load"])
    if args.load_only:
        return result
    runs = []
    for i in range(args.repeat):
        run = run_measured(
            [str(PYTHON), str(CHILD), "plans"], env, logs / f"fieldforce-plans-{backend}-{i}.log"
        )
        if run.returncode:
            raise RuntimeError(run.output[-3000:])
        runs.append((run, json.loads(run.output.strip().splitlines()[-1])))
    db.analyze(vacuum=True)  # what autovacuum does after the plans' churn (off on this server)
    judge = run_measured(
        [str(PYTHON), str(CHILD), "judge"], env, logs / f"fieldforce-judge-{backend}.log"
    )
    if judge.returncode:
        raise RuntimeError(judge.output[-3000:])
    result["judge"] = json.loads(judge.output.strip().splitlines()[-1]) | {
        "peak_mib": round(judge.max_rss_mib)
    }
    result["plans"] = {
        "seconds": statistics.median(r.seconds for r, _ in runs),
        "generate_seconds": statistics.median(o["seconds"] for _, o in runs),
        "peak_mib": statistics.median(r.max_rss_mib for r, _ in runs),
        "plans": runs[-1][1]["plans"],
        "lines": runs[-1][1]["lines"],
    }
    cold = [float(v) for v in json.loads(_child(db, "today-cold", str(args.pages)))]
    result["today-cold_ms"] = {
        "n": len(cold),
        "p50": round(statistics.median(cold), 1),
        "p95": round(percentile(cold, 95), 1),
    }
    refresh = run_measured(
        [str(PYTHON), str(CHILD), "nba-refresh"], env, logs / f"fieldforce-nba-{backend}.log"
    )
    if refresh.returncode:
        raise RuntimeError(refresh.output[-3000:])
    result["nba_refresh"] = json.loads(refresh.output.strip().splitlines()[-1]) | {
        "peak_mib": round(refresh.max_rss_mib)
    }
    for page in ("today", "team", "team-area"):
        n = args.pages if page != "team-area" else max(args.pages // 4, 10)
        times = [float(v) for v in json.loads(_child(db, page, str(n)))]
        result[f"{page}_ms"] = {
            "n": len(times),
            "p50": round(statistics.median(times), 1),
            "p95": round(percentile(times, 95), 1),
        }
    if not args.keep:
        db.drop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--hcps", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=5_000_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="seed a new database")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--loaded", action="store_true", help="the kept database is already loaded: measure only"
    )
    parser.add_argument("--load-only", action="store_true", help="seed and load, keep, stop")
    parser.add_argument("--git-ref", help="measure a git archive snapshot of this ref")
    args = parser.parse_args()
    if args.git_ref:
        use_git_ref(args.git_ref)
    results = {b: measure(b, args) for b in args.backends}
    if args.load_only:
        print(json.dumps(results))
        return
    rows = [
        [
            b,
            f"{r['today_ms']['p50']:.0f} / {r['today_ms']['p95']:.0f}",
            f"{r['today-cold_ms']['p50']:.0f} / {r['today-cold_ms']['p95']:.0f}",
            f"{r['team_ms']['p50']:.0f} / {r['team_ms']['p95']:.0f}",
            f"{r['team-area_ms']['p50']:.0f} / {r['team-area_ms']['p95']:.0f}",
            f"{r['plans']['seconds']:.0f} s / {r['plans']['peak_mib']:.0f} MiB",
            f"{r['nba_refresh']['seconds']:.0f} s",
        ]
        for b, r in results.items()
    ]
    head = ["backend", "today p50/p95 ms", "today, lists not stored", "team (district)"]
    head += ["team (area)", "call plans, whole company", "NBA lists, whole company"]
    print(table(head, rows))
    write_json(
        RESULTS / f"fieldforce-{'-'.join(args.backends)}.json",
        {
            "hcps": args.hcps,
            "visits": args.visits,
            "machine": machine_info(),
            "source": source_info(),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
