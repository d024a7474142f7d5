"""Shared fixtures: the example deployment, and fresh databases on SQLite and on the local PostgreSQL."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

import core.models  # noqa: F401 - registers the tables
from core.config import load_config
from core.db import Base, make_engine, make_sessionmaker
from tests.session_log import DEFAULT_PATH, SessionLog, find_leaks, known_secrets

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("SIAGA_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
# pytest-xdist (`make test` runs two workers): each worker has its own database, Redis database and log file.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
PG_DB = os.environ.get("SIAGA_TEST_PG_DB", "siaga_test") + (f"_{WORKER}" if WORKER else "")
_REDIS_BASE = os.environ.get("SIAGA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_URL = (_REDIS_BASE.rsplit("/", 1)[0] + f"/{int(_REDIS_BASE.rsplit('/', 1)[1]) - WORKER_INDEX}"
             if WORKER_INDEX and _REDIS_BASE.rsplit("/", 1)[1].isdigit() else _REDIS_BASE)
BACKENDS = ["sqlite", "postgres"]
SESSION_LOG = pytest.StashKey[SessionLog]()
LOG_RESULT = pytest.StashKey[tuple]()
# Seen in the session log whenever an end-to-end test passed: the gateway started, a webhook delivery, a send.
E2E_EVENTS = {"web_started": ('"event": "web_started"',),
              "webhook delivery": ('/webhooks/telegram "HTTP/1.1 200', '/webhooks/whatsapp "HTTP/1.1 200'),
              "outbound call": ("/sendMessage", "/sendPhoto", "Making POST request to /")}


# ---- the session log: every line of the run through the product's logging, checked for leaks at the end ----
# A hook rather than a last test: it runs whatever -k/-m/paths select, cannot be deselected or reordered, and
# sees the lines of every test including the last one's teardown.

def _log_path() -> Path:
    return Path(os.environ.get("SIAGA_TEST_SESSION_LOG", DEFAULT_PATH))


def _worker_logs(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}-gw*{path.suffix}"))


def pytest_configure(config):
    path = _log_path()
    if WORKER:
        path = path.with_name(f"{path.stem}-{WORKER}{path.suffix}")
    else:  # the only process, or xdist's controller: the workers' files of an earlier run must not count
        for stale in _worker_logs(path):
            stale.unlink()
    log = SessionLog(path)
    log.install()
    config.stash[SESSION_LOG] = log


@pytest.fixture(autouse=True)
def _session_log_in_place(pytestconfig):
    """After each test (and its fixtures' teardown), the session capture is installed again if it was replaced."""
    yield
    pytestconfig.stash[SESSION_LOG].ensure()


@pytest.fixture
def session_log(pytestconfig) -> SessionLog:
    return pytestconfig.stash[SESSION_LOG]


_E2E_PASSED: list[str] = []
# The slow files: real gateways waiting on real rate limits. Collected first, so xdist's workers start on them
# together and the run does not end with one worker on a long test while the others idle.
SLOW_FIRST = ("test_runbook", "test_e2e_", "test_browser", "test_web_limits", "test_crash_recovery", "test_polling",
              "test_accounts_cli", "test_cli", "test_upgrade", "test_backup", "test_doctor", "test_deploy_files")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        name = Path(str(item.fspath)).name
        return next((i for i, prefix in enumerate(SLOW_FIRST) if name.startswith(prefix)), len(SLOW_FIRST))
    items.sort(key=rank)  # the slowest files first, so no worker is left with one at the end; stable within


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed and Path(report.location[0]).name.startswith("test_e2e_"):
        _E2E_PASSED.append(report.nodeid)


def session_log_problems(lines: list[str], e2e_passed: list[str]) -> tuple[list, list[str]]:
    """Leaks in the lines, and the end-to-end events missing although end-to-end tests passed (an empty or
    broken capture would otherwise pass the check)."""
    leaks = find_leaks(lines, known_secrets())
    missing = []
    if e2e_passed:
        missing = [name for name, needles in E2E_EVENTS.items()
                   if not any(n in line for line in lines for n in needles)]
    return leaks, missing


def pytest_sessionfinish(session, exitstatus):
    """Checked once, where every report arrives: the single process, or xdist's controller (which reads the
    workers' files; their test reports reach it through pytest_runtest_logreport)."""
    log = session.config.stash.get(SESSION_LOG, None)
    if log is None or WORKER:
        return
    lines = log.lines()
    for path in _worker_logs(log.path):
        lines += path.read_text(encoding="utf-8", errors="backslashreplace").splitlines()
    leaks, missing = session_log_problems(lines, _E2E_PASSED)
    session.config.stash[LOG_RESULT] = (len(lines), leaks, missing, log)
    if (leaks or missing) and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    result = config.stash.get(LOG_RESULT, None)
    if result is None:
        return
    count, leaks, missing, log = result
    if not leaks and not missing:
        terminalreporter.write_line(f"session log: {count} lines checked, no token, phone number, media URL or "
                                    f"photo location ({log.path})")
        return
    terminalreporter.section("session log check FAILED", sep="=", red=True, bold=True)
    terminalreporter.write_line(f"{count} lines in {log.path}")
    for leak in leaks[:100]:
        terminalreporter.write_line(str(leak), red=True)
    if len(leaks) > 100:
        terminalreporter.write_line(f"... and {len(leaks) - 100} more")
    if missing:
        terminalreporter.write_line(f"end-to-end tests passed but the log has no {', '.join(missing)}: "
                                    f"is the capture installed?", red=True)


def pytest_unconfigure(config):
    log = config.stash.get(SESSION_LOG, None)
    if log is not None:
        log.close()


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "config" / "sumenep.yaml")


async def ensure_pg_database(name: str = PG_DB) -> str:
    """Create a test database once (its URL); PostgreSQL must be running (make test expects it, .ci/run starts it)."""
    try:
        conn = await asyncpg.connect(PG_ADMIN)
    except OSError as exc:  # pragma: no cover - environment problem, reported loudly
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}. Start it (see .ci/run).")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    user_host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{user_host}/{name}"


async def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty schema built from the models (the migration test checks they match the migrations)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"
    else:
        url = await ensure_pg_database()
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
