"""Issue 12 item 7 and the file half of 12: security headers, no-store dashboard, /docs without a CDN, a guarded
/metrics whose database gauges are computed at most every few seconds, and owner-only files."""
from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import event

from bots.app import create_app
from bots.cli_privacy import write_private
from core.clock import FakeClock
from core.config import ConfigError, Map, parse_config
from core.db import make_engine, make_sessionmaker
from core.models import Reporter
from core.settings import load_settings
from tests.conftest import fresh_database_url
from tests.harness import SECRET_KEY, free_port, serve_app
from tests.test_cli import ROOT, SIAGA
from tests.test_web_pages import seed, sign_in

OSM = "https://tile.openstreetmap.org"
PAGES = ("/chat", "/dashboard/login", "/public", "/docs", "/open311/v2/services.json", "/healthz",
         "/static/siaga.css", "/no-such-page")


@asynccontextmanager
async def served(url: str, config, **settings):
    """The real app over HTTP, like tests/test_web_pages.py's web(), with extra settings."""
    port = free_port()
    values = {"database_url": url, "public_base_url": None, "port": port, "siaga_secret_key": SECRET_KEY, **settings}
    app = create_app(load_settings(**values), config, clock=FakeClock())
    async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client, app.state.deps


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def assert_hardened(response: httpx.Response, tiles: str | None = OSM) -> None:
    policy = csp(response)
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"], response.url
    assert policy["style-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"] + ([tiles] if tiles else [])
    assert not any("unsafe" in value or value == "*" for values in policy.values() for value in values)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def assert_no_inline_code(html: str) -> None:
    """What the CSP would block in a browser: inline scripts, style attributes and <style>, on… handlers."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    inline = re.search(r".{0,40}(<style\b|\sstyle=|\son[a-z]+=).{0,40}", html, re.IGNORECASE | re.DOTALL)
    assert inline is None, inline.group(0)


async def test_every_response_carries_the_security_headers_and_no_page_needs_inline_code(tmp_path, config):
    async with served(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        for path in PAGES:
            response = await client.get(path)
            assert_hardened(response)
            assert "strict-transport-security" not in response.headers  # plain http: no HSTS
        webhook = await client.post("/webhooks/whatsapp", content=b"{}")
        assert_hardened(webhook)
        for path in ("/chat", "/dashboard/login", "/public", "/docs"):
            assert_no_inline_code((await client.get(path)).text)
        await sign_in(client, "op1")
        for path in ("/dashboard", "/dashboard/rows", "/dashboard/cases/SMP-42-42-42", "/dashboard/figures"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert_hardened(response)
            assert_no_inline_code(response.text)


def test_no_template_needs_inline_script_or_style():
    templates = sorted((ROOT / "bots" / "web" / "templates").glob("*.html"))
    assert len(templates) >= 8
    for template in templates:
        assert_no_inline_code(template.read_text())


async def test_hsts_only_behind_an_https_public_url_and_the_csp_follows_the_configured_tiles(tmp_path, config):
    tiles = config.model_copy(update={"map": Map(tile_url="https://{s}.peta.sumenepkab.go.id/osm/{z}/{x}/{y}.png")})
    url = await fresh_database_url("sqlite", tmp_path)
    async with served(url, tiles, public_base_url="https://112.sumenepkab.go.id") as (client, _):
        for path in ("/chat", "/dashboard/login", "/healthz"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            assert_hardened(response, tiles="https://*.peta.sumenepkab.go.id")
    offline = config.model_copy(update={"map": Map(tile_url=None)})
    async with served(url, offline, public_base_url="http://10.0.0.5:8000") as (client, _):
        response = await client.get("/chat")
        assert_hardened(response, tiles=None)
        assert "strict-transport-security" not in response.headers


def test_a_tile_url_that_would_widen_the_csp_is_refused(config):
    data = json.loads(config.model_dump_json())
    for bad in ("https://tiles.example.org/{z}/{x}/{y}.png; script-src *", "javascript:alert(1)//{z}{x}{y}",
                "https://tiles.example.org/{z}/{x}.png", "https://*.example.org/{z}/{x}/{y}.png"):
        data["map"] = {"tile_url": bad}
        with pytest.raises(ConfigError, match=r"map\.tile_url"):
            parse_config(data, "sumenep.yaml")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_no_dashboard_response_may_be_cached(backend, tmp_path, config):
    async with served(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        photo = await seed(deps, config)
        signed_out = [await client.get("/dashboard/login"), await client.get("/dashboard"), await client.get(photo)]
        await sign_in(client, "op1")
        paths = ("/dashboard", "/dashboard/rows", "/dashboard/cases/SMP-42-42-42", "/dashboard/figures",
                 "/dashboard/export.csv", "/dashboard/export.xlsx", photo)
        responses = signed_out + [await client.get(path) for path in paths]
        assert [r.status_code for r in responses[3:]] == [200] * len(paths)
        for response in responses:
            assert "no-store" in response.headers["cache-control"], response.url
        assert "no-store" not in (await client.get("/public")).headers.get("cache-control", "")


async def test_docs_come_from_vendored_assets_under_the_same_csp(tmp_path, config):
    async with served(await fresh_database_url("sqlite", tmp_path), config) as (client, _):
        page = await client.get("/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        assert_hardened(page)
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
        assert not re.search(r"https?://", page.text)
        for ref in refs:
            assert (await client.get(ref)).status_code == 200, ref
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/redoc")).status_code == 404


@asynccontextmanager
async def counting_gauge_queries(deps):
    """Count the statements /metrics sends to the database (the inbox and outbox GROUP BY counts)."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        if "count(" in statement.lower() and ("inbox" in statement or "outbox" in statement):
            seen.append(statement)

    event.listen(deps.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(deps.engine.sync_engine, "before_cursor_execute", before)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_metrics_database_gauges_are_computed_at_most_every_few_seconds(backend, tmp_path, config):
    async with (served(await fresh_database_url(backend, tmp_path), config) as (client, deps),
                counting_gauge_queries(deps) as seen):
        scrapes = await asyncio.gather(*(client.get("/metrics") for _ in range(8)))  # a scrape storm
        scrapes += [await client.get("/metrics") for _ in range(4)]
        assert {r.status_code for r in scrapes} == {200}
        assert "siaga_outbox_messages" in scrapes[-1].text
        assert len(seen) == 2  # one inbox count and one outbox count for all twelve
        deps.clock.advance(seconds=6)
        assert (await client.get("/metrics")).status_code == 200
        assert len(seen) == 4


async def test_metrics_requires_the_bearer_token_when_one_is_set(tmp_path, config):
    url = await fresh_database_url("sqlite", tmp_path)
    async with served(url, config) as (client, _):
        assert (await client.get("/metrics")).status_code == 200  # unset: open (keep it internal at the proxy)
    token = "scrape-" + "9" * 32
    async with served(url, config, metrics_token=token) as (client, _):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"},
                        {"Authorization": f"Bearer {token}x"}, {"Authorization": token}):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401 and "siaga_" not in refused.text, headers
            assert refused.headers["www-authenticate"] == "Bearer"
        allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200 and "siaga_inbox_events" in allowed.text
        assert (await client.get("/healthz")).status_code == 200  # only /metrics is guarded


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def siaga(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([SIAGA, *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60, check=False)


async def test_the_database_and_exported_files_are_readable_by_their_owner_only(tmp_path):
    old = os.umask(0o022)  # the usual umask: files would be 0644, world-readable
    try:
        db = tmp_path / "var" / "siaga.db"
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
        assert siaga("migrate", **env).returncode == 0
        assert mode(db) == 0o600
        for side in (tmp_path / "var" / "siaga.db-wal", tmp_path / "var" / "siaga.db-shm"):
            assert not side.exists() or mode(side) == 0o600

        engine = make_engine(env["DATABASE_URL"])
        async with make_sessionmaker(engine)() as session, session.begin():
            session.add(Reporter(channel="telegram", external_id="5001", name="Siti", language="id"))
        await engine.dispose()
        out = tmp_path / "siti.json"
        exported = siaga("privacy", "export", "telegram", "5001", "--out", str(out), **env)
        assert exported.returncode == 0 and '"Siti"' in out.read_text()
        assert mode(out) == 0o600
        out.chmod(0o644)  # an old export left readable is tightened when written again
        write_private(str(out), "{}")
        assert mode(out) == 0o600

        legacy = tmp_path / "legacy.db"  # a database created world-readable by an earlier version
        legacy.touch()
        legacy.chmod(0o644)
        engine = make_engine(f"sqlite+aiosqlite:///{legacy}")
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            assert mode(legacy) == 0o600 and mode(tmp_path / "legacy.db-wal") == 0o600  # WAL takes the file's mode
        await engine.dispose()
    finally:
        os.umask(old)
