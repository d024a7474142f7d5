"""The `siaga` command: a bad deployment file or setting stops start-up with one line naming the key."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIAGA = str(Path(sys.executable).parent / "siaga")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([SIAGA, *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60)


def test_config_check_accepts_the_example():
    result = run("config", "check", "config/sumenep.yaml")
    assert result.returncode == 0 and "ok" in result.stdout


def test_config_check_names_the_wrong_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "config" / "sumenep.yaml").read_text().replace("agencies: [damkar]", "agencies: [damkr]"))
    result = run("config", "check", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "unknown agency 'damkr'" in result.stderr


def test_web_refuses_to_start_on_a_bad_file_or_setting(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: {name: X}\n")
    result = run("web", SIAGA_CONFIG=str(bad))
    assert result.returncode == 2 and result.stderr.startswith("siaga: cannot start:")
    assert result.stderr.strip().count("\n") == 0
    result = run("web", DATABASE_URL="mysql://localhost/x")
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr and result.stderr.strip().count("\n") == 0
    result = run("worker", TELEGRAM_WEBHOOK_SECRET="has spaces")
    assert result.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in result.stderr
