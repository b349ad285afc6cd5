"""Import of a doctor platform's user list against the demo master: speed and correctness.

    .venv/bin/python bench/mdm_platform.py                      # 10,000 users, 20,000 HCPs
    .venv/bin/python bench/mdm_platform.py --users 2000 --hcps 20000
    .venv/bin/python bench/mdm_platform.py \\
        --database postgres://postgres@127.0.0.1:5432/omnihcp_platform_bench

Without ``--database`` a fresh SQLite file is made under ``$TMPDIR/omnihcp-bench/`` (and
removed at the end). The database is migrated and, when it holds no HCP, filled with the demo
company of ``--hcps`` doctors (``demo_generate``); a PostgreSQL database must exist. The list
comes from ``omnihcp.demo.platform_list`` (typos, traditional characters, short hospital
names, missing fields, some phone hashes, ~15 % doctors the master does not know) and is
imported with ``platform_users.platform_list_import`` exactly as the page does: read, resolve
hospitals, ``match_hcp`` per user, write. Then the same list is imported again (the
unchanged-row path). Correctness is against the generator's ground truth. Writes
bench/results/platform.json (one entry per backend).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "platform.json"


def configure(database: str | None) -> tuple[str, bool]:
    """Point Django at the database; True when it is a fresh one to fill."""
    fresh = database is None
    if database is None:
        work = Path(tempfile.gettempdir()) / "omnihcp-bench"
        work.mkdir(parents=True, exist_ok=True)
        path = work / f"platform-{os.getpid()}.sqlite3"
        path.unlink(missing_ok=True)
        database = f"sqlite:///{path}"
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
    return backend, fresh


def prepare(hcps: int) -> float | None:
    """Migrate, and fill an empty database with the demo company; its seconds, if made."""
    from django.core.management import call_command

    from omnihcp.demo.generator import demo_generate
    from omnihcp.masterdata.models import HCP

    call_command("migrate", verbosity=0)
    if HCP.objects.exists():
        return None
    start = time.perf_counter()
    demo_generate(hcps=hcps)
    return time.perf_counter() - start


def share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def evaluate(rows: list[Any], user_list: Any) -> dict[str, Any]:
    from omnihcp.masterdata.models import HCP
    from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUser

    truth = {row.user_id: row.true_hcp_id for row in rows}
    hco_of = dict(
        HCP.objects.filter(pk__in=[t for t in truth.values() if t]).values_list(
            "id", "primary_hco_id"
        )
    )
    users = list(
        PlatformUser.objects.filter(user_list=user_list).values_list(
            "platform_user_id", "outcome", "hcp_id", "hco_id", "candidates"
        )
    )
    known = [u for u in users if truth[u[0]]]
    unknown = [u for u in users if not truth[u[0]]]
    auto = [u for u in users if u[1] == PlatformOutcome.AUTO]
    auto_right = [u for u in auto if u[2] == truth[u[0]]]
    review = [u for u in users if u[1] == PlatformOutcome.REVIEW]
    review_has_truth = [u for u in review if truth[u[0]] in {c["hcp_id"] for c in u[4]}]
    missed = [u for u in known if u[1] == PlatformOutcome.UNMATCHED]
    unknown_linked = [u for u in unknown if u[2] is not None]
    unknown_review = [u for u in unknown if u[1] == PlatformOutcome.REVIEW]
    hospital_right = [u for u in known if u[3] is not None and u[3] == hco_of.get(truth[u[0]])]
    return {
        "users": len(users),
        "known_doctors": len(known),
        "unknown_doctors": len(unknown),
        "auto": len(auto),
        "review": len(review),
        "unmatched": len(users) - len(auto) - len(review),
        "reported_match_rate": share(len(auto), len(users)),
        "true_known_share": share(len(known), len(users)),
        "auto_precision": share(len(auto_right), len(auto)),
        "auto_recall_of_known": share(len(auto_right), len(known)),
        "review_with_true_doctor_offered": share(len(review_has_truth), len(review)),
        "known_left_unmatched": share(len(missed), len(known)),
        "unknown_linked": len(unknown_linked),
        "unknown_sent_to_review": len(unknown_review),
        "hospital_resolved_right": share(len(hospital_right), len(known)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=None)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--hcps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261123)
    options = parser.parse_args(argv)
    backend, fresh = configure(options.database)
    seeded = prepare(options.hcps)

    from django.db import connection

    from omnihcp.demo.platform_list import platform_csv, platform_rows
    from omnihcp.masterdata import platform_users
    from omnihcp.masterdata.models import HCP

    master = HCP.objects.count()
    rows = platform_rows(options.users, seed=options.seed)
    content = platform_csv(rows)
    code = f"bench-{int(time.time())}"
    start = time.perf_counter()
    first = platform_users.platform_list_import(
        actor=None, platform=code, platform_name="Bench", file_name="bench.csv", content=content
    )
    seconds = time.perf_counter() - start
    if first.status != "done":
        print(f"import failed: {first.error}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    again = platform_users.platform_list_import(
        actor=None, platform=code, platform_name="Bench", file_name="bench.csv", content=content
    )
    again_seconds = time.perf_counter() - start
    figures = evaluate(rows, again)
    result = {
        "backend": backend,
        "database_vendor": connection.vendor,
        "master_hcps": master,
        "demo_seconds": None if seeded is None else round(seeded, 1),
        "file_bytes": len(content),
        "import_seconds": round(seconds, 1),
        "rows_per_second": round(options.users / seconds, 1),
        "ms_per_row": round(1000 * seconds / options.users, 1),
        "reimport_seconds": round(again_seconds, 1),
        "reimport_unchanged": again.unchanged,
        "rejected": first.rejected,
        **figures,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    width = max(len(key) for key in result)
    print(f"{'figure':<{width}}  value")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    saved[backend] = result
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if fresh:
        connection.close()
        path = os.environ["OMNIHCP_SQLITE_PATH"]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
