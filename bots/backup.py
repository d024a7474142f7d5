"""Backups of the one database (cases, timelines, photos — everything): pg_dump/pg_restore for PostgreSQL, SQLite's
online backup API for the embedded file; each copy verified before older ones are rotated away."""
from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

NAME = re.compile(r"^siaga-(\d{8}T\d{6}Z)\.(pgdump|sqlite3)$")  # only these are ours to rotate
STAMP = "%Y%m%dT%H%M%SZ"
RUNNING_SECONDS = 120  # a worker loop beat this recently: the gateway is running on the target


class BackupError(Exception):
    """One line for the IT team saying what failed (no password, no personal data)."""


@dataclass(frozen=True)
class Postgres:
    """Where libpq tools connect, as environment variables: the password never reaches a command line."""

    env: dict[str, str]
    dbname: str
    where: str  # "database X on HOST:PORT", for messages


def postgres(url: str) -> Postgres:
    """The SQLAlchemy URL postgresql+asyncpg://user:pw@host:port/db?… as PG* variables for pg_dump and friends."""
    u = make_url(url)
    if not u.database:
        raise BackupError("DATABASE_URL names no database")
    env = {"PGDATABASE": u.database, "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "siaga-backup"}
    host = u.host or _one(u.query.get("host"))
    if host:
        env["PGHOST"] = host
    if u.port:
        env["PGPORT"] = str(u.port)
    if u.username:
        env["PGUSER"] = u.username
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    ssl = _one(u.query.get("sslmode") or u.query.get("ssl"))
    if ssl:
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    where = f"database {u.database} on {host or 'the local socket'}" + (f":{u.port}" if u.port else "")
    return Postgres(env, u.database, where)


def _one(value: str | tuple[str, ...] | None) -> str | None:
    return value[0] if isinstance(value, tuple) else value


def sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("DATABASE_URL names no SQLite file to back up")
    return Path(path)


def kind_of(url: str) -> str:
    return "sqlite3" if url.startswith("sqlite") else "pgdump"


# ---- backup ----

def backup(url: str, directory: Path, keep_days: int | None = None, now: datetime | None = None) -> Path:
    """Write siaga-<UTC time>.<pgdump|sqlite3> into `directory` (0600, under a temporary name until it has been
    read back), then delete our own copies older than `keep_days`. Returns the file written."""
    now = now or datetime.now(UTC)
    kind = kind_of(url)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot create {directory}: {exc.strerror}") from None
    final = directory / f"siaga-{now.strftime(STAMP)}.{kind}"
    if final.exists():
        raise BackupError(f"{final} already exists (another backup this second?)")
    tmp = directory / f".{final.name}.{os.getpid()}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if kind == "pgdump":
            _pg_dump(postgres(url), tmp)
        else:
            _sqlite_copy(sqlite_path(url), tmp, source_must_exist=True)
        verify(tmp, kind)
        _fsync(tmp)
        os.rename(tmp, final)
        _fsync(directory)
    except OSError as exc:
        raise BackupError(f"cannot write {final}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    if keep_days is not None:
        try:
            rotate(directory, keep_days, now)
        except OSError as exc:
            raise BackupError(f"wrote {final} but could not delete older copies: {exc}") from None
    return final


def _pg_dump(pg: Postgres, out: Path) -> None:
    _run([_tool("pg_dump"), "--format=custom", "--no-password", "--lock-wait-timeout=60s", f"--file={out}"],
         pg, "pg_dump")


def _sqlite_copy(source: Path, target: Path, source_must_exist: bool) -> None:
    """SQLite's online backup: a consistent copy while the gateway keeps writing (WAL readers block nobody)."""
    if source_must_exist and not source.is_file():
        raise BackupError(f"no database file at {source}")
    try:
        src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)  # all pages in one step: a write between steps would restart the copy
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite copy of {source} failed: {exc}") from None


def verify(path: Path, kind: str) -> None:
    """Read the copy back with the tool that will restore it: pg_restore --list, or SQLite's integrity_check."""
    if kind == "pgdump":
        result = subprocess.run([_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise BackupError(f"{path.name} is not a readable pg_dump archive: {_first_error(result.stderr)}")
        if "TABLE DATA" not in result.stdout:
            raise BackupError(f"{path.name} holds no tables: is DATABASE_URL the gateway's (migrated) database?")
        return
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            answer = conn.execute("PRAGMA integrity_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from None
    if not answer or answer[0] != "ok":
        raise BackupError(f"{path.name} failed SQLite's integrity_check: {answer[0] if answer else '?'}")


def rotate(directory: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete this command's own copies (siaga-<time>.pgdump|sqlite3) older than keep_days, by the time in their
    name (a copy rsynced back keeps it); any other file in the directory is left alone."""
    cutoff = now - timedelta(days=keep_days)
    removed = []
    for entry in directory.iterdir():
        match = NAME.match(entry.name)
        if not match or not entry.is_file():
            continue
        written = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
        if written < cutoff:
            entry.unlink()
            removed.append(entry)
    return removed


# ---- restore ----

def restore(url: str, file: Path, force: bool = False) -> str:
    """Put a backup into DATABASE_URL's database; refuses one that holds cases or a running gateway unless force.
    Returns where it went (for the message)."""
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    match = re.search(r"\.(pgdump|sqlite3)$", file.name)
    if not match:
        raise BackupError(f"{file.name}: expected a .pgdump or .sqlite3 file written by `siaga backup`")
    kind, target = match.group(1), kind_of(url)
    if kind != target:
        names = {"pgdump": "PostgreSQL", "sqlite3": "SQLite"}
        raise BackupError(f"{file.name} is a {names[kind]} backup but DATABASE_URL is {names[target]}")
    verify(file, kind)
    if kind == "pgdump":
        pg = postgres(url)
        _refuse_unless_forced(*_pg_state(pg), pg.where, force)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", "--no-password", f"--dbname={pg.dbname}", str(file)], pg, "pg_restore")
        return pg.where
    path = sqlite_path(url)
    if path.exists():
        _refuse_unless_forced(*_sqlite_state(path), str(path), force)
    from core.db import private_sqlite_file
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_sqlite_file(url)  # a new file is created owner-only, as the gateway would
    _sqlite_copy(file, path, source_must_exist=True)
    _sqlite_wal(path)
    return str(path)


def _refuse_unless_forced(cases: int, beat_age: float | None, where: str, force: bool) -> None:
    if force:
        return
    if beat_age is not None and beat_age < RUNNING_SECONDS:
        wait = RUNNING_SECONDS - beat_age
        raise BackupError(f"the gateway seems to run on {where} (a worker loop beat {beat_age:.0f} s ago): stop it "
                          f"(systemctl stop siaga.target) and retry in {wait:.0f} s, or add --force")
    if cases:
        raise BackupError(f"{where} already holds {cases} case(s): restore into an empty database, or add --force "
                          f"to replace them")


def _pg_state(pg: Postgres) -> tuple[int, float | None]:
    """Cases in the target and seconds since its freshest heartbeat (None: no table or no beat)."""
    tables = _psql(pg, "SELECT to_regclass('public.cases') IS NOT NULL, to_regclass('public.heartbeats') IS NOT NULL")
    has_cases, has_beats = (value == "t" for value in tables.split("|"))
    cases = int(_psql(pg, "SELECT count(*) FROM cases")) if has_cases else 0
    age = None
    if has_beats:
        text = _psql(pg, "SELECT extract(epoch FROM now() - max(beat_at)) FROM heartbeats")
        age = float(text) if text else None
    return cases, age


def _sqlite_state(path: Path) -> tuple[int, float | None]:
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0] if "cases" in tables else 0
            last = conn.execute("SELECT max(beat_at) FROM heartbeats").fetchone()[0] if "heartbeats" in tables else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {path}: {exc}") from None
    if not last:
        return cases, None
    at = datetime.fromisoformat(str(last))
    return cases, (datetime.now(UTC) - (at if at.tzinfo else at.replace(tzinfo=UTC))).total_seconds()


def _sqlite_wal(path: Path) -> None:
    """Back to WAL, as the gateway runs it (the copy was made self-contained in rollback mode)."""
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restored, but cannot switch {path} to WAL: {exc}") from None


# ---- the PostgreSQL client tools ----

def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools of the server's major version "
                          f"(apt install postgresql-client)")
    return path


def _run(argv: list[str], pg: Postgres, what: str) -> str:
    result = subprocess.run(argv, env={**os.environ, **pg.env}, capture_output=True, text=True, check=False)
    if result.returncode < 0:  # e.g. SIGXFSZ past a file-size limit, or the OOM killer
        raise BackupError(f"{what} of {pg.where} was killed by {signal.Signals(-result.returncode).name}")
    if result.returncode != 0:
        raise BackupError(f"{what} of {pg.where} failed: {_first_error(result.stderr)}")
    return result.stdout


def _psql(pg: Postgres, sql: str) -> str:
    return _run([_tool("psql"), "--no-psqlrc", "--no-password", "--tuples-only", "--no-align",
                 "--set=ON_ERROR_STOP=1", f"--command={sql}"], pg, "psql").strip()


def _first_error(stderr: str) -> str:
    """The line that says what went wrong (pg_dump prints `pg_dump: error: …`, then details)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error:" in line or "FATAL" in line:
            return line
    return lines[0] if lines else "no message"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
