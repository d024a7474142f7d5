"""`upgrade head` builds exactly the models' schema, on SQLite and PostgreSQL, and rewrites stored rows it must."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import insert, inspect, select

from core.db import Base, make_engine, utcnow
from core.models import Conversation
from tests.conftest import ensure_pg_database
from workflows.conversation_state import ConversationState

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


async def _empty_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    url = await ensure_pg_database()
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()
    return url


def _run(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


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


STARTED = "2026-11-27T14:00:00+00:00"
OLD_STATES = {  # shapes earlier versions stored
    "telegram:1": {"lang": "en", "step": "photo", "touch": 3, "draft": {"started_at": STARTED, "type": "fire"}},
    "telegram:2": {"step": "idle", "lang": "id", "touch": 9, "comment_for": 12, "draft": None, "someday": 1},
    "whatsapp:62811": {"step": "witness", "lang": "id", "draft": {"started_at": STARTED, "type": "fire"}},
    "whatsapp:62812": {"step": "location", "reminded": True, "draft": {"type": "flood"}},  # no start time
    "web:" + "a" * 32: {},
    "web:" + "b" * 32: {"step": "description", "draft": {"started_at": STARTED, "type": "fire", "latitude": -7,
                                                         "longitude": 113.8, "photo_media_id": 4, "address": 5}},
    "webhold:*": {"paged": ["2026-11-27T14:00:00+00:00"]},  # a web-chat count, not a conversation
}


async def test_the_upgrade_rewrites_stored_conversations_into_the_typed_shape(backend, tmp_path):
    """Rows written before 0008 come out in the shape ConversationState.to_json writes; downgrade reads back."""
    url = await _empty_url(backend, tmp_path)
    assert (done := _run([str(BIN / "alembic"), "upgrade", "0007"], url)).returncode == 0, done.stderr
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(insert(Conversation.__table__), [
            {"key": key, "state": state, "version": 1, "updated_at": utcnow()} for key, state in OLD_STATES.items()])

    async def stored() -> dict:
        async with engine.connect() as conn:
            return dict((await conn.execute(select(Conversation.key, Conversation.state))).all())

    try:
        assert (done := _run([str(BIN / "siaga"), "migrate"], url)).returncode == 0, done.stderr
        after = await stored()
        assert after["webhold:*"] == OLD_STATES["webhold:*"]
        for key, old in OLD_STATES.items():
            if not key.startswith("webhold:"):
                assert after[key] == ConversationState.from_json(old).to_json(), key
                assert ConversationState.from_json(after[key]).to_json() == after[key]
        assert after["telegram:1"]["draft"]["type"] == "fire" and after["telegram:1"]["step"] == "photo"
        assert after["telegram:2"]["comment_for"] == 12 and "someday" not in after["telegram:2"]
        assert [after[k]["step"] for k in ("whatsapp:62811", "whatsapp:62812")] == ["idle", "idle"]
        assert after["web:" + "b" * 32]["draft"]["latitude"] == -7.0

        assert (done := _run([str(BIN / "alembic"), "downgrade", "0007"], url)).returncode == 0, done.stderr
        before = await stored()
        assert "lang" not in before["web:" + "a" * 32] and before["telegram:1"] == after["telegram:1"]
    finally:
        await engine.dispose()
