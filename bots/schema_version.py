"""Where a database's schema stands against the code's migrations: what `siaga migrate --check` and `siaga doctor`
report before anyone upgrades or starts a process on a schema it does not know."""
from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.db import is_sqlite, make_engine


class SchemaVersionError(Exception):
    """The schema's place cannot be told: the database is unreachable, or it is newer than this code."""


class SchemaAheadError(SchemaVersionError):
    """The database carries a revision this code has no migration for (a newer release migrated it)."""


def scripts(alembic_ini: str = "alembic.ini") -> ScriptDirectory:
    """The code's migrations, read from alembic.ini (processes run from the checkout, where it lives)."""
    if not Path(alembic_ini).is_file():
        raise SchemaVersionError(f"{alembic_ini} not found: run from the checkout (/opt/siaga) or pass --alembic-ini")
    cfg = Config(alembic_ini)
    location = cfg.get_main_option("script_location") or "migrations"
    if not Path(location).is_absolute():  # beside alembic.ini, whatever the current directory
        cfg.set_main_option("script_location", str(Path(alembic_ini).resolve().parent / location))
    return ScriptDirectory.from_config(cfg)


def head_revision(alembic_ini: str = "alembic.ini") -> str:
    """The newest migration the code has."""
    head = scripts(alembic_ini).get_current_head()
    assert head is not None  # a linear history always has one
    return head


def summary(revision: str, alembic_ini: str = "alembic.ini") -> str:
    """A migration's docstring opening, on one line of at most 100 characters: what it changes, for the IT team."""
    script = scripts(alembic_ini).get_revision(revision)
    doc = (script.module.__doc__ or "").strip() if script is not None else ""
    words = " ".join(doc.split("\n\n")[0].split())
    return words if len(words) <= 100 else words[:99].rsplit(" ", 1)[0] + "…"


def current_revisions(database_url: str) -> tuple[str, ...]:
    """The revisions stamped in the database's alembic_version table (none: never migrated)."""
    if is_sqlite(database_url):
        path = make_url(database_url).database
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            return ()  # the embedded default before its first `siaga migrate`: looking must not create the file

    async def read() -> tuple[str, ...]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                def heads(sync_conn: Any) -> tuple[str, ...]:
                    return tuple(MigrationContext.configure(sync_conn).get_current_heads())
                return await conn.run_sync(heads)
        finally:
            await engine.dispose()

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(read())
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from async code: a loop of its own
            return pool.submit(asyncio.run, read()).result()
    except (SQLAlchemyError, DBAPIError, OSError) as exc:
        raise SchemaVersionError(f"database unreachable: {type(exc).__name__}: {_first_line(exc)}") from exc


def pending_revisions(database_url: str, alembic_ini: str = "alembic.ini") -> list[str]:
    """The revisions `siaga migrate` would apply, oldest first; all of them for a database never migrated.
    Raises SchemaAheadError when the database is at a revision the code does not know, SchemaVersionError when
    the database cannot be reached."""
    return state(database_url, alembic_ini)[1]


def state(database_url: str, alembic_ini: str = "alembic.ini") -> tuple[tuple[str, ...], list[str], str]:
    """(the database's revisions, the pending ones oldest first, the code's head), from one look at each;
    raises as `pending_revisions` does."""
    script, current = scripts(alembic_ini), current_revisions(database_url)
    return current, _pending(script, current), script.get_current_head()


def _pending(script: ScriptDirectory, current: tuple[str, ...]) -> list[str]:
    for revision in current:
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise SchemaAheadError(
                f"the database is at revision {revision}, which this code does not know (head is "
                f"{script.get_current_head()}): it was migrated by a newer release; run that release's code "
                f"or restore a backup taken before its upgrade")
    lower = current or "base"
    return [s.revision for s in reversed(list(script.iterate_revisions("heads", lower)))]


def _first_line(exc: BaseException) -> str:
    """An exception's message without the SQL and parameters SQLAlchemy appends (they may hold personal data)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else ""


def check(database_url: str, alembic_ini: str = "alembic.ini") -> int:
    """`siaga migrate --check`: 0 at head, 1 with the pending migrations listed, 2 when it cannot be told."""
    import sys
    try:
        current, pending, head = state(database_url, alembic_ini)
    except SchemaVersionError as exc:
        print(f"siaga: {exc}", file=sys.stderr)
        return 2
    if not pending:
        print(f"schema at head ({head})")
        return 0
    where = ", ".join(current) or "empty (never migrated)"
    print(f"pending: {where} → {head} ({len(pending)} migration{'s' if len(pending) > 1 else ''}; "
          f"back up, stop the workers, run `siaga migrate`)")
    for revision in pending:
        print(f"  {revision}  {summary(revision, alembic_ini)}")
    return 1
