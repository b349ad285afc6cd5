"""Benchmark of HCP search at a million HCPs: ``GET /api/md/hcps/search?q=...&limit=20``.

Setup, not timed: a database holding the demo company at ``--hcps`` HCPs (generated here, or
the one ``bench/seed.py --keep`` left with ``--reuse``); a worker process inside Django issues
an API token per user and samples queries deterministically from the rows the user may see;
then the real server (``omnihcp serve``, DEBUG=0) starts as a child process.

Measured, per backend and user (``exec``: every HCP; ``rep_hangzhou``: territory-scoped):

* HTTP: client-observed latency of each request over loopback on one keep-alive connection
  (request sent → body read), after ``--warmup`` untimed requests: token authentication, the
  scope query, the search and JSON rendering. The client sets ``TCP_QUICKACK`` so the figure
  is server time; a second pass without it ("plain", skip with ``--no-plain``) shows what an
  ordinary keep-alive client gets from the development server (Nagle + delayed ACK, ~40 ms).
* selector: ``masterdata.selectors.hcp_search`` called directly in the worker process, after
  one untimed pass over every query (``--no-warm-pass``: the first ``--warmup`` only); the
  database part of a request. This pass runs first, so the HTTP passes find warm caches.

Before measuring, PostgreSQL gets ``ANALYZE`` (autovacuum would do it after the load; the
benchmark server may run with autovacuum off); SQLite is left as the application leaves it,
without statistics (``--analyze all|none`` changes that).

Query kinds (``--per-kind`` each): ``name`` (full Chinese names and surname + first given
character), ``pinyin`` (``name_pinyin`` and prefixes of it), ``initials`` (``name_initials``,
e.g. "zw") and ``hospital`` (``HCO.name`` of the primary HCO of a sampled HCP, or of a
sampled HCO). The slowest queries are explained (``EXPLAIN ANALYZE`` on PostgreSQL,
``EXPLAIN QUERY PLAN`` on SQLite) in the JSON.

    .venv/bin/python bench/search.py                 # generate 1M HCPs per backend, then search
    .venv/bin/python bench/seed.py --keep            # or: seed, keeping the 1M databases...
    .venv/bin/python bench/search.py --reuse         # ...and search those (dropped afterwards)

Results: a table on stdout and ``bench/results/search.json``. The databases are dropped at the
end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchlib import (
    BACKENDS,
    OMNIHCP,
    PYTHON,
    REPO,
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
    use_git_ref,
    wait_listening,
    write_json,
)

KINDS = ("name", "pinyin", "initials", "hospital")
USERS = ("exec", "rep_hangzhou")
LIMIT = 20
TARGET_MS = 100.0
DEFAULT_SEED = 20261123


# ------------------------------------------------------------------------- worker (in Django)
def worker(
    out: Path,
    *,
    users: list[str],
    per_kind: int,
    warmup: int,
    seed: int,
    explain: int,
    warm_pass: bool,
) -> None:
    """Inside Django: tokens, sampled queries, selector timings and plans of the slowest."""
    import django

    django.setup()
    from omnihcp.org.models import User
    from omnihcp.org.selectors import scope_for_user
    from omnihcp.org.services import api_token_issue

    result: dict[str, Any] = {}
    for username in users:
        user = User.objects.get(username=username)
        _token, raw = api_token_issue(actor=None, user=user, name=f"bench-{secrets.token_hex(4)}")
        scope = scope_for_user(user=user)
        rng = random.Random(f"{seed}-{username}")
        queries, visible = sample_queries(scope, rng, per_kind)
        rng.shuffle(queries)  # kinds interleaved, so caches warm evenly
        timed = time_selector(scope, queries, warmup, warm_pass=warm_pass)
        result[username] = {
            "token": raw,
            "role": user.role,
            "visible_hcps": visible,
            "queries": queries,
            "selector_ms": [t["ms"] for t in timed],
            "selector_hits": [t["hits"] for t in timed],
            "slowest": explain_slowest(scope, queries, timed, explain),
        }
    out.write_text(json.dumps(result, ensure_ascii=False))


def sample_queries(
    scope: Any, rng: random.Random, per_kind: int
) -> tuple[list[dict[str, str]], int]:
    from omnihcp.masterdata.models import HCO, HCP, RecordStatus

    hcps = scope.filter_hcos(HCP.objects.filter(status=RecordStatus.ACTIVE), "primary_hco_id")
    ids = list(hcps.order_by("id").values_list("id", flat=True))
    picked = rng.sample(ids, min(len(ids), per_kind * 3))
    rows = {
        pk: (name, pinyin, initials, hco_name)
        for pk, name, pinyin, initials, hco_name in HCP.objects.filter(pk__in=picked).values_list(
            "id", "name", "name_pinyin", "name_initials", "primary_hco__name"
        )
    }
    sample = [rows[pk] for pk in picked]
    hcos = scope.filter_hcos(HCO.objects.filter(status=RecordStatus.ACTIVE))
    hco_ids = list(hcos.order_by("id").values_list("id", flat=True))
    hco_names = dict(
        HCO.objects.filter(pk__in=rng.sample(hco_ids, min(len(hco_ids), per_kind))).values_list(
            "id", "name"
        )
    )
    uniform_hcos = sorted(hco_names.items())
    rng.shuffle(uniform_hcos)

    queries: list[dict[str, str]] = []
    for i in range(per_kind):
        name, pinyin, initials, hco_name = sample[i % len(sample)]
        # Full name, or surname and the first character of the given name.
        queries.append({"kind": "name", "q": name if i % 2 == 0 else name[:2]})
        name, pinyin, initials, hco_name = sample[(per_kind + i) % len(sample)]
        cut = rng.randint(3, max(3, len(pinyin) - 1))
        queries.append({"kind": "pinyin", "q": pinyin if i % 2 == 0 else pinyin[:cut]})
        name, pinyin, initials, hco_name = sample[(2 * per_kind + i) % len(sample)]
        queries.append({"kind": "initials", "q": initials})
        # The hospital of a sampled doctor (weighted by doctors), or any HCO in scope.
        if i % 2 == 0 or not uniform_hcos:
            queries.append({"kind": "hospital", "q": hco_name})
        else:
            queries.append({"kind": "hospital", "q": uniform_hcos[i % len(uniform_hcos)][1]})
    return queries, len(ids)


def time_selector(
    scope: Any, queries: list[dict[str, str]], warmup: int, *, warm_pass: bool
) -> list[dict[str, Any]]:
    from omnihcp.masterdata.selectors import hcp_search

    for query in queries if warm_pass else queries[:warmup]:
        hcp_search(scope=scope, q=query["q"], limit=LIMIT)
    timed = []
    for query in queries:
        started = time.perf_counter()
        hits = hcp_search(scope=scope, q=query["q"], limit=LIMIT)
        timed.append({"ms": (time.perf_counter() - started) * 1000, "hits": len(hits)})
    return timed


def explain_slowest(
    scope: Any, queries: list[dict[str, str]], timed: list[dict[str, Any]], count: int
) -> list[dict[str, Any]]:
    """Rerun the slowest searches capturing their SQL; explain the slowest statement of each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from omnihcp.masterdata.selectors import hcp_search

    order = sorted(range(len(queries)), key=lambda i: timed[i]["ms"], reverse=True)
    slowest = []
    for i in order[:count]:
        with CaptureQueriesContext(connection) as captured:
            hcp_search(scope=scope, q=queries[i]["q"], limit=LIMIT)
        statements: list[tuple[float, str]] = [
            (float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries
        ]
        _worst_ms, worst_sql = max(statements)
        prefix = (
            "EXPLAIN (ANALYZE, BUFFERS) "
            if connection.vendor == "postgresql"
            else "EXPLAIN QUERY PLAN "
        )
        with connection.cursor() as cursor:
            cursor.execute(prefix + worst_sql)
            plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
        slowest.append(
            {
                **queries[i],
                "ms": timed[i]["ms"],
                "statements": [{"ms": ms, "sql": sql} for ms, sql in statements],
                "plan": plan,
            }
        )
    return slowest


# ------------------------------------------------------------------------- HTTP client
class Client:
    """One keep-alive connection; reconnects (untimed) when the server closes it.

    With ``quickack`` the client acknowledges every segment at once (Linux ``TCP_QUICKACK``).
    The development server sends the status line, the headers and the body in separate small
    writes; on a reused connection Nagle's algorithm then holds the body until the client's
    delayed ACK (~40 ms), a wait that is not server time. ``plain`` measures it as it is.
    """

    def __init__(self, port: int, token: str, *, quickack: bool) -> None:
        self.port = port
        self.quickack = quickack and hasattr(socket, "TCP_QUICKACK")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.reconnects = 0

    def search(self, q: str) -> tuple[float, int]:
        path = "/api/md/hcps/search?" + urlencode({"q": q, "limit": LIMIT})
        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.conn.request("GET", path, headers=self.headers)
                if self.quickack and self.conn.sock is not None:
                    self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                response = self.conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - started) * 1000
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                if attempt:
                    raise
                self.reconnect()
                continue
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
            if response.will_close:
                self.reconnect()
            return elapsed, len(json.loads(body)["items"])
        raise AssertionError("unreachable")

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.reconnects += 1

    def close(self) -> None:
        self.conn.close()


def time_http(
    port: int, token: str, queries: list[dict[str, str]], warmup: int, *, quickack: bool
) -> dict[str, Any]:
    client = Client(port, token, quickack=quickack)
    try:
        for query in queries[:warmup]:
            client.search(query["q"])
        timed = [client.search(query["q"]) for query in queries]
    finally:
        client.close()
    return {
        "ms": [t[0] for t in timed],
        "hits": [t[1] for t in timed],
        "reconnects": client.reconnects,
    }


# ------------------------------------------------------------------------- orchestration
def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def prepare_database(backend: str, hcps: int, *, reuse: bool) -> tuple[Database, bool]:
    """The database to search, and whether it was reused from ``bench/seed.py --keep``."""
    kept = Database(backend=backend, name=f"omnihcp_bench_seed_{backend}_{hcps}")
    if reuse and kept.exists():
        print(f"  {backend}: reusing {kept.location}", flush=True)
        return kept, True
    db = Database(backend=backend, name=f"omnihcp_bench_search_{backend}_{hcps}")
    print(f"  {backend}: generating {hcps:,} HCPs in {db.location} (not timed)…", flush=True)
    db.create()
    migrate(db)
    started = time.perf_counter()
    env = db.env(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(32))
    run_checked([str(OMNIHCP), "demo", "--hcps", str(hcps), "--no-engagement"], env)
    print(f"  {backend}: generated in {time.perf_counter() - started:.0f} s", flush=True)
    return db, False


def start_server(db: Database, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = WORK_ROOT / "logs" / f"serve-{db.backend}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(OMNIHCP), "serve", f"127.0.0.1:{port}"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(port, proc)
    except Exception:
        stop_server(proc)
        print(log.read_text(errors="replace"), file=sys.stderr)
        raise
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    db, reused = prepare_database(backend, args.hcps, reuse=args.reuse)
    analyzed = args.analyze in ("all", backend)
    try:
        if analyzed:
            print(f"  {backend}: ANALYZE (not timed)…", flush=True)
            db.analyze()
        env = db.env(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(48), ALLOWED_HOSTS="127.0.0.1")
        prepared = WORK_ROOT / f"search-prepared-{backend}.json"
        print(f"  {backend}: tokens, queries and selector timings (worker)…", flush=True)
        run_checked(
            [
                str(PYTHON),
                str(Path(__file__).resolve()),
                "--worker",
                str(prepared),
                "--users",
                ",".join(args.users),
                "--per-kind",
                str(args.per_kind),
                "--warmup",
                str(args.warmup),
                "--seed",
                str(args.seed),
                "--explain",
                str(args.explain),
                *([] if args.warm_pass else ["--no-warm-pass"]),
            ],
            env,
        )
        work = json.loads(prepared.read_text())
        prepared.unlink()
        port = free_port()
        server = start_server(db, env, port)
        try:
            for username in args.users:
                w = work[username]
                print(f"  {backend}: HTTP as {username}…", flush=True)
                w["http"] = time_http(port, w["token"], w["queries"], args.warmup, quickack=True)
                if args.plain:
                    print(f"  {backend}: HTTP as {username}, plain keep-alive…", flush=True)
                    w["http_plain"] = time_http(
                        port, w["token"], w["queries"], args.warmup, quickack=False
                    )
        finally:
            stop_server(server)
    finally:
        if args.keep:
            print(f"  {backend}: kept {db.location}", flush=True)
        else:
            db.drop()
    return {
        "backend": backend,
        "database_reused": reused,
        "analyzed": analyzed,
        "users": summarise(work),
    }


def summarise(work: dict[str, Any]) -> dict[str, Any]:
    users: dict[str, Any] = {}
    for username, w in work.items():
        kinds: dict[str, Any] = {}
        for kind in (*KINDS, "all"):
            idx = [i for i, q in enumerate(w["queries"]) if kind in ("all", q["kind"])]
            http_ms = [w["http"]["ms"][i] for i in idx]
            selector_ms = [w["selector_ms"][i] for i in idx]
            hits = [w["http"]["hits"][i] for i in idx]
            kinds[kind] = {
                "count": len(idx),
                "http_ms": stats(http_ms),
                "http_plain_ms": stats([w["http_plain"]["ms"][i] for i in idx])
                if "http_plain" in w
                else None,
                "selector_ms": stats(selector_ms),
                "p95_under_100ms": percentile(http_ms, 95) < TARGET_MS,
                "mean_hits": statistics.fmean(hits),
                "zero_hit_share": sum(h == 0 for h in hits) / len(hits),
            }
        slow = sorted(
            (
                {"kind": w["queries"][i]["kind"], "q": w["queries"][i]["q"], "http_ms": ms}
                for i, ms in enumerate(w["http"]["ms"])
            ),
            key=lambda s: s["http_ms"],
            reverse=True,
        )
        users[username] = {
            "role": w["role"],
            "visible_hcps": w["visible_hcps"],
            "reconnects": w["http"]["reconnects"] + w.get("http_plain", {}).get("reconnects", 0),
            "kinds": kinds,
            "slowest_http": slow[:10],
            "slowest_selector": w["slowest"],
            "queries": [
                {
                    **q,
                    "http_ms": w["http"]["ms"][i],
                    "http_plain_ms": w["http_plain"]["ms"][i] if "http_plain" in w else None,
                    "selector_ms": w["selector_ms"][i],
                    "hits": w["http"]["hits"][i],
                }
                for i, q in enumerate(w["queries"])
            ],
        }
    return users


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        for username, u in r["users"].items():
            for kind, k in u["kinds"].items():
                h, s, plain = k["http_ms"], k["selector_ms"], k["http_plain_ms"]
                rows.append(
                    [
                        r["backend"],
                        username,
                        kind,
                        str(k["count"]),
                        f"{h['median']:.1f}",
                        f"{h['p95']:.1f}",
                        f"{h['p99']:.1f}",
                        f"{h['max']:.1f}",
                        f"{s['median']:.1f}",
                        f"{s['p95']:.1f}",
                        f"{plain['median']:.1f}" if plain else "",
                        f"{plain['p95']:.1f}" if plain else "",
                        "yes" if k["p95_under_100ms"] else "NO",
                        f"{k['mean_hits']:.1f}",
                    ]
                )
    headers = [
        "backend",
        "user",
        "kind",
        "n",
        "HTTP med",
        "HTTP p95",
        "HTTP p99",
        "HTTP max",
        "sel med",
        "sel p95",
        "plain med",
        "plain p95",
        "p95<100",
        "hits",
    ]
    return table(headers, rows)


def ratios(results: list[dict[str, Any]]) -> str:
    by = {r["backend"]: r for r in results}
    if not {"sqlite", "postgres"} <= by.keys():
        return ""
    rows = []
    for username, u in by["postgres"]["users"].items():
        for kind, k in u["kinds"].items():
            base = by["sqlite"]["users"][username]["kinds"][kind]
            rows.append(
                [
                    username,
                    kind,
                    f"{k['http_ms']['median'] / base['http_ms']['median']:.2f}",
                    f"{k['http_ms']['p95'] / base['http_ms']['p95']:.2f}",
                ]
            )
    return table(["user", "kind", "PG/SQLite HTTP median", "PG/SQLite HTTP p95"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help="sqlite,postgres")
    parser.add_argument("--hcps", type=int, default=1_000_000)
    parser.add_argument("--users", default=",".join(USERS), help="demo users to search as")
    parser.add_argument("--per-kind", type=int, default=200, help="queries per kind and user")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="query sampling seed")
    parser.add_argument(
        "--no-plain",
        dest="plain",
        action="store_false",
        help="skip the second HTTP pass without TCP_QUICKACK",
    )
    parser.add_argument(
        "--no-warm-pass",
        dest="warm_pass",
        action="store_false",
        help="warm up with --warmup queries only, not one untimed pass over every query",
    )
    parser.add_argument(
        "--analyze",
        choices=["postgres", "all", "none"],
        default="postgres",
        help="run ANALYZE before measuring on these backends (default: PostgreSQL, as "
        "autovacuum would; SQLite as the application leaves it)",
    )
    parser.add_argument("--explain", type=int, default=5, help="slowest searches to explain")
    parser.add_argument(
        "--reuse", action="store_true", help="search the database bench/seed.py --keep left"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--git-ref",
        help="measure a snapshot of this commit (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "search.json")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.users = [u for u in args.users.split(",") if u]
    if args.worker:
        worker(
            args.worker,
            users=args.users,
            per_kind=args.per_kind,
            warmup=args.warmup,
            seed=args.seed,
            explain=args.explain,
            warm_pass=args.warm_pass,
        )
        return 0
    backends = [b for b in args.backends.split(",") if b]
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")

    if args.git_ref:
        use_git_ref(args.git_ref)
    source = source_info()
    machine = machine_info()
    print(
        f"search benchmark: {args.hcps:,} HCPs, backends {backends}, users {args.users}, "
        f"{args.per_kind} queries per kind; {machine['cpu_count']} CPUs, "
        f"Python {machine['python']}; code: {source['ref']} {source['commit']}",
        flush=True,
    )
    results = [run_backend(backend, args) for backend in backends]
    print(
        "\nLatency in ms. HTTP: client-observed over loopback on one keep-alive connection, "
        "client TCP_QUICKACK; sel: hcp_search in-process; plain: keep-alive without "
        "TCP_QUICKACK (adds the dev server's Nagle/delayed-ACK wait); hits: mean results."
    )
    print(report(results))
    if ratio_table := ratios(results):
        print()
        print(ratio_table)
    for r in results:
        for username, u in r["users"].items():
            worst = u["slowest_selector"][:1]
            for s in worst:
                print(
                    f"\nslowest selector call, {r['backend']} as {username}: "
                    f"{s['kind']} {s['q']!r} {s['ms']:.1f} ms; slowest statement plan:\n"
                    f"{s['plan']}"
                )
    write_json(
        args.out,
        {
            "benchmark": "GET /api/md/hcps/search?q=...&limit=20 at "
            f"{args.hcps:,} HCPs (omnihcp serve, DEBUG=0, one keep-alive connection)",
            "machine": machine,
            "source": source,
            "options": {
                "hcps": args.hcps,
                "backends": backends,
                "users": args.users,
                "per_kind": args.per_kind,
                "warmup": args.warmup,
                "seed": args.seed,
                "warm_pass": args.warm_pass,
                "analyze": args.analyze,
                "target_p95_ms": TARGET_MS,
            },
            "results": results,
        },
    )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
    sys.exit(main())
