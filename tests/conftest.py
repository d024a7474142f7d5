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


@pytest.fixture
async def fake(config):
    """The fake Bot API with the example deployment's people and groups; all staff have pressed Start."""
    from tests.fakes.telegram_api import FakeTelegram
    fake = FakeTelegram()
    await fake.start()
    fake.user(5001, "Budi", language_code="id")
    fake.group(config.operators.telegram_chat_id, "Operator 112 Sumenep")
    people = [*config.operators.members, *config.leadership, *(m for a in config.agencies for m in a.members)]
    for person in people:
        if person.telegram_user_id is not None:
            fake.user(person.telegram_user_id, person.name)
            fake.start_private(person.telegram_user_id)
    for agency in config.agencies:
        if agency.telegram_chat_id is not None:
            fake.group(agency.telegram_chat_id, agency.name.id)
    yield fake
    await fake.stop()


@pytest.fixture(params=["embedded", "production"])
async def gw(request, fake, tmp_path, redis_url):
    """Embedded: SQLite, no Redis, one process. Production: PostgreSQL + Redis, web and two workers."""
    from tests.harness import gateway
    if request.param == "embedded":
        async with gateway(fake, await fresh_database_url("sqlite", tmp_path)) as g:
            yield g
    else:
        url = await fresh_database_url("postgres", tmp_path)
        async with gateway(fake, url, redis_url=redis_url, run_worker=False, workers=2) as g:
            yield g
