"""Engine, sessions and column types shared by every table, for PostgreSQL and SQLite alike."""
from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, DateTime, Dialect, MetaData, Result, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Store UTC and always hand back aware datetimes, since SQLite drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does, and tighten one left world-readable;
    SQLite gives its -wal and -shm files the database file's mode."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        return  # no directory or no access: SQLite itself will say so
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_uid == os.geteuid():
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def make_engine(url: str, pool_size: int = 10,
                before_write: Callable[[], Awaitable[None]] | None = None) -> AsyncEngine:
    """Create the engine; SQLite gets WAL and a busy timeout so web and worker can share the file.
    `before_write`: called before each SQLite transaction takes the write lock (the embedded worker child
    yields to the web's webhook writes there, bots/pipeline/intake_gate.py)."""
    if is_sqlite(url):
        private_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Connection) -> None:
            # Take the write lock up front: a read that later writes would fail with SQLITE_BUSY instead of waiting.
            adapted = conn.connection.dbapi_connection
            if before_write is not None and adapted is not None:  # awaited on the event loop (SQLAlchemy's run_async)
                cast(Any, adapted).run_async(lambda _driver: before_write())
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Each process keeps pool_size connections and opens at most half as many again for peaks: two web and two
    # workers stay inside PostgreSQL's default max_connections of 100 (the load bench ran it out at 10 + 10
    # each), and connections are reused rather than opened per burst (bench/peer.py counted the churn).
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size // 2, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: AsyncSession, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, which PostgreSQL and SQLite spell alike."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT touched (`execute` types every result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount
