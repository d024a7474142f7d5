"""Upgrading a running regency: a database that v0.11.0 (migration 0011) filled is migrated to head and the
current code reads and works with every kind of row it holds; `siaga migrate --check` tells pending from done,
and every migration goes down and up again, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select, text

from bots.cli import main as siaga_main
from bots.schema_version import SchemaAheadError, head_revision, pending_revisions
from core import accounts, casework
from core.clock import FakeClock
from core.db import make_engine
from core.models import CaseEvent, Conversation, OutboxItem, Timer
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_migrations import BIN, ROOT, _empty_url, _run
from tests.test_web_pages import PASSWORD, sign_in, web

PREVIOUS = "0011"  # the last migration of v0.11.0
ALEMBIC_INI = str(ROOT / "alembic.ini")
OPERATORS, CITIZEN = -1001000000001, 5001
OPEN, CLOSED = "SMN-11-00-01", "SMN-11-00-02"
NAME, DESCRIPTION = "Budi Santoso", "Gudang kayu terbakar dekat pasar"
PHOTO = phone_jpeg(64, 48)


def outbound(to: str, text: str, **fields) -> dict:
    """An outbox payload exactly as v0.11.0 stored it: `asdict(Outbound)` with that release's fields."""
    channel, chat = to.split(":", 1)
    return {"to": {"channel": channel, "id": chat}, "text": text, "choices": [], "request_location": False,
            "location_label": "", "request_contact": False, "contact_label": "", "menu_label": "",
            "remove_keyboard": False, "photo_media_id": None, "location": None, "answer_callback": "",
            "priority": 10, "ref": "", "edit_of": "", "force_reply": False, "template": "", "case_id": None,
            "columns": 1, "merge": "", "line": "", **fields}


def populate_v011(now: datetime) -> list[tuple[str, list[dict]]]:
    """Raw SQL inserts valid for the 0011 schema: what a day of v0.11.0 leaves behind. `now` is the upgrade."""
    submitted = now - timedelta(minutes=2)
    earlier = now - timedelta(days=1)
    card = outbound(f"telegram:{OPERATORS}", f"🔥 {OPEN}", priority=50, ref="card:1", case_id=1,
                    photo_media_id=1)
    return [
        ("INSERT INTO reporters (id, channel, external_id, name, phone, language, blocked, created_at) VALUES "
         "(:id, :channel, :external_id, :name, :phone, 'id', :blocked, :at)", [
             {"id": 1, "channel": "telegram", "external_id": str(CITIZEN), "name": NAME, "phone": "+6281299990001",
              "blocked": False, "at": earlier},
             {"id": 2, "channel": "whatsapp", "external_id": "6281299990002", "name": "Siti", "phone": None,
              "blocked": False, "at": earlier}]),
        ("INSERT INTO conversations (key, state, version, updated_at, last_inbound_at) VALUES "
         "(:key, :state, :version, :at, :at)", [
             {"key": f"telegram:{CITIZEN}", "version": 7, "at": submitted, "state": json.dumps(
                 {"step": "idle", "lang": "id", "draft": None, "touch": 0, "reminded": False, "comment_for": None})},
             {"key": "whatsapp:6281299990002", "version": 3, "at": earlier, "state": json.dumps(
                 {"step": "idle", "lang": "id", "draft": None, "touch": 0, "reminded": False, "comment_for": 2})}]),
        ("INSERT INTO media (id, sha256, mime, size, width, height, original, clean, created_at) VALUES "
         "(1, :sha, 'image/jpeg', :size, 64, 48, :photo, :photo, :at)",
         [{"sha": "b" * 64, "size": len(PHOTO), "photo": PHOTO, "at": submitted}]),
        ("INSERT INTO cases (id, ticket, state, incident_type, urgent, reporter_id, chat, language, latitude, "
         "longitude, address_text, description, photo_media_id, callback_requested, created_at, submitted_at, "
         "verified_at, dispatched_at, accepted_at, on_scene_at, resolved_at, closed_at, sla_due_at, report_count, "
         "rating, rating_comment, rated_at, operator, intake, traffic_class, first_action_at, drill, desa_code, "
         "kecamatan_code, place_match, location_accuracy_m, desk_chat_id, updated_at) VALUES "
         "(:id, :ticket, :state, :type, :urgent, :reporter, :chat, 'id', -7.0167, 113.8667, NULL, :description, "
         ":photo, :callback, :created, :submitted, :verified, :dispatched, :accepted, :on_scene, :resolved, "
         ":closed, :due, 1, :rating, NULL, :rated, :operator, :intake, :traffic, :verified, FALSE, NULL, NULL, "
         ":place, 12.5, NULL, :updated)", [
             {"id": 1, "ticket": OPEN, "state": "submitted", "type": "fire", "urgent": True, "reporter": 1,
              "chat": f"telegram:{CITIZEN}", "description": DESCRIPTION, "photo": 1, "callback": False,
              "created": submitted - timedelta(minutes=1), "submitted": submitted, "verified": None,
              "dispatched": None, "accepted": None, "on_scene": None, "resolved": None, "closed": None,
              "due": submitted + timedelta(minutes=5), "rating": None, "rated": None, "operator": None,
              "intake": "telegram", "traffic": None, "place": "pin_inside", "updated": submitted},
             {"id": 2, "ticket": CLOSED, "state": "closed", "type": "flood", "urgent": False, "reporter": 2,
              "chat": "whatsapp:6281299990002", "description": "Air masuk rumah", "photo": None, "callback": True,
              "created": earlier, "submitted": earlier, "verified": earlier + timedelta(minutes=1),
              "dispatched": earlier + timedelta(minutes=1), "accepted": earlier + timedelta(minutes=3),
              "on_scene": earlier + timedelta(minutes=20), "resolved": earlier + timedelta(hours=2),
              "closed": earlier + timedelta(hours=2), "due": None, "rating": 5,
              "rated": earlier + timedelta(hours=3), "operator": "telegram:1001", "intake": "whatsapp",
              "traffic": "emergency", "place": None, "updated": earlier + timedelta(hours=3)}]),
        ("INSERT INTO case_events (case_id, at, actor, from_state, to_state, note) VALUES "
         "(:case, :at, :actor, :src, :dst, :note)", [
             {"case": 1, "at": submitted - timedelta(minutes=1), "actor": f"telegram:{CITIZEN}", "src": None,
              "dst": "draft", "note": ""},
             {"case": 1, "at": submitted, "actor": f"telegram:{CITIZEN}", "src": "draft", "dst": "submitted",
              "note": ""},
             *({"case": 2, "at": earlier + timedelta(minutes=m), "actor": actor, "src": src, "dst": dst, "note": ""}
               for m, actor, src, dst in [(0, "whatsapp:6281299990002", None, "draft"),
                                          (0, "whatsapp:6281299990002", "draft", "submitted"),
                                          (1, "telegram:1001", "submitted", "dispatched"),
                                          (3, "telegram:3001", "dispatched", "accepted"),
                                          (120, "telegram:3001", "accepted", "resolved"),
                                          (120, "system", "resolved", "closed")])]),
        ("INSERT INTO tasks (id, case_id, agency, state, owner, owner_name, eta_minutes, created_at, accepted_at, "
         "done_at) VALUES (1, 2, 'bpbd', 'done', 'telegram:3001', 'Regu A', 20, :at, :at, :done)",
         [{"at": earlier + timedelta(minutes=1), "done": earlier + timedelta(hours=2)}]),
        ("INSERT INTO outbox (id, channel, chat_id, group_chat, payload, priority, status, attempts, not_before, "
         "case_id, ref, platform_message_id, created_at, sent_at) VALUES "
         "(:id, 'telegram', :lane, :group, :payload, :priority, :status, 0, :at, :case, :ref, :message, :at, :sent)",
         [
             {"id": 1, "lane": f"{OPERATORS}#p50", "group": str(OPERATORS), "payload": json.dumps(card),
              "priority": 50, "status": "sent", "case": 1, "ref": "card:1", "message": "77", "at": submitted,
              "sent": submitted},
             {"id": 2, "lane": str(CITIZEN), "group": None, "priority": 10, "status": "pending", "case": 1,
              "ref": None, "message": None, "at": submitted, "sent": None, "payload": json.dumps(
                 outbound(f"telegram:{CITIZEN}", f"Laporan {OPEN} diterima (dikirim sebelum pembaruan)",
                          case_id=1))}]),
        ("INSERT INTO timers (id, kind, key, version, due_at, payload, status, fired_at) VALUES "
         "(:id, :kind, 'case:1', :version, :due, :payload, :status, NULL)", [
             {"id": 1, "kind": "sla.verify", "version": 0, "due": submitted + timedelta(minutes=1),
              "payload": "{}", "status": "pending"},
             {"id": 2, "kind": "sla.escalate", "version": 0, "due": submitted + timedelta(minutes=20),
              "payload": json.dumps({"role": "kabid"}), "status": "pending"}]),
        ("INSERT INTO accounts (id, username, name, password_hash, role, can_act, active, created_at) VALUES "
         "(1, 'op1', 'Operator Satu', :hash, 'operator', TRUE, TRUE, :at)",
         [{"hash": accounts.hash_password(PASSWORD), "at": earlier}]),
        ("INSERT INTO shifts (id, person, role, started_at, ended_at) VALUES "
         "(1, 'telegram:1001', 'operator', :at, NULL)", [{"at": earlier + timedelta(hours=23)}]),
    ]


def stored(value, backend: str):
    """A parameter as v0.11.0's SQLAlchemy wrote it: SQLite keeps UTC text without a zone."""
    if isinstance(value, datetime) and backend == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


async def fill(url: str, backend: str, now: datetime) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, rows in populate_v011(now):
                await conn.execute(text(sql), [{k: stored(v, backend) for k, v in row.items()} for row in rows])
            if backend == "postgres":  # ids were given: the sequences continue after them, as they did in v0.11.0
                for table in ("reporters", "media", "cases", "case_events", "tasks", "outbox", "timers",
                              "accounts", "shifts"):
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    finally:
        await engine.dispose()


@pytest.fixture
def siaga(monkeypatch, capsys):
    """`siaga migrate [--check]` in this process (a thread: migrations run their own event loop), run from the
    checkout as the units do: (exit code, stdout, stderr). tests/test_migrations.py runs the console script."""
    monkeypatch.chdir(ROOT)

    async def run(url: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DATABASE_URL", url)
        capsys.readouterr()
        code = await asyncio.to_thread(siaga_main, ["migrate", *args])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


async def alembic(url: str, verb: str, revision: str) -> None:
    """`alembic upgrade|downgrade <revision>` in this process."""
    cfg = Config(ALEMBIC_INI)
    cfg.attributes["database_url"] = url
    await asyncio.to_thread(getattr(command, verb), cfg, revision)


async def schema(url: str) -> dict:
    """Every table's columns, indexes, keys and constraints as the database reports them."""
    def read(conn) -> dict:
        spy = inspect(conn)
        return {table: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in spy.get_columns(table)),
                        sorted(str(sorted(i.items())) for i in spy.get_indexes(table)),
                        sorted(str(sorted(f.items())) for f in spy.get_foreign_keys(table)),
                        str(spy.get_pk_constraint(table)["constrained_columns"]),
                        sorted(str(sorted(u.items())) for u in spy.get_unique_constraints(table)))
                for table in spy.get_table_names()}
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def test_a_database_filled_by_v0_11_0_upgrades_and_keeps_working(backend, tmp_path, config, fake,
                                                                         redis_url, siaga):
    url = await _empty_url(backend, tmp_path)
    await alembic(url, "upgrade", PREVIOUS)
    now = datetime.now(UTC)
    await fill(url, backend, now)

    code, out, err = await siaga(url, "--check")
    assert code == 1, out + err
    assert f"pending: {PREVIOUS} → {head_revision(ALEMBIC_INI)}" in out
    assert "  0012  Operations kit: each worker loop's last heartbeat" in out
    assert NAME not in out + err and "6281299990001" not in out + err

    assert (await siaga(url))[0] == 0
    code, out, _ = await siaga(url, "--check")
    assert (code, out.strip()) == (0, f"schema at head ({head_revision(ALEMBIC_INI)})")
    assert pending_revisions(url, ALEMBIC_INI) == []

    # the core reads the old rows: the case, its timeline, the stored conversation
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            assert "heartbeats" in await conn.run_sync(lambda c: inspect(c).get_table_names())
        from core.db import make_sessionmaker
        async with make_sessionmaker(engine)() as s, s.begin():
            case = await casework.case_by_ticket(s, OPEN)
            assert case is not None and case.state == "submitted" and case.photo_media_id == 1
            assert case.submitted_at.tzinfo is not None and abs(case.submitted_at - (now - timedelta(minutes=2))) \
                < timedelta(seconds=1)
            closed = await casework.case_by_ticket(s, CLOSED)
            assert closed is not None and [t.state for t in await casework.tasks_of(s, closed.id)] == ["done"]
            conv = await s.get(Conversation, f"telegram:{CITIZEN}")
            assert conv is not None and conv.version == 7
    finally:
        await engine.dispose()

    # a worker sends the message left pending and fires the clock step the old release armed
    fake.start_private(CITIZEN)
    extra = {} if backend == "sqlite" else {"redis_url": redis_url, "run_worker": False, "workers": 1}
    async with gateway(fake, url, clock=FakeClock(), **extra) as gw:
        await eventually(lambda: any("dikirim sebelum pembaruan" in (m.get("text") or "")
                                     for m in fake.sent(CITIZEN)), timeout=30)
        await eventually(lambda: any("belum diverifikasi" in (m.get("text") or "") and OPEN in m["text"]
                                     for m in fake.sent(OPERATORS)), timeout=30)
        async with gw.deps.sessions() as s:
            statuses = dict((await s.execute(select(OutboxItem.id, OutboxItem.status))).all())
            assert statuses[2] == "sent"
            assert (await s.get(Timer, 1)).status == "fired"
            assert (await s.get(Timer, 2)).status == "pending"  # not due yet: kept as armed
            notes = (await s.execute(select(CaseEvent.note).where(CaseEvent.case_id == 1))).scalars().all()
            assert "sla:verify_reminder" in notes
            new_ids = (await s.execute(select(func.max(OutboxItem.id)))).scalar_one()
            assert new_ids > 2  # rows written after the upgrade take ids after the old ones

    # the dashboard (after the worker: a web without a Telegram token would park what it cannot send) shows the
    # old case with its photo to the operator whose account v0.11.0 created
    async with web(url, config) as (client, _deps):
        assert (await sign_in(client, "op1")).status_code == 303
        page = await client.get(f"/dashboard/cases/{OPEN}")
        assert page.status_code == 200 and NAME in page.text and DESCRIPTION in page.text
        assert (await client.get("/dashboard/media/1")).content == PHOTO
        assert CLOSED in (await client.get("/dashboard/cases/" + CLOSED)).text


async def test_every_migration_goes_down_and_up_again(backend, tmp_path, siaga):
    """head → base → head: each downgrade undoes its upgrade cleanly (nothing left behind, the same schema built
    again), so a release's migrations can be rolled back step by step."""
    url = await _empty_url(backend, tmp_path)
    assert (await siaga(url))[0] == 0
    built = await schema(url)
    await alembic(url, "downgrade", "base")
    assert set(await schema(url)) == {"alembic_version"}
    migrations = sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("0*.py"))
    assert pending_revisions(url, ALEMBIC_INI) == migrations  # every one, oldest first
    assert (await siaga(url))[0] == 0
    assert await schema(url) == built


async def test_check_refuses_a_database_newer_than_the_code(backend, tmp_path, siaga):
    url = await _empty_url(backend, tmp_path)
    await alembic(url, "upgrade", "0001")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    finally:
        await engine.dispose()
    with pytest.raises(SchemaAheadError, match="0099"):
        pending_revisions(url, ALEMBIC_INI)
    code, _, err = await siaga(url, "--check")
    assert code == 2 and "0099" in err and "newer release" in err


async def test_check_says_so_when_the_database_is_unreachable_or_was_never_migrated(tmp_path, siaga):
    """The unreachable case through the installed console script: the exit code a unit or a script sees."""
    check = _run([str(BIN / "siaga"), "migrate", "--check"], "postgresql+asyncpg://siaga@127.0.0.1:1/siaga")
    assert check.returncode == 2 and "database unreachable" in check.stderr, check.stderr
    fresh = tmp_path / "never" / "siaga.db"
    code, out, _ = await siaga(f"sqlite+aiosqlite:///{fresh}", "--check")  # the embedded default, first day
    assert code == 1 and "pending: empty (never migrated) → " in out and not fresh.exists()
