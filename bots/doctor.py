"""The checks behind `siaga doctor`: each says ok, warn or fail, what it saw, and how to fix it, with no secret."""
from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy.engine import make_url

from core.config import ConfigError, Deployment, load_config
from core.settings import Settings, SettingsError, load_settings

ENV_FILE = "/etc/siaga/siaga.env"
RESTART = "systemctl restart siaga.target"
BACKUP_DIR = "/var/backups/siaga"
STATE_DIR = "/var/lib/siaga"  # StateDirectory=siaga of the systemd units
GIB = 1024**3
MIB = 1024**2
CLOCK_WARN_SECONDS = 30.0  # Telegram and WhatsApp timestamps, SLA timers and digests all trust this clock
CLOCK_FAIL_SECONDS = 300.0
RECENT_WEBHOOK_ERROR_SECONDS = 3600  # an older delivery error has been followed by deliveries that worked
PENDING_UPDATES_WARN = 100


@dataclass(frozen=True)
class Finding:
    """One check's verdict: status ok|warn|fail, what it looked at, what it saw, and the fix when not ok."""

    status: str
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        label = {"ok": "ok", "warn": "warn", "fail": "FAIL"}[self.status]
        text = f"{label:<6}{self.what}: {self.detail}"
        return f"{text} — fix: {self.fix}" if self.fix and self.status != "ok" else text


def ok(what: str, detail: str) -> Finding:
    return Finding("ok", what, detail)


def warn(what: str, detail: str, fix: str) -> Finding:
    return Finding("warn", what, detail, fix)


def fail(what: str, detail: str, fix: str) -> Finding:
    return Finding("fail", what, detail, fix)


@dataclass(frozen=True)
class Options:
    """What a run looks at and how strict it is (tests lower the disk thresholds to trip them)."""

    alembic_ini: str = "alembic.ini"
    backup_dir: str = BACKUP_DIR
    state_dir: str = STATE_DIR
    timeout: float = 5.0  # each remote call; a hung API must not hang the doctor
    disk_warn_bytes: int = GIB
    disk_fail_bytes: int = 200 * MIB
    extra_paths: tuple[str, ...] = field(default_factory=tuple)


# ---- settings and the deployment file ----------------------------------------------------------------


def check_settings() -> tuple[Finding, Settings | None]:
    """The environment parses (core/settings.py); a SettingsError names the variable."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return fail("settings", str(exc), f"correct it in {ENV_FILE}, then {RESTART}"), None
    mode = "embedded default (SQLite, no Redis)" if settings.embedded_default else (
        "several processes (Redis)" if settings.redis_url else "one process (no Redis)")
    return ok("settings", f"{mode}, deployment file {settings.siaga_config}"), settings


def check_secret_key(settings: Settings) -> Finding:
    """Outside the embedded default every process must sign web-chat identities with the same key."""
    if settings.siaga_secret_key is not None:
        return ok("secret key", "SIAGA_SECRET_KEY set")
    if settings.embedded_default:
        return ok("secret key", "embedded default: generated once as var/secret_key")
    return fail("secret key", "SIAGA_SECRET_KEY is unset (required with PostgreSQL or Redis)",
                f"add SIAGA_SECRET_KEY=$(openssl rand -hex 32) to {ENV_FILE}, the same on every host, then {RESTART}")


def check_public_url(settings: Settings) -> Finding:
    """Telegram and Meta deliver webhooks only to https; HSTS and secure cookies need it too."""
    url = settings.public_base_url
    if url is None:
        return ok("public URL", "PUBLIC_BASE_URL unset: no webhooks are registered (Telegram polls)")
    if not url.startswith("https://"):
        return fail("public URL", f"PUBLIC_BASE_URL is {url}, not https",
                    f"serve the site over TLS (deploy/caddy or deploy/nginx) and set PUBLIC_BASE_URL=https://… in "
                    f"{ENV_FILE}, then {RESTART}")
    return ok("public URL", url)


def check_deployment(settings: Settings) -> tuple[list[Finding], Deployment | None]:
    """What `siaga config check` says: the file loads, plus its warnings."""
    path = settings.siaga_config
    fix = f"edit {path} (see config/sumenep.yaml for every key), check it with `siaga config check`, then {RESTART}"
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [fail("deployment file", str(exc), fix)], None
    found = [ok("deployment file", f"{path}: {len(config.agencies)} agencies, "
                                   f"{len(config.incident_types)} incident types")]
    found += [warn("deployment file", note, fix) for note in config.warnings()]
    return found, config


def _configured_zone(settings: Settings, config: Deployment | None) -> str:
    """The region's zone, read from the raw file when it did not load (an unknown zone is one reason)."""
    if config is not None:
        return config.region.timezone
    try:
        with open(settings.siaga_config, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return str(data["region"].get("timezone", "Asia/Jakarta"))
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return "Asia/Jakarta"


def check_time_zone(zone: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Finding:
    """Digests, shifts and the times in messages are local: the zone must exist in this machine's zoneinfo."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return fail("time zone", f"{zone!r} is not in this machine's time zone database",
                    "install the tzdata package (`apt install tzdata`) or set region.timezone to an IANA name "
                    "(Asia/Jakarta, Asia/Makassar, Asia/Jayapura) in the deployment file")
    local = now().astimezone(tz)
    return ok("time zone", f"{zone} (UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}), "
                           f"local time {local:%Y-%m-%d %H:%M}")


# ---- database, schema, clock, Redis ------------------------------------------------------------------


def describe_database(url: str) -> str:
    """`postgresql at host:port/db` or `sqlite at path`: never the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite at {parsed.database}"
    return f"postgresql at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


async def _database_now(url: str, timeout: float) -> datetime:
    """The database server's clock (and proof it answers)."""
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    await conn.execute(text("SELECT 1"))
                    return datetime.now(UTC)
                value = (await conn.execute(text("SELECT now()"))).scalar_one()
                return value if value.tzinfo else value.replace(tzinfo=UTC)
    finally:
        await engine.dispose()


async def check_database(settings: Settings, options: Options) -> list[Finding]:
    """Reachable, at the code's newest migration, and with a clock that agrees with ours."""
    from bots.schema_version import SchemaVersionError, state

    url, where = settings.database_url, describe_database(settings.database_url)
    database_path = make_url(url).database if url.startswith("sqlite") else None
    if database_path and database_path != ":memory:" and not await asyncio.to_thread(Path(database_path).exists):
        return [fail("database", f"{where}: no such file (never migrated)",
                     "run `siaga migrate` (systemctl start siaga-release.service)")]
    try:
        before = time.time()
        db_now = await _database_now(url, options.timeout)
        ours = datetime.fromtimestamp((before + time.time()) / 2, UTC)
    except Exception as exc:  # noqa: BLE001 - any driver or network error means "cannot reach it"
        return [fail("database", f"{where}: cannot connect ({_reason(exc)})",
                     f"check that PostgreSQL runs (`systemctl status postgresql`) and DATABASE_URL in {ENV_FILE} "
                     "(host, port, database, user, password)")]
    try:
        current, pending, head = await asyncio.to_thread(state, url, options.alembic_ini)
    except SchemaVersionError as exc:
        return [fail("database", f"{where}: {_one_line(str(exc))}",
                     "run the release whose migrations the database has, or restore a backup")]
    found = []
    if pending:
        at = ", ".join(current) or "empty"
        found.append(fail("database", f"{where}, schema at {at}; {len(pending)} migration(s) pending "
                                      f"({', '.join(pending)}; head is {head})",
                          "back up (`siaga backup`), then run `siaga migrate` (systemctl start siaga-release.service) "
                          f"and {RESTART}"))
    else:
        found.append(ok("database", f"{where}, schema at {head}"))
    found.append(check_clock(db_now, ours, where if not url.startswith("sqlite") else None))
    return found


def check_clock(database_now: datetime, ours: datetime, database: str | None) -> Finding:
    """SLA deadlines and timers are written by one host and fired by another: their clocks must agree."""
    if ours.year < 2025:
        return fail("clock", f"the system clock says {ours:%Y-%m-%d}",
                    "enable time synchronisation: `timedatectl set-ntp true` (systemd-timesyncd or chrony)")
    if database is None:
        return ok("clock", f"{ours:%Y-%m-%d %H:%M:%S} UTC (SQLite: no second clock to compare with)")
    skew = (ours - database_now).total_seconds()
    detail = f"this host and the database ({database}) differ by {abs(skew):.1f} s"
    fix = "enable time synchronisation on both hosts: `timedatectl set-ntp true` (systemd-timesyncd or chrony)"
    if abs(skew) >= CLOCK_FAIL_SECONDS:
        return fail("clock", detail, fix)
    if abs(skew) >= CLOCK_WARN_SECONDS:
        return warn("clock", detail, fix)
    return ok("clock", detail)


async def check_redis(settings: Settings, options: Options) -> Finding:
    """Several processes coordinate through Redis; /readyz answers 503 without it."""
    if settings.redis_url is None:
        return ok("redis", "REDIS_URL unset: one process coordinates itself")
    import redis.asyncio as aioredis

    parsed = urlsplit(settings.redis_url)
    where = (f"{parsed.hostname}:{parsed.port or 6379}/{parsed.path.strip('/') or 0}" if parsed.hostname
             else "REDIS_URL")
    client = aioredis.from_url(settings.redis_url, socket_connect_timeout=options.timeout,
                               socket_timeout=options.timeout)
    try:
        async with asyncio.timeout(options.timeout):
            await client.ping()
    except (TimeoutError, OSError, aioredis.RedisError) as exc:
        return fail("redis", f"{where}: PING failed ({_reason(exc)})",
                    f"check that Redis runs (`systemctl status redis-server`) and REDIS_URL in {ENV_FILE}")
    finally:
        await client.aclose()
    return ok("redis", f"{where}: PING answered")


# ---- Telegram -----------------------------------------------------------------------------------------


async def check_telegram(settings: Settings, options: Options,
                         now: Callable[[], float] = time.time) -> list[Finding]:
    """getMe (the token is valid, and which bot it is) and getWebhookInfo (where updates go, what is stuck)."""
    if settings.telegram_bot_token is None:
        return [ok("telegram", "off (TELEGRAM_BOT_TOKEN unset)")]
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    from telegram.request import HTTPXRequest

    base = settings.telegram_api_base_url.rstrip("/")
    token_fix = f"set TELEGRAM_BOT_TOKEN from @BotFather in {ENV_FILE}, then {RESTART}"
    net_fix = (f"check that this host reaches {base} over HTTPS (firewall, proxy, DNS); TELEGRAM_API_BASE_URL "
               f"in {ENV_FILE}")
    requests = [HTTPXRequest(connect_timeout=options.timeout, read_timeout=options.timeout,
                             write_timeout=options.timeout, pool_timeout=options.timeout) for _ in range(2)]
    bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=f"{base}/bot",
              base_file_url=f"{base}/file/bot", request=requests[0], get_updates_request=requests[1])
    try:
        try:
            async with asyncio.timeout(options.timeout):
                me = await bot.get_me()
        except InvalidToken:
            return [fail("telegram token", "getMe answered 401 Unauthorized (the token was revoked or mistyped)",
                         token_fix)]
        except (TimeoutError, NetworkError) as exc:
            return [fail("telegram token", f"getMe: no answer from {base} ({_reason(exc)})", net_fix)]
        except TelegramError as exc:
            return [fail("telegram token", f"getMe refused: {_one_line(exc.message)}", token_fix)]
        found = [ok("telegram token", f"bot @{me.username} (getMe)")]
        try:
            async with asyncio.timeout(options.timeout):
                info = await bot.get_webhook_info()
        except (TimeoutError, TelegramError) as exc:
            return [*found, fail("telegram webhook", f"getWebhookInfo: {_reason(exc)}", net_fix)]
        found.append(_webhook_finding(settings, info.url, info.pending_update_count,
                                      info.last_error_date, info.last_error_message, now()))
        return found
    finally:
        for request in requests:
            await request.shutdown()


def _webhook_finding(settings: Settings, url: str, pending: int, error_at: datetime | None,
                     error: str | None, now: float) -> Finding:
    """Webhook mode: Telegram delivers to our URL and nothing piles up. Polling mode: no webhook is set."""
    if settings.telegram_effective_mode == "polling":
        if url:
            return fail("telegram webhook", f"polling mode, but a webhook is set to {url}: getUpdates is refused",
                        "give each installation its own bot; `siaga web` in polling mode deletes the webhook at "
                        f"start-up ({RESTART}); or set PUBLIC_BASE_URL for webhook mode")
        return ok("telegram webhook", f"polling mode, no webhook set, {pending} update(s) waiting")
    expected = f"{settings.public_base_url}/webhooks/telegram"
    if not url:
        return fail("telegram webhook", f"no webhook set (expected {expected})",
                    f"`siaga web` registers it at start-up: {RESTART}, then look for errors in "
                    "`journalctl -u 'siaga-web@*'`")
    if url != expected:
        return fail("telegram webhook", f"set to {url}, expected {expected}",
                    f"check PUBLIC_BASE_URL in {ENV_FILE} (another installation may share this bot), then {RESTART}")
    if error_at is not None and now - error_at.timestamp() < RECENT_WEBHOOK_ERROR_SECONDS:
        minutes = max(0, int((now - error_at.timestamp()) // 60))
        return fail("telegram webhook", f"{expected}: {pending} update(s) waiting; last delivery error "
                                        f"{minutes} min ago: {_one_line(error or '?')}",
                    f"make sure {expected} is reachable from the internet: the proxy runs and its certificate is "
                    "valid (deploy/caddy or deploy/nginx), siaga-web@8001/8002 run (`systemctl status "
                    "'siaga-web@*'`), and the database answers")
    if pending >= PENDING_UPDATES_WARN:
        return warn("telegram webhook", f"{expected}: {pending} updates waiting for delivery",
                    "check that the web processes keep up (`systemctl status 'siaga-web@*'`, /metrics webhook "
                    "latency)")
    return ok("telegram webhook", f"{expected}, {pending} update(s) waiting, no recent delivery error")


# ---- WhatsApp -----------------------------------------------------------------------------------------


async def check_whatsapp(settings: Settings, options: Options) -> Finding:
    """The access token reads the business number: it is valid, the id is right, and Meta's quality rating.
    Plain httpx (pywa's session client) rather than pywa's call: pywa logs the answer, number included, at DEBUG."""
    if settings.whatsapp_access_token is None:
        return ok("whatsapp", "off (WHATSAPP_ACCESS_TOKEN unset)")
    import httpx

    phone_id = settings.whatsapp_phone_number_id or ""
    base = f"{settings.whatsapp_api_base_url.rstrip('/')}/{settings.whatsapp_api_version}"
    headers = {"Authorization": f"Bearer {settings.whatsapp_access_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=base, timeout=options.timeout, headers=headers) as session:
        try:
            async with asyncio.timeout(options.timeout):
                answer = await session.get(f"/{phone_id}",
                                           params={"fields": "display_phone_number,verified_name,quality_rating"})
            body = answer.json()
        except (TimeoutError, httpx.HTTPError, ValueError) as exc:
            return fail("whatsapp token", f"no answer from {settings.whatsapp_api_base_url} ({_reason(exc)})",
                        "check that this host reaches the Graph API over HTTPS (firewall, proxy, DNS)")
    error = body.get("error") if isinstance(body, dict) else None
    if answer.status_code >= 400 or not isinstance(body, dict) or error:
        code = error.get("code") if isinstance(error, dict) else None
        if answer.status_code == 401 or code == 190:
            return fail("whatsapp token", f"the Graph API refused the token (error {code}, HTTP {answer.status_code})",
                        "make a permanent System User token in Meta Business Settings (whatsapp_business_messaging "
                        f"permission), set WHATSAPP_ACCESS_TOKEN in {ENV_FILE}, then {RESTART}")
        message = _one_line(str(error.get("message", ""))) if isinstance(error, dict) else ""
        return fail("whatsapp number", f"phone number id {phone_id}: Graph error {code} (HTTP {answer.status_code}"
                                       f"{': ' + message if message else ''})",
                    f"copy the id from WhatsApp Manager → API Setup into WHATSAPP_PHONE_NUMBER_ID in {ENV_FILE}, "
                    f"then {RESTART}")
    detail = (f"{body.get('display_phone_number', '?')} {body.get('verified_name', '')!r}, "
              f"quality {body.get('quality_rating', '?')}")
    if body.get("quality_rating") in ("RED", "YELLOW"):
        return warn("whatsapp number", detail, "Meta may limit this number: read the quality notes in WhatsApp "
                                               "Manager and reduce messages people block or report")
    return ok("whatsapp number", detail)


# ---- disk ---------------------------------------------------------------------------------------------


def check_disk(paths: list[tuple[str, str]], warn_bytes: int, fail_bytes: int) -> list[Finding]:
    """Free space where the SQLite database, var/ and the backups live (one line per file system)."""
    places: dict[int, tuple[Path, list[str]]] = {}
    for label, raw in paths:
        path = Path(raw)
        while not path.exists() and path != path.parent:  # not made yet: the file system it will land on
            path = path.parent
        places.setdefault(path.stat().st_dev, (path, []))[1].append(label)
    found = []
    for path, labels in places.values():
        free = shutil.disk_usage(path).free
        detail = f"{_size(free)} free at {path} ({', '.join(labels)})"
        fix = (f"free space on the file system of {path}: remove old backups (`siaga backup --keep-days 7`), "
               "`journalctl --vacuum-size=200M`, `apt-get clean`, or grow the disk")
        if free < fail_bytes:
            found.append(fail("disk", f"{detail}, under {_size(fail_bytes)}", fix))
        elif free < warn_bytes:
            found.append(warn("disk", f"{detail}, under {_size(warn_bytes)}", fix))
        else:
            found.append(ok("disk", detail))
    return found


def disk_paths(settings: Settings, options: Options) -> list[tuple[str, str]]:
    paths = [("var/", "var")]
    if settings.database_url.startswith("sqlite"):
        database = make_url(settings.database_url).database
        if database and database != ":memory:":
            paths.insert(0, ("SQLite database", str(Path(database).parent)))
    paths += [("state", options.state_dir), ("backups", options.backup_dir)]
    paths += [("path", extra) for extra in options.extra_paths]
    return paths


# ---- the run ------------------------------------------------------------------------------------------


async def examine(options: Options | None = None) -> list[Finding]:
    """Every check, in the order an IT person would fix them; settings that do not load stop the rest."""
    options = options or Options()
    first, settings = check_settings()
    if settings is None:
        return [first]
    found = [first, check_secret_key(settings), check_public_url(settings)]
    deployment, config = check_deployment(settings)
    found += deployment
    found.append(check_time_zone(_configured_zone(settings, config)))
    remote: list[Awaitable[list[Finding]]] = [
        check_database(settings, options), _listed(check_redis(settings, options)),
        check_telegram(settings, options), _listed(check_whatsapp(settings, options))]
    for group in await asyncio.gather(*remote):  # side by side: the slowest API sets the time, not the sum
        found += group
    found += check_disk(disk_paths(settings, options), options.disk_warn_bytes, options.disk_fail_bytes)
    return [redact(finding, secrets_of(settings)) for finding in found]


async def _listed(check: Awaitable[Finding]) -> list[Finding]:
    return [await check]


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold, to be blanked out of any line that might quote one."""
    values = [secret.get_secret_value() for secret in (
        settings.telegram_bot_token, settings.telegram_webhook_secret, settings.whatsapp_access_token,
        settings.whatsapp_app_secret, settings.whatsapp_verify_token, settings.siaga_secret_key,
        settings.metrics_token) if secret is not None]
    for url in (settings.database_url, settings.redis_url):
        password = urlsplit(url).password if url else None
        if password:
            values.append(password)
    return [value for value in values if len(value) >= 4]


def redact(finding: Finding, secrets: list[str]) -> Finding:
    """The same finding with every secret value replaced by ***."""
    detail, fix = finding.detail, finding.fix
    for secret in secrets:
        detail, fix = detail.replace(secret, "***"), fix.replace(secret, "***")
    return Finding(finding.status, finding.what, detail, fix)


def exit_code(findings: list[Finding]) -> int:
    """0 when nothing failed (warnings allowed), 1 on any failure."""
    return 1 if any(f.status == "fail" for f in findings) else 0


def as_json(findings: list[Finding]) -> list[dict[str, str]]:
    return [asdict(finding) for finding in findings]


def _reason(exc: BaseException) -> str:
    """An error's type and first line (no SQL, parameters or URLs with credentials follow the first line)."""
    text = _one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:200]


def _size(count: int) -> str:
    return f"{count / GIB:.1f} GiB" if count >= GIB else f"{count / MIB:.0f} MiB"

