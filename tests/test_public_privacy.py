"""Personal data stays where it belongs: the case page's title, leaders' exports, Open311 and /public (issue 12.8)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from core import casework
from core.config import parse_config
from core.models import Case, OutboxItem, Reporter
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.test_web_pages import EXACT, seed, sign_in, web

CARD_TEXT = "🚨 LAPORAN SMP-42-42-42\nLokasi: titik peta -7.01673, 113.86671 (Jl. Melati 7)\nKeterangan: api besar"


async def a_message_about_the_case(deps) -> None:
    """What the case page lists under messages: here the card, with the exact pin and typed address in it."""
    async with deps.sessions() as s, s.begin():
        case = (await s.execute(select(Case).where(Case.ticket == "SMP-42-42-42"))).scalar_one()
        s.add(OutboxItem(channel="telegram", chat_id="-1001000000001", case_id=case.id, status="sent",
                         payload={"to": {"channel": "telegram", "id": "-1001000000001"}, "text": CARD_TEXT}))


async def test_the_case_page_title_and_header_are_the_ticket(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        await a_message_about_the_case(deps)
        await sign_in(client, "op1")
        page = (await client.get("/dashboard/cases/SMP-42-42-42")).text
        title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
        assert title == f"SMP-42-42-42 · {config.region.name}"
        header = re.search(r"<header>(.*?)</header>", page, re.DOTALL).group(1)
        assert "api besar" not in header and "<table" not in header
        assert re.search(r"<h1[^>]*>SMP-42-42-42 · <span[^>]*>🔥 Kebakaran</span></h1>", page)
        assert page.count("api besar") == 1  # the message appears once, in its table, not in head or nav


def place(header, row) -> tuple:
    """The latitude and longitude cells of an export row, found by the header's names."""
    return row[list(header).index("latitude")], row[list(header).index("longitude")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_exact_positions_only_for_operators(backend, tmp_path, config):
    exact = [str(EXACT[0]), str(EXACT[1]), "-7.01673", "113.86671"]
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        await seed(deps, config)
        await a_message_about_the_case(deps)

        await sign_in(client, "bupati")  # a read-only leader
        rows = list(csv.reader(io.StringIO((await client.get("/dashboard/export.csv")).text)))
        fire = next(r for r in rows if r[0] == "SMP-42-42-42")
        assert place(rows[0], fire) == ("-7.02", "113.87")
        sheet = load_workbook(io.BytesIO((await client.get("/dashboard/export.xlsx")).content)).active
        header, *cells = list(sheet.iter_rows(values_only=True))
        assert place(header, next(row for row in cells if row[0] == "SMP-42-42-42")) == (-7.02, 113.87)
        page = (await client.get("/dashboard/cases/SMP-42-42-42")).text
        for secret in [*exact, "Jl. Melati"]:
            assert secret not in page, secret
        assert 'id="map"' not in page and "-7.02, 113.87" in page and "api besar" in page
        client.cookies.clear()

        await sign_in(client, "op1")
        rows = list(csv.reader(io.StringIO((await client.get("/dashboard/export.csv")).text)))
        fire = next(r for r in rows if r[0] == "SMP-42-42-42")
        assert tuple(map(float, place(rows[0], fire))) == EXACT
        sheet = load_workbook(io.BytesIO((await client.get("/dashboard/export.xlsx")).content)).active
        header, *cells = list(sheet.iter_rows(values_only=True))
        assert place(header, next(row for row in cells if row[0] == "SMP-42-42-42")) == EXACT
        page = (await client.get("/dashboard/cases/SMP-42-42-42")).text
        assert "-7.01673, 113.86671" in page and 'id="map"' in page and "Jl. Melati 7" in page


async def a_case(s, config, ticket: str, code: str, at: datetime, *, verify_after: float | None,
                 place: tuple[float, float] | None = EXACT) -> Case:
    reporter = Reporter(channel="telegram", external_id=ticket[-5:].replace("-", ""), name="Warga", language="id")
    s.add(reporter)
    await s.flush()
    it = config.incident_type(code)
    case = await create_case(s, reporter=reporter, chat=f"telegram:{reporter.external_id}", ticket=ticket,
                             incident_type=code, urgent=it.urgent, language="id",
                             latitude=place[0] if place else None, longitude=place[1] if place else None,
                             address_text=None, description="Rumah Pak Slamet", photo_media_id=None,
                             started_at=at, now=at)
    if verify_after is not None:
        await casework.verify(s, case, "telegram:1001", [it.agencies[0]], at + timedelta(minutes=verify_after))
    return case


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_open311_publishes_verified_public_cases_late_on_the_hour_and_coarse(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        now = deps.clock.now()
        hour = now.astimezone(config.region.tz).replace(minute=0, second=0, microsecond=0)
        early = hour - timedelta(hours=3) + timedelta(minutes=37, seconds=12)
        async with deps.sessions() as s, s.begin():
            await a_case(s, config, "SMP-11-11-11", "fire", early, verify_after=2)       # published
            await a_case(s, config, "SMP-22-22-22", "crime", early, verify_after=2)      # public: false
            await a_case(s, config, "SMP-33-33-33", "flood", early, verify_after=None)   # never verified
            await a_case(s, config, "SMP-44-44-44", "fire", now - timedelta(minutes=10), verify_after=1)  # too new

        services = {s["service_code"] for s in (await client.get("/open311/v2/services.json")).json()}
        assert "crime" not in services and "fire" in services
        found = {r["service_request_id"]: r for r in (await client.get("/open311/v2/requests.json")).json()}
        assert set(found) == {"SMP-11-11-11"}
        for ticket in ("SMP-22-22-22", "SMP-33-33-33", "SMP-44-44-44"):
            assert (await client.get(f"/open311/v2/requests/{ticket}.json")).status_code == 404, ticket
        assert (await client.get("/open311/v2/requests.json", params={"service_code": "crime"})).json() == []

        fire = found["SMP-11-11-11"]
        assert (fire["lat"], fire["long"]) == (-7.02, 113.87)
        requested = datetime.fromisoformat(fire["requested_datetime"])
        assert requested == early.replace(minute=0, second=0) and (requested.minute, requested.second) == (0, 0)
        updated = datetime.fromisoformat(fire["updated_datetime"])
        assert (updated.minute, updated.second, updated.microsecond) == (0, 0, 0)
        assert "Slamet" not in str(found) and "-7.0167" not in str(found)

        # Date filters see whole hours only: any start inside the report's hour answers the same.
        def since(at: datetime) -> dict:
            return {"start_date": at.isoformat()}
        inside = [(await client.get("/open311/v2/requests.json", params=since(at))).json()
                  for at in (early - timedelta(minutes=1), early + timedelta(minutes=1))]
        assert inside[0] == inside[1] == []
        whole = (await client.get("/open311/v2/requests.json", params=since(early.replace(minute=0, second=0))))
        assert [r["service_request_id"] for r in whole.json()] == ["SMP-11-11-11"]

        deps.clock.advance(hours=2)  # the new fire's hour has now ended more than the delay ago
        found = {r["service_request_id"] for r in (await client.get("/open311/v2/requests.json")).json()}
        assert found == {"SMP-11-11-11", "SMP-44-44-44"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_public_figures_leave_out_types_that_are_not_public(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        now = deps.clock.now()
        async with deps.sessions() as s, s.begin():
            await a_case(s, config, "SMP-11-11-11", "fire", now - timedelta(minutes=5), verify_after=1)
            for n in range(3):
                await a_case(s, config, f"SMP-22-22-2{n}", "crime", now - timedelta(minutes=4), verify_after=None)
        page = (await client.get("/public")).text
        assert "Kebakaran" in page and "Kriminalitas" not in page
        assert ">1<" in page and ">4<" not in page  # totals leave them out too


def test_crime_is_private_unless_the_file_says_otherwise(config):
    assert not config.incident_type("crime").is_public and config.incident_type("fire").is_public
    assert config.open_data.delay_minutes == 60
    data = yaml.safe_load((Path(__file__).resolve().parent.parent / "config" / "sumenep.yaml").read_text())
    crime = next(it for it in data["incident_types"] if it["code"] == "crime")
    crime.pop("public")
    data["incident_types"] = [crime, {**crime, "code": "domestic_violence", "public": True},
                              {**crime, "code": "other", "public": False}]
    data["open_data"] = {"delay_minutes": 0}
    custom = parse_config(data)
    assert [it.is_public for it in custom.incident_types] == [False, True, False]
    assert custom.open_data.delay_minutes == 0
