import os
import subprocess
import sys


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import omnihcp.config.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_refuse_the_development_secret_key():
    result = _import_settings(DEBUG="0")
    assert result.returncode == 1
    assert "SECRET_KEY must be set to a secret value when DEBUG is off." in result.stderr


def test_production_settings_start_with_a_real_secret_key():
    result = _import_settings(DEBUG="0", SECRET_KEY="a-long-random-production-secret-0123456789")
    assert result.returncode == 0, result.stderr
