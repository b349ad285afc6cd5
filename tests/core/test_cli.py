import os
import subprocess
import sys
from pathlib import Path

import pytest


def _omnihcp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMNIHCP_SQLITE_PATH": str(tmp_path / "cli.sqlite3")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "omnihcp.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_worker_processes_the_queue_and_exits_in_batch_mode(tmp_path):
    assert _omnihcp(tmp_path, "migrate", "-v0").returncode == 0
    result = _omnihcp(tmp_path, "worker", "--batch")
    assert result.returncode == 0, result.stderr
    assert "Starting worker" in result.stdout + result.stderr


def test_audit_verify_on_a_fresh_database_reports_an_empty_unbroken_chain(tmp_path):
    assert _omnihcp(tmp_path, "migrate", "-v0").returncode == 0
    result = _omnihcp(tmp_path, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Audit chain OK: 0 events, unbroken."


@pytest.mark.django_db
def test_token_issue_prints_a_working_token() -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client

    out = StringIO()
    call_command("token", "issue", "exec", "bi-export", stdout=out)
    raw = out.getvalue().strip()
    response = Client().get("/api/org/products", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["count"] == 8
