"""Tracking API benchmarks (issue 4): batch ingestion rate against a bulk-INSERT ceiling, single
``track`` latency at a fixed request rate, and no loss when the server is SIGKILLed mid-load.

For each backend a throwaway database is migrated and given the demo company (``omnihcp demo
--hcps 2000``), a tracking source and 5,000 of the source's 10,000 user ids linked to HCPs
(``ExternalIdentity``), so ingestion resolves identities as it would in production. The server
is the production one, ``omnihcp web`` (gunicorn, 3 workers × 2 threads on this machine's 2
cores), with DEBUG off.

* ingest: N events (default 200,000; ~330 bytes each, Segment ``track`` messages as
  analytics-python sends them) in ``/v1/batch`` requests of 500 messages, from 4 client threads
  over keep-alive connections; sustained events/s = N / wall time from the first request to
  the last answer. In the same run, the same rows (as the service would store them, JSON
  pre-serialised) are bulk-INSERTed into the same table in transactions of 500 by one driver
  connection (sqlite3 / psycopg) — the database's ceiling; the ratio is ours / ceiling.
* latency: single ``/v1/track`` calls at a fixed rate (default 200/s for 30 s), open loop: each
  request has a scheduled start, and its latency counts from that start, so a slow answer that
  delays later requests is counted (no coordinated omission).
* kill: a client sends batches of 200 and retries any batch without a 2xx answer; after 2 s the
  server's whole process group gets SIGKILL, the database is checked (every acknowledged message
  stored), the server restarts and the client finishes; then every message sent must be stored
  exactly once.

    .venv/bin/python bench/tracking.py                       # both backends, 3 repeats
    .venv/bin/python bench/tracking.py --backends sqlite --events 50000 --repeat 1

Prints a table and writes ``bench/results/tracking.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    OMNIHCP,
    RESULTS,
    WORK_ROOT,
    Database,
    free_port,
    machine_info,
    migrate,
    percentile,
    run_checked,
    source_info,
    table,
    wait_listening,
    write_json,
)

# gunicorn: 3 processes × 2 threads measured best on 2 cores (threads of one process share
# its GIL, which showed in the p99; processes do not).
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
USERS = 10_000
LINKED_USERS = 5_000
EVENTS = ("Article Read", "Video Played", "Quiz Answered", "Page Viewed")
SETUP = """
from omnihcp.masterdata.models import HCP, ExternalIdentity
from omnihcp.tracking.services import source_create
_source, key = source_create(actor=None, name="Bench platform", code="bench")
hcps = list(HCP.objects.order_by("id").values_list("id", flat=True))
ExternalIdentity.objects.bulk_create(
    [ExternalIdentity(source="bench", external_id=f"user-{{i}}", hcp_id=hcps[i % len(hcps)])
     for i in range({linked})], batch_size=1000)
print(key)
"""


def message(run: str, i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"{run}-{i}",
        "userId": f"user-{i % USERS}",
        "event": EVENTS[i % len(EVENTS)],
        "timestamp": "2026-11-20T02:00:00.000Z",
        "properties": {
            "content_id": f"c-{i % 300}",
            "channel": "wecom",
            "dwell_seconds": i % 120,
            "scroll_depth": 0.75,
        },
        "context": {"library": {"name": "analytics-python", "version": "2.3.3"}},
    }


def batches(run: str, events: int, size: int) -> list[tuple[list[str], bytes]]:
    """Request bodies, serialised before timing; each with its message ids."""
    out = []
    for start in range(0, events, size):
        items = [message(run, i) for i in range(start, min(start + size, events))]
        body = json.dumps({"batch": items, "sentAt": "2026-11-20T02:00:01.000Z"}).encode()
        out.append(([item["messageId"] for item in items], body))
    return out


class Server:
    """``omnihcp web`` in its own process group, so SIGKILL reaches master and workers."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(OMNIHCP),
                    "web",
                    "--workers",
                    str(WORKERS),
                    "--threads",
                    str(THREADS),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--keep-alive",
                    "30",
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_listening(self.port, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def setup(backend: str) -> tuple[Database, str]:
    db = Database(backend=backend, name=f"omnihcp_bench_tracking_{backend}")
    db.create()
    migrate(db)
    env = db.env(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(32))
    run_checked([str(OMNIHCP), "demo", "--hcps", "2000", "--no-engagement"], env)
    out = run_checked([str(OMNIHCP), "shell", "-c", SETUP.format(linked=LINKED_USERS)], env)
    return db, out.strip().splitlines()[-1]


def headers(key: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def send_all(url: str, key: str, bodies: list[tuple[list[str], bytes]], threads: int) -> float:
    """Send every body once (each must be answered 200); wall seconds."""
    local = threading.local()
    head = headers(key)

    def send(item: tuple[list[str], bytes]) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.post(f"{url}/api/v1/batch", data=item[1], headers=head, timeout=60)
        if response.status_code != 200 or response.json()["accepted"] != len(item[0]):
            raise RuntimeError(f"batch refused: {response.status_code} {response.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, bodies))
    return time.perf_counter() - started


def connect(db: Database) -> Any:
    if db.backend == "sqlite":
        conn = sqlite3.connect(db.sqlite_path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn
    import psycopg

    return psycopg.connect(db.url, autocommit=True)


def ceiling(db: Database, run: str, events: int, size: int) -> float:
    """The same rows bulk-INSERTed by one driver connection, 500 per transaction: seconds."""
    linked = dict(_linked(db))
    received = "2026-11-20 02:00:01+00:00"
    rows = []
    for i in range(events):
        m = message(run, i)
        rows.append(
            (
                "ceiling",
                m["messageId"],
                "track",
                m["event"],
                linked.get(m["userId"]),
                m["userId"],
                "",
                "wecom",
                m["properties"]["content_id"],
                "2026-11-20 02:00:00+00:00",
                received,
                json.dumps(m["properties"]),
                json.dumps(m["context"]),
            )
        )
    mark = "?" if db.backend == "sqlite" else "%s"
    sql = (
        "INSERT INTO tracking_activity (stream, message_id, type, event, hcp_id, user_id, "
        "anonymous_id, channel, content_ref, occurred_at, received_at, properties, context) "
        f"VALUES ({', '.join([mark] * 13)})"
    )
    conn = connect(db)
    try:
        started = time.perf_counter()
        for start in range(0, events, size):
            chunk = rows[start : start + size]
            if db.backend == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, chunk)
                conn.execute("COMMIT")
            else:
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(sql, chunk)
        return time.perf_counter() - started
    finally:
        conn.close()


def _linked(db: Database) -> list[tuple[str, int]]:
    conn = connect(db)
    try:
        cursor = conn.execute(
            "SELECT external_id, hcp_id FROM masterdata_externalidentity WHERE source = 'bench'"
        )
        return list(cursor.fetchall())
    finally:
        conn.close()


def stored(db: Database, prefix: str) -> tuple[int, int, set[str]]:
    """Rows of the run, distinct message ids, and the ids themselves."""
    conn = connect(db)
    try:
        mark = "?" if db.backend == "sqlite" else "%s"
        cursor = conn.execute(
            f"SELECT message_id FROM tracking_activity WHERE stream = 'bench' "
            f"AND message_id LIKE {mark}",
            (f"{prefix}-%",),
        )
        ids = [row[0] for row in cursor.fetchall()]
        return len(ids), len(set(ids)), set(ids)
    finally:
        conn.close()


def measure_ingest(
    db: Database, url: str, key: str, args: argparse.Namespace, rep: int
) -> dict[str, Any]:
    run = f"ingest{rep}"
    bodies = batches(run, args.events, 500)
    seconds = send_all(url, key, bodies, threads=4)
    rows, distinct, _ids = stored(db, run)
    assert rows == distinct == args.events, (rows, distinct)
    ceiling_seconds = ceiling(db, f"ceiling{rep}", args.events, 500)
    ours, plain = args.events / seconds, args.events / ceiling_seconds
    return {
        "events": args.events,
        "seconds": seconds,
        "events_per_s": ours,
        "ceiling_seconds": ceiling_seconds,
        "ceiling_events_per_s": plain,
        "ratio": ours / plain,
    }


def measure_latency(url: str, key: str, args: argparse.Namespace, rep: int) -> dict[str, Any]:
    count = int(args.rate * args.seconds)
    head = headers(key)
    local = threading.local()
    latencies: list[float] = [0.0] * count
    failures = 0
    bodies = [json.dumps(message(f"single{rep}", i)).encode() for i in range(count)]
    warm = requests.Session()
    for i in range(100):  # every server thread has connected and loaded its code (untimed)
        warm.post(f"{url}/api/v1/track", data=json.dumps(message(f"warm{rep}", i)), headers=head)
    start = time.perf_counter() + 0.5

    def call(i: int) -> None:
        nonlocal failures
        due = start + i / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.post(f"{url}/api/v1/track", data=bodies[i], headers=head, timeout=30)
        latencies[i] = (time.perf_counter() - due) * 1000
        if response.status_code != 200:
            failures += 1

    with ThreadPoolExecutor(48) as pool:
        list(pool.map(call, range(count)))
    achieved = count / (time.perf_counter() - start)
    return {
        "requests": count,
        "target_rps": args.rate,
        "achieved_rps": achieved,
        "failures": failures,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
    }


def measure_kill(db: Database, server: Server, url: str, key: str, rep: int) -> dict[str, Any]:
    run = f"kill{rep}"
    bodies = batches(run, 60_000, 200)
    head = headers(key)
    acked: set[str] = set()
    lock = threading.Lock()
    attempts = {"sent": 0, "failed": 0}

    def send(item: tuple[list[str], bytes]) -> None:
        session = requests.Session()
        while True:
            attempts["sent"] += 1
            try:
                response = session.post(
                    f"{url}/api/v1/batch", data=item[1], headers=head, timeout=10
                )
                if response.status_code == 200:
                    with lock:
                        acked.update(item[0])
                    return
            except requests.RequestException:
                session = requests.Session()
            attempts["failed"] += 1
            time.sleep(0.2)

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(send, item) for item in bodies]
        time.sleep(2.0)
        server.kill()
        with lock:
            acked_at_kill = set(acked)
        _rows, _distinct, ids = stored(db, run)
        lost = len(acked_at_kill - ids)
        server.start()
        for future in futures:
            future.result()
    rows, distinct, ids = stored(db, run)
    sent = {mid for mids, _body in bodies for mid in mids}
    return {
        "messages": len(sent),
        "acknowledged_before_kill": len(acked_at_kill),
        "acknowledged_lost_at_kill": lost,
        "failed_attempts": attempts["failed"],
        "stored_rows": rows,
        "stored_distinct": distinct,
        "missing": len(sent - ids),
        "doubled": rows - distinct,
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"  {backend}: database, demo company and source (not timed)…", flush=True)
    db, key = setup(backend)
    port = free_port()
    env = db.env(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(32), ALLOWED_HOSTS="127.0.0.1")
    server = Server(env, port, WORK_ROOT / "logs" / f"tracking-{backend}.log")
    url = f"http://127.0.0.1:{port}"
    server.start()
    out: dict[str, Any] = {"ingest": [], "latency": [], "kill": []}
    try:
        for rep in range(args.repeat):
            if "ingest" in args.only:
                out["ingest"].append(measure_ingest(db, url, key, args, rep))
                print(f"  {backend} ingest #{rep + 1}: {out['ingest'][-1]}", flush=True)
            if "latency" in args.only:
                out["latency"].append(measure_latency(url, key, args, rep))
                print(f"  {backend} latency #{rep + 1}: {out['latency'][-1]}", flush=True)
            if "kill" in args.only:
                out["kill"].append(measure_kill(db, server, url, key, rep))
                print(f"  {backend} kill #{rep + 1}: {out['kill'][-1]}", flush=True)
    finally:
        server.stop()
        if not args.keep:
            db.drop()
    return out


def _bad(kill: dict[str, Any]) -> int:
    return int(kill["acknowledged_lost_at_kill"] + kill["missing"] + kill["doubled"])


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="ingest,latency,kill")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--out", default="tracking.json", help="file name under bench/results")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    results = {}
    for backend in args.backends.split(","):
        results[backend] = run_backend(backend, args)
    rows = []
    for backend, out in results.items():
        ingest, latency, kill = out["ingest"], out["latency"], out["kill"]
        rows.append(
            [
                backend,
                f"{median(ingest, 'events_per_s'):,.0f}" if ingest else "-",
                f"{median(ingest, 'ceiling_events_per_s'):,.0f}" if ingest else "-",
                f"{median(ingest, 'ratio'):.2f}" if ingest else "-",
                f"{median(latency, 'p50_ms'):.1f}" if latency else "-",
                f"{median(latency, 'p99_ms'):.1f}" if latency else "-",
                f"{sum(_bad(k) for k in kill)} of {sum(k['messages'] for k in kill):,}"
                if kill
                else "-",
            ]
        )
    print(
        table(
            [
                "backend",
                "API events/s",
                "bulk INSERT events/s",
                "ratio",
                "track p50 ms",
                "track p99 ms",
                "lost or doubled",
            ],
            rows,
        )
    )
    write_json(
        RESULTS / args.out,
        {
            "machine": machine_info(),
            "source": source_info(),
            "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
