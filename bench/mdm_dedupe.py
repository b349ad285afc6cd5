"""Benchmark of HCP record deduplication (``omnihcp mdm dedupe``) against a plain Splink baseline.

``omnihcp demo_noisy`` (seeded, not timed) writes N noisy HCP source records, each with the
doctor it truly is (``true_id``) and the noise it got. Then, each in a child process whose wall
time and peak RSS (``wait4``) are measured:

* **ours**: ``omnihcp mdm dedupe FILE --config MAP --out DIR`` with a role mapping of the
  columns (the engine standardises Chinese names, hospitals, phones, licences …);
* **baseline**: a plain Splink 4 DuckDB linker written here, on the raw columns: Jaro-Winkler
  on the name, exact match on hospital, city, mobile, licence, department and title; blocking
  on raw name, mobile and licence; u by random sampling, m by EM; clusters at 0.9.

Both are scored against the ground truth: pairwise precision, recall and F1 (pairs within
predicted clusters against pairs within true doctors, from counts per (cluster, true_id), so no
pair is enumerated), and cluster precision, recall and F1 (predicted clusters that are exactly
one doctor's records; doctors whose records form exactly one cluster). Goals at 1,000,000
records: F1 ≥ 0.97, ≤ 3 minutes, ≤ 4 GB.

    .venv/bin/python bench/mdm_dedupe.py                      # 100k and 1M records
    .venv/bin/python bench/mdm_dedupe.py --records 20000 --repeat 1
    .venv/bin/python bench/mdm_dedupe.py --records 1000000 --skip-baseline

Results: a table on stdout and ``bench/results/mdm_dedupe.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import (
    OMNIHCP,
    PYTHON,
    RESULTS,
    SOURCE,
    WORK_ROOT,
    machine_info,
    run_checked,
    source_info,
    table,
    use_git_ref,
    write_json,
)

LONG_RUN_S = 180.0
CLUSTER_THRESHOLD = 0.9
OUR_CONFIG = """\
record_id = "record_id"
person_name = "name"
organisation_name = "hospital"
city = "city"
phone = "mobile"
department = "department"
title = "title"
licence = "licence_no"
gender = "gender"

[thresholds]
cluster = 0.9
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "omnihcp.config.settings"
    env["PYTHONUNBUFFERED"] = "1"
    if SOURCE["pythonpath"]:
        env["PYTHONPATH"] = SOURCE["pythonpath"]
    return env


# ---------------------------------------------------------------- baseline (child process)


def baseline_child(records: Path, out: Path, seed: int) -> None:
    """Plain Splink 4 on DuckDB, raw columns, generic comparisons; writes ``clusters.csv``."""
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    columns = ["record_id", "name", "hospital", "city", "department", "title", "mobile"]
    frame = pd.read_csv(records, dtype=str, usecols=[*columns, "licence_no"])
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name"),
            cl.ExactMatch("hospital"),
            cl.ExactMatch("city"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("licence_no"),
            cl.ExactMatch("department"),
            cl.ExactMatch("title"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name"),
            block_on("mobile"),
            block_on("licence_no"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(frame, settings, DuckDBAPI(), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("mobile"), block_on("licence_no")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
    predictions = linker.inference.predict(threshold_match_probability=CLUSTER_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_THRESHOLD
    ).as_pandas_dataframe()
    out.mkdir(parents=True, exist_ok=True)
    clusters[["record_id", "cluster_id"]].to_csv(out / "clusters.csv", index=False)
    print(f"{len(frame)} records, {clusters['cluster_id'].nunique()} clusters")


# ---------------------------------------------------------------- scoring


def _pairs(sizes: Any) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def score(truth: Any, clusters_csv: Path) -> dict[str, Any]:
    """Pairwise and cluster metrics of ``clusters.csv`` against ``truth`` (record_id, true_id)."""
    import pandas as pd

    clusters = pd.read_csv(clusters_csv, dtype=str)
    frame = truth.merge(clusters, on="record_id", how="left")
    unclustered = frame["cluster_id"].isna()
    # A record the engine left out is its own cluster.
    frame.loc[unclustered, "cluster_id"] = "single:" + frame.loc[unclustered, "record_id"]
    predicted = _pairs(frame.groupby("cluster_id").size())
    true = _pairs(frame.groupby("true_id").size())
    both = _pairs(frame.groupby(["cluster_id", "true_id"]).size())
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # A cluster is exact when it holds one doctor's records and all of them.
    cells = frame.groupby(["cluster_id", "true_id"]).size().rename("n").reset_index()
    cluster_size = frame.groupby("cluster_id").size()
    true_size = frame.groupby("true_id").size()
    cells["exact"] = (cells["n"].to_numpy() == cluster_size[cells["cluster_id"]].to_numpy()) & (
        cells["n"].to_numpy() == true_size[cells["true_id"]].to_numpy()
    )
    exact = int(cells["exact"].sum())
    c_precision = exact / len(cluster_size)
    c_recall = exact / len(true_size)
    c_f1 = 2 * c_precision * c_recall / (c_precision + c_recall) if exact else 0.0
    # Per noise kind: share of records with that noise whose doctor was reconstructed exactly,
    # and share merged with another doctor's records.
    exact_true = set(cells.loc[cells["exact"], "true_id"])
    mixed_clusters = set(
        cells.loc[cells["n"] < cluster_size[cells["cluster_id"]].to_numpy(), "cluster_id"]
    )
    frame["ok"] = frame["true_id"].isin(exact_true)
    frame["merged"] = frame["cluster_id"].isin(mixed_clusters)
    kinds = frame["noise"].fillna("").str.split("|").explode()
    kinds = kinds.replace("", "none")
    by_kind = (
        pd.DataFrame(
            {
                "kind": kinds,
                "ok": frame["ok"].reindex(kinds.index),
                "merged": frame["merged"].reindex(kinds.index),
            }
        )
        .groupby("kind")
        .agg(records=("ok", "size"), exact=("ok", "mean"), merged=("merged", "mean"))
    )
    by_source = frame.groupby(true_size[frame["true_id"]].to_numpy()).agg(
        records=("ok", "size"), exact=("ok", "mean")
    )
    return {
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": f1,
        "cluster_precision": c_precision,
        "cluster_recall": c_recall,
        "cluster_f1": c_f1,
        "predicted_pairs": predicted,
        "true_pairs": true,
        "correct_pairs": both,
        "predicted_clusters": len(cluster_size),
        "true_entities": len(true_size),
        "by_noise": {
            k: {"records": int(r.records), "exact": float(r.exact), "merged": float(r.merged)}
            for k, r in by_kind.iterrows()
        },
        "by_records_per_doctor": {
            str(k): {"records": int(r.records), "exact": float(r.exact)}
            for k, r in by_source.iterrows()
        },
    }


# ---------------------------------------------------------------- runs


def generate(n: int, seed: int) -> Path:
    out = WORK_ROOT / f"dedupe-{n}"
    records = out / "hcp_records.csv"
    if not records.exists():
        command = [str(OMNIHCP), "demo_noisy", "--hcp-records", str(n), "--hospital-names", "1"]
        run_checked([*command, "--seed", str(seed), "--out", str(out)], child_env())
    return records


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_limited(
    command: list[str], log: Path, limit: float | None, max_rss_mib: float | None = None
) -> tuple[float, float, int, str]:
    """Like ``benchlib.run_measured`` (wall time, the child's own peak RSS from ``wait4``), but
    the child's process group is killed after ``limit`` seconds. Returns seconds, peak MiB,
    exit code and why it was stopped ("" if it was not): "time", or "memory" when its resident
    set exceeded ``max_rss_mib``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    stopped = ""
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, env=child_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not stopped and limit is not None and time.perf_counter() - started > limit:
                stopped = "time"
            elif not stopped and max_rss_mib and _rss_mib(proc.pid) > max_rss_mib:
                stopped = "memory"
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, stopped


def measure(
    engine: str, records: Path, n: int, run: int, args: argparse.Namespace
) -> tuple[dict[str, Any], Path]:
    seed = args.seed
    out = WORK_ROOT / f"dedupe-{n}" / f"{engine}-{run}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if engine == "ours":
        config = out / "config.toml"
        config.write_text(OUR_CONFIG, encoding="utf-8")
        command = [str(OMNIHCP), "mdm", "dedupe", str(records), "--config", str(config)]
        command += ["--out", str(out)]
    else:
        command = [str(PYTHON), __file__, "--baseline-child", str(records), "--child-out"]
        command += [str(out), "--seed", str(seed)]
    log = WORK_ROOT / "logs" / f"mdm-dedupe-{engine}-{n}-{run}.log"
    limit = args.baseline_timeout if engine == "baseline" else None
    seconds, peak, returncode, stopped = run_limited(command, log, limit, args.max_rss_mib)
    output = log.read_text(errors="replace").strip()[-2000:]
    if returncode != 0 and not stopped:
        raise RuntimeError(f"{engine} at {n} failed ({returncode}):\n{output}")
    state = f"stopped ({stopped}) after {seconds:.0f} s" if stopped else f"{seconds:.1f} s"
    print(f"  {engine} {n:,} run {run}: {state}, {peak:.0f} MiB", flush=True)
    result = {"wall_s": seconds, "peak_rss_mib": peak, "stopped": stopped, "output": output}
    return result, out / "clusters.csv"


def bench_size(args: argparse.Namespace, n: int, engine: str) -> dict[str, Any]:
    import pandas as pd

    records = generate(n, args.seed)
    truth = pd.read_csv(records, dtype=str, usecols=["record_id", "true_id", "noise"])
    runs: list[dict[str, Any]] = []
    repeat = args.repeat
    metrics: dict[str, Any] = {}
    run = 0
    while run < (repeat or 1):
        result, clusters = measure(engine, records, n, run, args)
        runs.append(result)
        if result["stopped"]:
            return {
                "engine": engine,
                "records": n,
                "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "runs": len(runs),
                "stopped_after_s": result["wall_s"],
                "stopped_for": result["stopped"],
                "peak_rss_mib_when_stopped": result["peak_rss_mib"],
                "all_runs": runs,
            }
        if run == 0:
            metrics = score(truth, clusters)
            if repeat is None:
                repeat = 1 if result["wall_s"] > LONG_RUN_S else 3
        run += 1
    return {
        "engine": engine,
        "records": n,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": len(runs),
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
        "all_runs": runs,
        **metrics,
    }


def _row(r: dict[str, Any]) -> list[str]:
    head = [r["engine"], f"{r['records']:,}", str(r["runs"])]
    if "stopped_after_s" in r:
        stopped = f"stopped ({r.get('stopped_for', 'time')}) after {r['stopped_after_s']:.0f} s"
        return [*head, *["-"] * 6, stopped, f"{r['peak_rss_mib_when_stopped']:.0f}"]
    metrics = ["pair_precision", "pair_recall", "pair_f1"]
    metrics += ["cluster_precision", "cluster_recall", "cluster_f1"]
    return [
        *head,
        *(f"{r[m]:.4f}" for m in metrics),
        f"{r['wall_s']:.1f}",
        f"{r['peak_rss_mib']:.0f}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="100000,1000000", help="sizes, comma-separated")
    parser.add_argument(
        "--repeat", type=int, help="runs per size (default 1 above 3 minutes, else 3)"
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="run only the baseline")
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        help="kill the baseline after this many seconds and record it as stopped",
    )
    parser.add_argument(
        "--max-rss-mib",
        type=float,
        help="kill either engine when its resident set exceeds this and record it as stopped",
    )
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--out", type=Path, default=RESULTS / "mdm_dedupe.json")
    parser.add_argument("--git-ref", help="measure a git archive snapshot of REF")
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        baseline_child(args.baseline_child, args.child_out, args.seed)
        return 0
    if args.git_ref:
        use_git_ref(args.git_ref)
    sizes = [int(s.replace("_", "")) for s in args.records.split(",") if s]
    engines = [e for e in ("ours", "baseline") if not getattr(args, f"skip_{e}")]
    results = []
    for n in sizes:
        for engine in engines:
            results.append(bench_size(args, n, engine))
    headers = [
        "engine",
        "records",
        "runs",
        "pair P",
        "pair R",
        "pair F1",
        "cluster P",
        "cluster R",
        "cluster F1",
        "wall s",
        "peak RSS MiB",
    ]
    command = " ".join([".venv/bin/python", "bench/mdm_dedupe.py", *sys.argv[1:]])
    for result in results:
        result["command"] = command
        result["load_average_after"] = os.getloadavg()
    # Sizes measured by earlier invocations stay in the file unless measured again.
    done = {(r["engine"], r["records"]) for r in results}
    if args.out.exists():
        earlier = json.loads(args.out.read_text())["results"]
        results += [r for r in earlier if (r["engine"], r["records"]) not in done]
    results.sort(key=lambda r: (r["records"], r["engine"] != "ours"))
    print(table(headers, [_row(r) for r in results]))
    write_json(
        args.out,
        {
            "command": command,
            "machine": machine_info(),
            "source": source_info(),
            "args": {k: str(v) for k, v in vars(args).items() if v is not None},
            "our_config": OUR_CONFIG,
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
