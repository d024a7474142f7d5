"""The public page and Open311 carry no personal data; the dashboard, its photos and exports need sign-in."""
from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bots.app import create_app
from core import accounts
from core.clock import FakeClock
from core.db import utcnow
from core.models import Media, Reporter
from core.repository import create_case
from core.settings import load_settings
from tests.conftest import fresh_database_url
from tests.harness import SECRET_KEY, free_port, serve_app
from tests.images import phone_jpeg
from tests.test_figures import populate

PHONE, NAME, DESCRIPTION = "+6281234567890", "Siti Rahayu", "Rumah Pak Slamet 0812-9999-1111 terbakar"
EXACT = (-7.01673, 113.86671)
PASSWORD = "correct-horse-battery"


@asynccontextmanager
async def web(url: str, config):
    port = free_port()
    settings = load_settings(database_url=url, public_base_url=None, port=port, siaga_secret_key=SECRET_KEY)
    app = create_app(settings, config, clock=FakeClock())
    async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield client, app.state.deps


async def seed(deps, config) -> str:
    """A day of cases, plus today's fire with a name, a phone, a photo, a pin and a revealing description."""
    async with deps.sessions() as s, s.begin():
        await populate(s, config, (utcnow() - timedelta(days=2)).date())
        reporter = Reporter(channel="whatsapp", external_id="6281234567890", name=NAME, phone=PHONE, language="id")
        s.add(reporter)
        photo = phone_jpeg()
        media = Media(sha256="a" * 64, mime="image/jpeg", size=len(photo), width=10, height=10, original=photo,
                      clean=photo)
        s.add(media)
        await s.flush()
        now = utcnow()
        case = await create_case(s, reporter=reporter, chat="whatsapp:6281234567890", ticket="SMP-42-42-42",
                                 incident_type="fire", urgent=True, language="id", latitude=EXACT[0],
                                 longitude=EXACT[1], address_text="Jl. Melati 7", description=DESCRIPTION,
                                 photo_media_id=media.id, started_at=now, now=now)
        await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        await accounts.create(s, "bupati", PASSWORD, "leader", "Bupati")
        return f"/dashboard/media/{case.photo_media_id}"


def assert_nothing_personal(body: str) -> None:
    for secret in (PHONE, "6281234567890", NAME, "Slamet", "0812-9999-1111", "Jl. Melati", "Trunojoyo",
                   str(EXACT[0]), str(EXACT[1]), "-7.0167", "113.8667"):
        assert secret not in body, secret


async def sign_in(client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/dashboard/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return await client.post("/dashboard/login", data={"username": username, "password": password, "csrf": csrf})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_public_figures_and_open311_carry_no_personal_data(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        await seed(deps, config)
        page = await client.get("/public")
        assert page.status_code == 200 and "Angka layanan darurat 112" in page.text
        assert "30 hari terakhir" in page.text and ">8<" in page.text  # the 7 seeded + today's fire
        assert_nothing_personal(page.text)
        assert "Last 30 days" in (await client.get("/public?lang=en")).text

        services = (await client.get("/open311/v2/services.json")).json()
        assert {s["service_code"] for s in services} == {it.code for it in config.incident_types if it.is_public}
        requests = await client.get("/open311/v2/requests.json")
        assert requests.status_code == 200
        body = requests.text
        assert_nothing_personal(body)
        found = {r["service_request_id"]: r for r in requests.json()}
        assert "SMP-00-00-03" not in found  # a prank rejected by the operators is not published
        assert "SMP-42-42-42" not in found  # not verified yet (tests/test_public_privacy.py: what is published)
        one = await client.get("/open311/v2/requests/SMP-00-00-01.json")
        assert one.json() == [found["SMP-00-00-01"]] and one.json()[0]["status"] == "closed"
        assert (await client.get("/open311/v2/requests/SMP-00-00-99.json")).status_code == 404
        closed = (await client.get("/open311/v2/requests.json", params={"status": "closed"})).json()
        assert {r["status"] for r in closed} == {"closed"} and len(closed) == 2
        assert (await client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})).status_code == 400
        assert "/open311/v2/requests.json" in (await client.get("/openapi.json")).text


async def test_signed_out_requests_are_refused_and_sign_in_opens_them(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        photo = await seed(deps, config)
        for path in ("/dashboard", "/dashboard/cases/SMP-42-42-42"):
            response = await client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
        for path in (photo, "/dashboard/export.csv", "/dashboard/export.xlsx"):
            assert (await client.get(path)).status_code == 401
        forged = await client.post("/dashboard/login", data={"username": "op1", "password": PASSWORD, "csrf": "x"})
        assert forged.status_code == 403 and "siaga_session" not in forged.cookies

        signed = await sign_in(client, "op1")
        assert signed.status_code == 303 and client.cookies.get("siaga_session")
        listing = await client.get("/dashboard")
        assert listing.status_code == 200 and "SMP-42-42-42" in listing.text and "Operator Satu" in listing.text
        case = await client.get("/dashboard/cases/SMP-42-42-42")
        assert NAME in case.text and PHONE in case.text and DESCRIPTION in case.text  # staff see what they need
        original = await client.get(photo)
        async with deps.sessions() as s:
            media = (await s.execute(select(Media))).scalar_one()
        assert original.content == media.original and original.headers["cache-control"] == "private, no-store"
        export = await client.get("/dashboard/export.csv")
        assert export.text.splitlines()[0].startswith("ticket,incident_type") and "SMP-42-42-42" in export.text
        assert NAME not in export.text and PHONE not in export.text
        xlsx = await client.get("/dashboard/export.xlsx")
        assert xlsx.content[:2] == b"PK"

        csrf = re.search(r'name="csrf" value="([^"]+)"', listing.text).group(1)
        assert (await client.post("/dashboard/logout", data={"csrf": "wrong"})).status_code == 403
        assert (await client.post("/dashboard/logout", data={"csrf": csrf})).status_code == 303
        client.cookies.clear()
        assert (await client.get("/dashboard")).status_code == 303


async def test_operators_act_from_the_dashboard_leaders_only_read(tmp_path, config):
    from core.models import Case, CaseEvent, Task
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        await sign_in(client, "bupati")
        page = await client.get("/dashboard/cases/SMP-42-42-42")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert 'value="verify"' not in page.text  # no action buttons for a read-only leader
        refused = await client.post("/dashboard/cases/SMP-42-42-42/act", data={"action": "verify", "csrf": csrf})
        assert refused.status_code == 403 and "tidak berhak" in refused.text
        assert (await client.get("/dashboard/figures")).status_code == 200  # but they read the figures
        client.cookies.clear()

        await sign_in(client, "op1")
        page = await client.get("/dashboard/cases/SMP-42-42-42")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert 'value="verify"' in page.text and 'id="map"' in page.text
        forged = await client.post("/dashboard/cases/SMP-42-42-42/act", data={"action": "verify", "csrf": "x"})
        assert forged.status_code == 403
        odd = await client.post("/dashboard/cases/SMP-42-42-42/act", data={"action": "drop_table", "csrf": csrf})
        assert odd.status_code == 400
        async with deps.sessions() as s:
            state = (await s.execute(select(Case.state).where(Case.ticket == "SMP-42-42-42"))).scalar_one()
            assert state == "submitted"
        nothing_ticked = await client.post("/dashboard/cases/SMP-42-42-42/act", data={"action": "verify", "csrf": csrf})
        assert nothing_ticked.status_code == 409  # the form needs at least one agency ticked
        done = await client.post("/dashboard/cases/SMP-42-42-42/act",
                                 data={"action": "verify", "csrf": csrf, "agencies": ["damkar"]})
        assert done.status_code == 303
        async with deps.sessions() as s:
            case = (await s.execute(select(Case).where(Case.ticket == "SMP-42-42-42"))).scalar_one()
            events = (await s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id))).scalars().all()
            tasks = (await s.execute(select(Task).where(Task.case_id == case.id))).scalars().all()
        assert case.state == "dispatched" and [x.agency for x in tasks] == ["damkar"]
        assert {e.actor for e in events if e.to_state in ("verified", "dispatched")} == {"dashboard:op1"}
        assert "Operator Satu" in (await client.get("/dashboard/cases/SMP-42-42-42")).text
        rows = await client.get("/dashboard/rows")
        assert rows.status_code == 200 and "SMP-42-42-42" in rows.text and "<html" not in rows.text
        figures = await client.get("/dashboard/figures")
        assert figures.status_code == 200 and '"ratings": [0, 0, 1, 0, 1]' in figures.text
