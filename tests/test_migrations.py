"""`upgrade head` on an empty database produces exactly the models' schema, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from core.db import Base, make_engine
from tests.conftest import _ensure_pg_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


async def _empty_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    url = await _ensure_pg_database()
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()
    return url


def _run(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


async def test_migrations_match_the_models(backend, tmp_path):
    url = await _empty_url(backend, tmp_path)
    migrate = _run([str(BIN / "siaga"), "migrate"], url)
    assert migrate.returncode == 0, migrate.stderr
    check = _run([str(BIN / "alembic"), "check"], url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    engine = make_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
