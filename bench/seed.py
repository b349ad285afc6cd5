"""Benchmark of the demo-company generator: wall time and peak memory of ``omnihcp demo``.

For every backend and size, each repetition gets a fresh database (a SQLite file in a temp
directory, or a new PostgreSQL database), runs ``omnihcp migrate`` (not timed), then times
``omnihcp demo --hcps N`` in a child process: wall time of the whole command, the generator's
own time as the command prints it, and the child's peak resident set size (``wait4``). For
PostgreSQL the peak RSS is the Python process only, not the database server.

A size whose first run takes longer than ``--long-run-seconds`` (default 5 minutes) is run
once, and the output says so.

    .venv/bin/python bench/seed.py                      # 20k and 1M, SQLite and PostgreSQL
    .venv/bin/python bench/seed.py --sizes 20000 --backends sqlite --repeat 3
    .venv/bin/python bench/seed.py --keep               # keep the largest database per backend

Results: a table on stdout and ``bench/results/seed.json``. ``--keep`` leaves the last
database of the largest size in place (listed under ``kept`` in the JSON) for
``bench/search.py --reuse``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
from pathlib import Path
from typing import Any

from benchlib import (
    BACKENDS,
    OMNIHCP,
    RESULTS,
    WORK_ROOT,
    Database,
    machine_info,
    migrate,
    run_measured,
    source_info,
    table,
    use_git_ref,
    write_json,
)

READY = re.compile(r"Demo company ready in ([\d.]+)s: ([\d,]+) HCPs, ([\d,]+) HCOs")


def seed_database(backend: str, hcps: int) -> Database:
    """The database a seed run of this size uses (and ``--keep`` leaves behind)."""
    return Database(backend=backend, name=f"omnihcp_bench_seed_{backend}_{hcps}")


def measure(backend: str, hcps: int, run: int, *, debug: bool) -> dict[str, Any]:
    db = seed_database(backend, hcps)
    db.create()
    migrate(db)
    log = WORK_ROOT / "logs" / f"seed-{backend}-{hcps}-{run}.log"
    env = db.env(DEBUG="1" if debug else "0", SECRET_KEY=secrets.token_urlsafe(32))
    child = run_measured([str(OMNIHCP), "demo", "--hcps", str(hcps), "--no-engagement"], env, log)
    if child.returncode != 0:
        raise RuntimeError(f"omnihcp demo failed ({child.returncode}), see {log}:\n{child.output}")
    ready = READY.search(child.output)
    if ready is None or int(ready.group(2).replace(",", "")) != hcps:
        raise RuntimeError(f"unexpected output of omnihcp demo, see {log}:\n{child.output}")
    return {
        "seconds": child.seconds,
        "generator_seconds": float(ready.group(1)),
        "peak_rss_mib": child.max_rss_mib,
        "hcos": int(ready.group(3).replace(",", "")),
        "db_size_mib": db.size_mib(),
    }


def run_size(
    backend: str, hcps: int, *, repeat: int, long_run: float, debug: bool
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    note = ""
    for run in range(1, repeat + 1):
        result = measure(backend, hcps, run, debug=debug)
        runs.append(result)
        print(
            f"  {backend:<8} {hcps:>9,} HCPs  run {run}/{repeat}: {result['seconds']:8.1f} s, "
            f"peak {result['peak_rss_mib']:7.0f} MiB",
            flush=True,
        )
        if run == 1 and repeat > 1 and result["seconds"] > long_run:
            note = f"single run: the first run took more than {long_run:.0f} s"
            print(f"  {backend} {hcps:,}: {note}", flush=True)
            break
    seconds = [r["seconds"] for r in runs]
    return {
        "backend": backend,
        "hcps": hcps,
        "hcos": runs[0]["hcos"],
        "runs": len(runs),
        "seconds": seconds,
        "median_seconds": statistics.median(seconds),
        "median_generator_seconds": statistics.median(r["generator_seconds"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "peak_rss_mib_runs": [r["peak_rss_mib"] for r in runs],
        "db_size_mib": runs[-1]["db_size_mib"],
        "note": note,
    }


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        sqlite = next(
            (x for x in results if x["backend"] == "sqlite" and x["hcps"] == r["hcps"]), None
        )
        ratio = (
            f"{r['median_seconds'] / sqlite['median_seconds']:.2f}"
            if sqlite and r["backend"] != "sqlite"
            else ""
        )
        rows.append(
            [
                r["backend"],
                f"{r['hcps']:,}",
                str(r["runs"]),
                f"{r['median_seconds']:.1f}",
                f"{r['median_generator_seconds']:.1f}",
                f"{r['hcps'] / r['median_seconds']:,.0f}",
                f"{r['peak_rss_mib']:.0f}",
                f"{r['db_size_mib']:,.0f}",
                ratio,
                r["note"],
            ]
        )
    headers = [
        "backend",
        "HCPs",
        "runs",
        "median s",
        "generator s",
        "HCPs/s",
        "peak RSS MiB",
        "DB MiB",
        "PG/SQLite time",
        "note",
    ]
    return table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,1000000", help="comma-separated HCP counts")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per size (median)")
    parser.add_argument(
        "--long-run-seconds",
        type=float,
        default=300.0,
        help="run a size once when its first run takes longer than this",
    )
    parser.add_argument(
        "--debug", action="store_true", help="seed with DEBUG=1 (the default of a laptop)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the last database of the largest size"
    )
    parser.add_argument(
        "--git-ref",
        help="measure a snapshot of this commit (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "seed.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")

    if args.git_ref:
        use_git_ref(args.git_ref)
    source = source_info()
    machine = machine_info()
    print(
        f"seed benchmark: sizes {sizes}, backends {backends}, repeat {args.repeat}, "
        f"DEBUG={int(args.debug)}; {machine['cpu_count']} CPUs, Python {machine['python']}; "
        f"code: {source['ref']} {source['commit']}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for hcps in sizes:
        for backend in backends:
            results.append(
                run_size(
                    backend,
                    hcps,
                    repeat=args.repeat,
                    long_run=args.long_run_seconds,
                    debug=args.debug,
                )
            )
            db = seed_database(backend, hcps)
            if args.keep and hcps == max(sizes):
                kept.append({"backend": backend, "hcps": hcps, "name": db.name})
                print(f"  kept {backend} database: {db.location}", flush=True)
            else:
                db.drop()

    print()
    print(report(results))
    write_json(
        args.out,
        {
            "benchmark": "omnihcp demo --hcps N (fresh database per run, migrate not timed)",
            "machine": machine,
            "source": source,
            "options": {
                "sizes": sizes,
                "backends": backends,
                "repeat": args.repeat,
                "long_run_seconds": args.long_run_seconds,
                "debug": args.debug,
            },
            "results": results,
            "kept": kept,
        },
    )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
