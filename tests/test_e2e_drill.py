"""A drill through the whole chain on the fake Bot API: every message and card says LATIHAN, leaders hear
nothing, and the case stays out of the digest, /public and Open311 (a real case beside it is counted)."""
from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from bots.services import sla_timers
from core import casework, drills
from core.cases import CaseState
from core.clock import FakeClock
from core.i18n import t
from core.models import Case, Reporter
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN, OPERATORS, find, press, report_fire, wait_text
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_e2e_casework import DAMKAR, OPERATOR, REGU_A, card_of, case_id_of, task_card, task_id_of

LATIHAN = t("id", "drill.marker")
LEADERS = (2001, 2002, 2003)


async def _real_verified_fire(gw, now) -> str:
    """A genuine report beside the drill (not from a tester), verified: what the figures must still count."""
    async with gw.deps.sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id="5009", name="Siti", language="id")
        s.add(reporter)
        await s.flush()
        case = await create_case(s, reporter=reporter, chat="telegram:5009", ticket="SMP-90-90-90",
                                 incident_type="fire", urgent=True, language="id", latitude=-7.0, longitude=113.9,
                                 address_text=None, description=None, photo_media_id=None, started_at=now, now=now)
        assert not case.drill
        casework.record(s, case, f"telegram:{OPERATOR}", now, to=CaseState.VERIFIED)
        return case.ticket


async def test_a_drill_travels_the_whole_chain_marked_and_stays_out_of_the_figures(fake, tmp_path, config):
    clock = FakeClock()
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock) as gw:
        async with gw.deps.sessions() as s, s.begin():
            await drills.start(s, by="cli:ani", now=clock.now(), testers=[f"telegram:{CITIZEN}"])
        ticket = await report_fire(fake, phone_jpeg())
        ticket_message = find(fake, CITIZEN, ticket)["text"]
        assert ticket_message.startswith(LATIHAN)
        assert t("id", "care.safety_head") in ticket_message  # the safety advice follows the ticket
        assert config.incident_type("fire").safety.id in ticket_message
        card = await card_of(fake, ticket, "case:verify")
        assert card["caption"].startswith(LATIHAN)
        case_id = case_id_of(card)

        await press(fake, OPERATOR, card, f"op:verify:{case_id}")
        damkar = await task_card(fake, DAMKAR, ticket, "task:accept")
        assert damkar["caption"].startswith(LATIHAN)
        await eventually(lambda: LATIHAN in (find(fake, CITIZEN, "sudah diperiksa operator 112") or {}).get("text", ""))
        task = task_id_of(damkar)
        await press(fake, REGU_A, damkar, f"tk:acc:{task}")
        await press(fake, REGU_A, damkar, f"tk:eta:{task}:10")
        await eventually(lambda: LATIHAN in (find(fake, CITIZEN, "perkiraan tiba 10 menit") or {}).get("text", ""))
        await press(fake, REGU_A, damkar, f"tk:arr:{task}")
        await press(fake, REGU_A, damkar, f"tk:done:{task}")
        await wait_text(fake, DAMKAR, "balas pesan ini dengan foto dokumentasi")
        await fake.send_photo(REGU_A, phone_jpeg(640, 480), caption="Latihan selesai", chat_id=DAMKAR)
        await eventually(lambda: find(fake, OPERATORS, "Dokumentasi " + ticket))
        await press(fake, REGU_A, damkar, f"tk:send:{task}")
        rating = await eventually(lambda: find(fake, CITIZEN, t("id", "rating.ask", ticket=ticket)))
        assert rating["text"].startswith(LATIHAN)
        assert LATIHAN in (find(fake, CITIZEN, "telah ditangani") or {}).get("text", "")
        about = [m.get("text") or m.get("caption") or "" for m in fake.sent(OPERATORS) + fake.sent(DAMKAR)]
        about = [x for x in about if ticket in x]
        assert len(about) >= 4 and all(x.startswith(LATIHAN) for x in about), about  # cards, reports, photos
        async with gw.deps.sessions() as s:
            case = (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()
        assert (case.drill, case.state) == (True, "closed")
        for leader in LEADERS:  # drills.alert_leaders is false: no new-report notice, no alert
            assert all(ticket not in (m.get("text") or "") for m in fake.sent(leader)), leader

        real = await _real_verified_fire(gw, clock.now())
        async with gw.deps.sessions() as s, s.begin():
            [digest, *_] = await sla_timers.digest(s, config, clock.now() + timedelta(days=1))
        assert t("id", "figures.total", total=1) in digest.text  # the real fire only
        async with httpx.AsyncClient(base_url=gw.url) as client:
            page = (await client.get("/public")).text
            assert re.findall(r'<p class="big">(\d+)</p>', page)[0] == "1"  # today: the real fire only
            clock.advance(minutes=config.open_data.delay_minutes + 61)  # published once its hour has ended
            listed = [r["service_request_id"] for r in (await client.get("/open311/v2/requests.json")).json()]
            assert real in listed and ticket not in listed
            assert (await client.get(f"/open311/v2/requests/{ticket}.json")).status_code == 404
