"""Shared fixtures: the example deployment, and fresh databases on SQLite and on the local PostgreSQL."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from core.config import load_config
from core.db import Base, make_engine, make_sessionmaker
import core.models  # noqa: F401 - registers the tables

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("SIAGA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("SIAGA_TEST_PG_DB", "siaga_test")
REDIS_URL = os.environ.get("SIAGA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "config" / "sumenep.yaml")


async def _ensure_pg_database() -> str:
    """Create the test database once; PostgreSQL must be running (make test expects it, .ci/run starts it)."""
    try:
        conn = await asyncpg.connect(PG_ADMIN)
    except OSError as exc:  # pragma: no cover - environment problem, reported loudly
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}. Start it (see .ci/run).")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_DB)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await conn.close()
    user_host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{user_host}/{PG_DB}"


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty schema built from the models (the migration test checks they match the migrations)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"
    else:
        url = await _ensure_pg_database()
    engine = make_engine(url)
    async with engine.begin() as conn:
        if backend == "postgres":
            await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
async def db_url(backend, tmp_path) -> str:
    return await fresh_database_url(backend, tmp_path)


@pytest.fixture
async def sessions(db_url):
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def redis_url():
    """A clean Redis database for the test; Redis must be running."""
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except (OSError, aioredis.ConnectionError) as exc:  # pragma: no cover
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}. Start it (see .ci/run).")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
