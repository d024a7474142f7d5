"""`siaga backup` and `siaga restore` on SQLite and PostgreSQL: every case, timeline entry and photo comes back byte
for byte in a fresh database; copies are checked with pg_restore and sqlite3; rotation touches only our own files."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest
from sqlalchemy import select

import bots.backup
from bots.pipeline.media import store_photo
from core import casework
from core.clock import SystemClock
from core.db import make_engine, make_sessionmaker
from core.models import Attachment, Case, CaseEvent, Heartbeat, Media, Reporter, Task
from core.photos import Photo, inspect_photo
from core.repository import create_case
from tests.conftest import PG_DB, ensure_pg_database, fresh_database_url
from tests.images import phone_jpeg
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^siaga-\d{8}T\d{6}Z\.(pgdump|sqlite3)$")
SUFFIX = {"sqlite": "sqlite3", "postgres": "pgdump"}


def need(*names: str) -> None:
    """The field's tools the commands and checks run (CI installs them); missing → skip saying which."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt install postgresql-client sqlite3)")


def field_tool(*argv: str) -> str:
    """What pg_restore or sqlite3 says about a file (a failure fails the test)."""
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout


def siaga_on_a_full_disk(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `siaga` with a 16 KiB file-size limit: the kernel refuses further writes, as on a full disk."""
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    return subprocess.run([str(Path(sys.executable).parent / "siaga"), *args], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, preexec_fn=small_files, check=False)


@pytest.fixture
def tools(backend):
    need(*(("pg_dump", "pg_restore", "psql") if backend == "postgres" else ("sqlite3",)))


@pytest.fixture
async def target_url(backend, tmp_path):
    """A fresh, empty restore target: a new SQLite file, or a PostgreSQL database of its own — created by the test
    the first time, then emptied to what CREATE DATABASE gives (dropping it each time costs a checkpoint)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'siaga.db'}"
    url = await ensure_pg_database(f"{PG_DB}_restored")
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return url


def _photo(width: int, height: int) -> Photo:
    photo = inspect_photo(phone_jpeg(width, height), max_bytes=10_000_000)
    assert isinstance(photo, Photo)
    return photo


async def populate(url: str) -> dict[str, str]:
    """Cases as the product makes them: a fire report with its photo handled to the end (dispatch, crew on scene,
    documentation photo, closed, rated), a rejected one and a fresh one. Returns the photos' sha256 by role."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    deps = SimpleNamespace(sessions=sessions, clock=SystemClock())
    scene, proof = _photo(800, 600), _photo(640, 480)
    scene_id, proof_id = await store_photo(deps, scene), await store_photo(deps, proof)  # type: ignore[arg-type]
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    try:
        async with sessions() as s, s.begin():
            people = [Reporter(channel="telegram", external_id="5001", name="Budi", language="id"),
                      Reporter(channel="whatsapp", external_id="6281234567890", name="Siti", phone="+6281234567890",
                               language="id"),
                      Reporter(channel="web", external_id="w-1", name="", language="en")]
            s.add_all(people)
            await s.flush()
            fire = await create_case(s, reporter=people[0], chat="telegram:5001", ticket="SMN-01-00-01",
                                     incident_type="fire", urgent=True, language="id", latitude=-7.0123,
                                     longitude=113.8601, address_text="Jl. Trunojoyo 12", description="rumah terbakar",
                                     photo_media_id=scene_id, started_at=t0, now=t0 + timedelta(minutes=1))
            [task] = await casework.verify(s, fire, "telegram:1001", ["damkar"], t0 + timedelta(minutes=2))
            casework.accept(s, fire, task, "telegram:3001", "Regu A", 10, t0 + timedelta(minutes=3))
            casework.arrive(s, fire, task, "telegram:3001", t0 + timedelta(minutes=12))
            casework.start_finishing(s, fire, task, "telegram:3001", t0 + timedelta(minutes=40))
            await casework.attach(s, fire, task, proof_id, "telegram:3001", t0 + timedelta(minutes=41))
            assert await casework.finish(s, fire, task, "telegram:3001", "api padam", t0 + timedelta(minutes=42),
                                         auto_close=True)
            casework.rate(s, fire, 5, "telegram:5001", t0 + timedelta(minutes=50))
            casework.comment(s, fire, "cepat sekali, terima kasih", "telegram:5001", t0 + timedelta(minutes=51))
            prank = await create_case(s, reporter=people[1], chat="whatsapp:6281234567890", ticket="SMN-01-00-02",
                                      incident_type="flood", urgent=False, language="id", latitude=None,
                                      longitude=None, address_text="Desa Kalianget", description=None,
                                      photo_media_id=None, started_at=t0, now=t0 + timedelta(minutes=5))
            casework.reject(s, prank, "telegram:1001", "prank", t0 + timedelta(minutes=6))
            await create_case(s, reporter=people[2], chat="web:w-1", ticket="SMN-01-00-03", incident_type="medical",
                              urgent=True, language="en", latitude=-7.1, longitude=113.9, address_text=None,
                              description="fainted at the market", photo_media_id=None,
                              started_at=t0 + timedelta(minutes=7), now=t0 + timedelta(minutes=8))
    finally:
        await engine.dispose()
    return {"scene": scene.sha256, "proof": proof.sha256}


def _row(obj, skip: tuple[str, ...] = ()) -> tuple:
    return tuple((c.key, getattr(obj, c.key)) for c in type(obj).__table__.columns if c.key not in skip)


async def snapshot(url: str) -> dict[str, list]:
    """Everything the cases are made of, read back through the product's models; photos by the hash of their bytes."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            out: dict[str, list] = {}
            for model in (Reporter, Case, CaseEvent, Task, Attachment):
                rows = (await s.execute(select(model).order_by(model.id))).scalars()
                out[model.__tablename__] = [_row(o) for o in rows]
            out["media"] = [(*_row(m, skip=("original", "clean")), hashlib.sha256(m.original).hexdigest(),
                             hashlib.sha256(m.clean).hexdigest())
                            for m in (await s.execute(select(Media).order_by(Media.id))).scalars()]
            return out
    finally:
        await engine.dispose()


def _one_line(text: str) -> bool:
    return text.strip() != "" and text.strip().count("\n") == 0


async def test_backup_and_restore_bring_back_every_case_timeline_and_photo(backend, tools, db_url, target_url,
                                                                           tmp_path):
    hashes = await populate(db_url)
    before = await snapshot(db_url)
    assert [len(before[t]) for t in ("cases", "case_events", "tasks", "attachments", "media")] == [3, 16, 1, 1, 2]
    out_dir = tmp_path / "backups"

    made = cli("backup", "--to", str(out_dir), DATABASE_URL=db_url)
    assert made.returncode == 0, made.stderr
    written = Path(made.stdout.strip())
    assert _one_line(made.stdout) and written.parent == out_dir and NAME.match(written.name)
    assert written.suffix == "." + SUFFIX[backend]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600 and stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    assert [p.name for p in out_dir.iterdir()] == [written.name]  # no temporary file, no -wal beside it
    if backend == "postgres":  # read by the tool that will restore it
        listing = field_tool("pg_restore", "--list", str(written))
        assert {"cases", "case_events", "media"} <= set(re.findall(r"TABLE DATA public (\w+) ", listing))
    else:
        checked = field_tool("sqlite3", str(written), "PRAGMA integrity_check; SELECT count(*) FROM cases;")
        assert checked.split() == ["ok", "3"]

    restored = cli("restore", str(written), DATABASE_URL=target_url)
    assert restored.returncode == 0, restored.stderr
    assert _one_line(restored.stdout) and "restored" in restored.stdout
    after = await snapshot(target_url)
    assert after == before
    assert {m[-2] for m in after["media"]} == set(hashes.values())  # the photos' original bytes, by hash
    if backend == "sqlite":
        target = Path(target_url.split(":///", 1)[1])
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        with contextlib.closing(sqlite3.connect(target)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # as the gateway runs it


async def test_restore_refuses_a_database_with_cases_or_a_running_gateway_unless_forced(backend, tools, db_url,
                                                                                         tmp_path):
    await populate(db_url)
    at_backup = await snapshot(db_url)
    made = cli("backup", "--to", str(tmp_path), DATABASE_URL=db_url)
    assert made.returncode == 0, made.stderr
    backup_file = made.stdout.strip()
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as s, s.begin():  # a report that came in after the backup
        reporter = (await s.execute(select(Reporter).limit(1))).scalar_one()
        now = datetime.now(UTC)
        await create_case(s, reporter=reporter, chat="telegram:5001", ticket="SMN-01-00-04", incident_type="fire",
                          urgent=True, language="id", latitude=None, longitude=None, address_text=None,
                          description=None, photo_media_id=None, started_at=now, now=now)
    later = await snapshot(db_url)

    refused = cli("restore", backup_file, DATABASE_URL=db_url)
    assert refused.returncode == 1 and _one_line(refused.stderr)
    assert "already holds 4 case(s)" in refused.stderr and "--force" in refused.stderr
    assert await snapshot(db_url) == later  # untouched

    async with make_sessionmaker(engine)() as s, s.begin():  # a worker loop beat just now
        s.add(Heartbeat(process="host:1", loop="inbox", beat_at=datetime.now(UTC)))
    await engine.dispose()
    running = cli("restore", backup_file, DATABASE_URL=db_url)
    assert running.returncode == 1 and _one_line(running.stderr) and "systemctl stop siaga.target" in running.stderr

    forced = cli("restore", backup_file, "--force", DATABASE_URL=db_url)
    assert forced.returncode == 0, forced.stderr
    assert await snapshot(db_url) == at_backup  # the later case is gone: the database is the backup again


async def test_keep_days_removes_only_our_own_old_copies(tmp_path):
    url = await fresh_database_url("sqlite", tmp_path)
    await populate(url)
    out_dir = tmp_path / "backups"
    out_dir.mkdir()
    recent = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ")
    old = ["siaga-20200101T000000Z.pgdump", "siaga-20201231T235959Z.sqlite3"]
    kept = [f"siaga-{recent}.pgdump", f"siaga-{recent}.sqlite3", "siaga-20200101T000000Z.sqlite3.bak",
            "other-20200101T000000Z.sqlite3", "siaga-2020.sqlite3", "notes.txt"]
    for name in old + kept:
        (out_dir / name).write_bytes(b"x")
    (out_dir / "siaga-20200101T000000Z.pgdump.d").mkdir()  # a directory of that shape is not ours either
    made = cli("backup", "--to", str(out_dir), "--keep-days", "7", DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    left = {p.name for p in out_dir.iterdir()}
    assert left == {*kept, "siaga-20200101T000000Z.pgdump.d", Path(made.stdout.strip()).name}
    assert cli("backup", "--to", str(out_dir), "--keep-days", "0", DATABASE_URL=url).returncode == 2  # argparse


async def test_a_failed_backup_says_why_in_one_line_and_rotates_nothing(tmp_path, monkeypatch):
    old = tmp_path / "siaga-20200101T000000Z.pgdump"
    old.write_bytes(b"x")
    closed_port = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/siaga"
    if shutil.which("pg_dump"):
        down = cli("backup", "--to", str(tmp_path), "--keep-days", "1", DATABASE_URL=closed_port)
        assert down.returncode == 1 and _one_line(down.stderr) and down.stdout == ""
        assert down.stderr.startswith("siaga: backup failed: pg_dump of database siaga on 127.0.0.1:1 failed:")
        assert "s3cret-pw" not in down.stderr
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    missing = cli("backup", "--to", str(tmp_path), "--keep-days", "1", DATABASE_URL=closed_port)
    assert missing.returncode == 1 and _one_line(missing.stderr)
    assert "pg_dump not found" in missing.stderr and "postgresql-client" in missing.stderr
    monkeypatch.undo()
    nothing = cli("backup", "--to", str(tmp_path), "--keep-days", "1",
                  DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}")
    assert nothing.returncode == 1 and _one_line(nothing.stderr) and "no database file at" in nothing.stderr
    assert [p.name for p in tmp_path.iterdir()] == [old.name]  # no new file, no temporary one, the old one kept


async def test_a_full_disk_fails_the_backup_cleanly(backend, tools, db_url, tmp_path):
    await populate(db_url)  # two photos: far more than 16 KiB
    old = tmp_path / "siaga-20200101T000000Z.sqlite3"
    old.write_bytes(b"x")

    full = siaga_on_a_full_disk("backup", "--to", str(tmp_path), "--keep-days", "1", DATABASE_URL=db_url)
    assert full.returncode == 1 and _one_line(full.stderr) and full.stdout == ""
    assert full.stderr.startswith("siaga: backup failed:")
    assert re.search(r"File too large|disk is full|disk I/O error|No space left|killed by SIGXFSZ", full.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([old.name, *(["siaga.db", "siaga.db-shm",
                                                                              "siaga.db-wal"] if backend == "sqlite"
                                                                             else [])])


async def test_the_database_password_goes_to_the_environment_never_the_command_line(tmp_path, monkeypatch):
    need("pg_dump", "pg_restore")
    url = await fresh_database_url("postgres", tmp_path)
    await populate(url)
    with_password = url.replace("postgres@", "postgres:s3cret-pw@", 1)  # the local server trusts; libpq sends it
    calls = []
    real_run = subprocess.run

    def spy(argv, **kwargs):
        calls.append((argv, kwargs.get("env") or {}))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(bots.backup.subprocess, "run", spy)
    made = cli("backup", "--to", str(tmp_path / "b"), DATABASE_URL=with_password)
    assert made.returncode == 0, made.stderr
    dump_argv, dump_env = next(call for call in calls if call[0][0].endswith("pg_dump"))
    assert "--format=custom" in dump_argv and not any("s3cret-pw" in arg for arg in dump_argv)
    assert dump_env["PGPASSWORD"] == "s3cret-pw" and dump_env["PGDATABASE"] == PG_DB
    assert "s3cret-pw" not in made.stdout + made.stderr


async def test_sqlite_backup_while_the_gateway_is_writing_takes_the_committed_state(tmp_path):
    url = await fresh_database_url("sqlite", tmp_path)
    await populate(url)
    writer = sqlite3.connect(tmp_path / "siaga.db", isolation_level=None, timeout=1)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a worker mid-transaction holds the write lock
        writer.execute("UPDATE cases SET description = 'not committed yet'")
        made = cli("backup", "--to", str(tmp_path / "b"), DATABASE_URL=url)
        assert made.returncode == 0, made.stderr
        writer.execute("COMMIT")
    finally:
        writer.close()
    with contextlib.closing(sqlite3.connect(made.stdout.strip())) as copy:
        descriptions = {row[0] for row in copy.execute("SELECT description FROM cases")}
    assert descriptions == {"rumah terbakar", None, "fainted at the market"}
