"""The `siaga` command: a bad deployment file or setting stops start-up with one line naming the key."""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from bots.cli import main

ROOT = Path(__file__).resolve().parent.parent
SIAGA = str(Path(sys.executable).parent / "siaga")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `siaga` entry point in its own process (start-up alone takes about a second)."""
    return subprocess.run([SIAGA, *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60, check=False)


def cli(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    """`siaga ARGS` run in this process through `bots.cli:main`, as `run` would (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _stdin(stdin):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse, or a command that exits
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return subprocess.CompletedProcess(["siaga", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(text: str):
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


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
    result = cli("web", SIAGA_CONFIG=str(bad))
    assert result.returncode == 2 and result.stderr.startswith("siaga: cannot start:")
    assert result.stderr.strip().count("\n") == 0
    result = cli("web", DATABASE_URL="mysql://localhost/x")
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr and result.stderr.strip().count("\n") == 0
    result = run("worker", TELEGRAM_WEBHOOK_SECRET="has spaces")  # and once through the installed entry point
    assert result.returncode == 2 and "TELEGRAM_WEBHOOK_SECRET" in result.stderr


def test_dashboard_accounts_are_added_listed_and_disabled(tmp_path):
    db = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"}
    assert cli("migrate", **db).returncode == 0

    def add(*args: str, password: str = "correct-horse-battery") -> subprocess.CompletedProcess:
        return cli("account", "add", *args, "--password-stdin", stdin=password + "\n", **db)
    assert add("op1", "--role", "operator", "--name", "Operator Satu").stdout.strip() == \
        "account op1: operator, may act on cases"
    assert add("bupati", "--role", "leader").stdout.strip() == "account bupati: leader, read only"
    short = add("op2", "--role", "operator", password="short")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert add("op1", "--role", "operator").returncode == 1  # exists already
    listing = cli("account", "list", **db).stdout
    assert "op1\toperator\tact\tactive\tOperator Satu" in listing and "bupati\tleader\tread\tactive" in listing
    assert "correct-horse" not in listing
    assert cli("account", "disable", "bupati", **db).returncode == 0
    assert "bupati\tleader\tread\tdisabled" in cli("account", "list", **db).stdout


def test_privacy_commands_answer_for_unknown_reporters_and_sweep(tmp_path):
    db = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"}
    assert cli("migrate", **db).returncode == 0
    missing = cli("privacy", "export", "whatsapp", "+6281234567890", **db)
    assert missing.returncode == 1 and missing.stderr.strip() == "siaga: no reporter whatsapp:+6281234567890"
    assert cli("privacy", "erase", "telegram", "5001", **db).returncode == 1
    swept = cli("privacy", "sweep", **db)
    assert swept.returncode == 0 and '"cases": 0' in swept.stdout
