"""Shared helpers of the benchmark scripts: throwaway databases, measured child processes,
percentiles and machine facts.

Every measurement runs ``omnihcp`` in a child process against a database made for it: a
SQLite file in a temporary directory, or a PostgreSQL database created and dropped here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
PYTHON = BIN / "python"
OMNIHCP = BIN / "omnihcp"
RESULTS = REPO / "bench" / "results"
BACKENDS = ("sqlite", "postgres")
PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
# A fixed personal-information key for every run, so data seeded by one script can be read
# by a server started by another (the key is otherwise derived from SECRET_KEY).
BENCH_PI_KEY = "omnihcp-bench-personal-information-key"
WORK_ROOT = Path(tempfile.gettempdir()) / "omnihcp-bench"
_CLEARED_ENV = ("DATABASE_URL", "OMNIHCP_SQLITE_PATH", "OMNIHCP_VAR_DIR", "DEBUG", "SECRET_KEY")
# The source tree the children import ``omnihcp`` from: the working tree (the editable
# install) unless ``use_git_ref`` put a snapshot of a commit first on PYTHONPATH.
SOURCE: dict[str, Any] = {"ref": "working tree", "commit": None, "pythonpath": None}


def use_git_ref(ref: str) -> dict[str, Any]:
    """Run the children on a snapshot of ``ref`` (``git archive``), immune to edits under way.

    Compiled translations (``*.mo``, not in git) are copied from the working tree.
    """
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    root = WORK_ROOT / f"src-{commit[:12]}"
    if not (root / "src" / "omnihcp").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "src"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
        for mo in (REPO / "src").rglob("*.mo"):
            target = root / mo.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(mo, target)
    SOURCE.update(ref=ref, commit=commit, pythonpath=str(root / "src"))
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    where = run_checked([str(PYTHON), "-c", "import omnihcp; print(omnihcp.__file__)"], env)
    if not where.strip().startswith(str(root)):
        raise RuntimeError(f"the snapshot is not imported first: {where}")
    return dict(SOURCE)


def source_info() -> dict[str, Any]:
    """Which code was measured: a commit snapshot, or the working tree and whether it is dirty."""
    if SOURCE["commit"]:
        return {"ref": SOURCE["ref"], "commit": SOURCE["commit"]}
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"ref": "working tree", "commit": head, "src_modified": bool(dirty)}


@dataclass
class Database:
    """One throwaway database: a SQLite file under ``WORK_ROOT`` or a PostgreSQL database."""

    backend: str
    name: str  # PostgreSQL database name; for SQLite, the stem of the directory under WORK_ROOT
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return WORK_ROOT / self.name

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "omnihcp.sqlite3"

    @property
    def url(self) -> str:
        return f"{PG_BASE_URL}/{self.name}"

    @property
    def location(self) -> str:
        return str(self.sqlite_path) if self.backend == "sqlite" else self.url

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment of an ``omnihcp`` child process that talks to this database."""
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED_ENV}
        env["DJANGO_SETTINGS_MODULE"] = "omnihcp.config.settings"
        env["OMNIHCP_VAR_DIR"] = str(self.directory)
        env["OMNIHCP_PI_KEY"] = BENCH_PI_KEY
        env["PYTHONUNBUFFERED"] = "1"
        if self.backend == "sqlite":
            env["OMNIHCP_SQLITE_PATH"] = str(self.sqlite_path)
        else:
            env["DATABASE_URL"] = self.url
        if SOURCE["pythonpath"]:
            env["PYTHONPATH"] = SOURCE["pythonpath"]
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def create(self) -> None:
        """Start from nothing: an empty directory and, for PostgreSQL, an empty database."""
        self.drop()
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.backend == "postgres":
            _pg_admin("CREATE DATABASE {}", self.name)

    def drop(self) -> None:
        if self.backend == "postgres":
            _pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
        shutil.rmtree(self.directory, ignore_errors=True)

    def exists(self) -> bool:
        if self.backend == "sqlite":
            return self.sqlite_path.exists()
        return bool(_pg_admin("SELECT 1 FROM pg_database WHERE datname = %s", param=self.name))

    def analyze(self, *, vacuum: bool = False) -> None:
        """Refresh the planner statistics (``ANALYZE``), as autovacuum would after a load;
        ``vacuum`` also reclaims dead rows on PostgreSQL (``VACUUM ANALYZE``)."""
        if self.backend == "sqlite":
            with sqlite3.connect(self.sqlite_path) as conn:
                conn.execute("ANALYZE")
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

    def size_mib(self) -> float:
        """Size on disk: the SQLite file (with its WAL), or ``pg_database_size``."""
        if self.backend == "sqlite":
            files = self.directory.glob("omnihcp.sqlite3*")
            return sum(f.stat().st_size for f in files) / 2**20
        rows = _pg_admin("SELECT pg_database_size(%s)", param=self.name)
        return int(rows[0][0]) / 2**20


def seeded_database(backend: str, hcps: int, *, fresh: bool = False) -> Database:
    """The demo company of ``hcps`` doctors that ``seed.py --keep`` left (seeded here when
    missing or ``fresh``), for the benchmarks that build on it."""
    seeded = Database(backend=backend, name=f"omnihcp_bench_seed_{backend}_{hcps}")
    if not fresh and seeded.exists():
        return seeded
    seeded.create()
    migrate(seeded)
    run_checked([str(OMNIHCP), "demo", "--hcps", str(hcps), "--no-engagement"], seeded.env())
    return seeded


def _pg_admin(
    statement: LiteralString, identifier: str | None = None, *, param: str | None = None
) -> list[tuple[Any, ...]]:
    """Run one statement on the ``postgres`` maintenance database, in autocommit."""
    import psycopg  # imported late: SQLite-only runs need no PostgreSQL
    from psycopg import sql

    query: sql.SQL | sql.Composed = sql.SQL(statement)
    if identifier is not None:
        query = sql.SQL(statement).format(sql.Identifier(identifier))
    with psycopg.connect(f"{PG_BASE_URL}/postgres", autocommit=True) as conn:
        cursor = conn.execute(query, None if param is None else (param,))
        return list(cursor.fetchall()) if cursor.description else []


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    max_rss_mib: float
    returncode: int
    output: str


def run_measured(args: list[str], env: dict[str, str], log: Path) -> ChildRun:
    """Run a child to its end; wall time and the child's own peak RSS (``wait4`` rusage).

    ``wait4`` reports the resource use of exactly this child, unlike ``RUSAGE_CHILDREN``,
    which is the maximum over every child reaped so far (``migrate`` included).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB.
    return ChildRun(
        seconds=seconds,
        max_rss_mib=usage.ru_maxrss / 1024,
        returncode=proc.returncode,
        output=log.read_text(errors="replace"),
    )


def run_checked(args: list[str], env: dict[str, str]) -> str:
    """Run an untimed setup step; fail loudly with its output if it fails."""
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def migrate(db: Database) -> None:
    run_checked([str(OMNIHCP), "migrate", "--noinput", "-v0"], db.env())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not listen on port {port} within {timeout:.0f}s")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which ``pct`` % of the samples fall)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "sqlite": sqlite3.sqlite_version,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    try:
        info["django"] = run_checked(
            [str(PYTHON), "-c", "import django; print(django.get_version())"], dict(os.environ)
        ).strip()
        info["postgres"] = str(_pg_admin("SHOW server_version")[0][0])
    except Exception as exc:  # facts are best effort
        info.setdefault("postgres", f"unavailable: {exc.__class__.__name__}")
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join(lines)
