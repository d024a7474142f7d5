"""The case page over real HTTP, on SQLite and PostgreSQL: every desk action and its effect, crew steps entered
for a radio crew, refusals shown with their reason and changing nothing, and who sees which forms."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core import accounts
from core.db import utcnow
from core.i18n import t
from core.models import Case, CaseEvent, Reporter, Task
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.test_web_pages import PASSWORD, seed, sign_in, web

TICKET = "SMP-42-42-42"  # the seeded fire, submitted


async def add_case(deps, ticket: str, state: str = "submitted", kind: str = "fire", **fields) -> None:
    async with deps.sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id=ticket[-2:] + "77", name="Warga", language="id")
        s.add(reporter)
        await s.flush()
        now = utcnow()
        case = await create_case(s, reporter=reporter, chat=f"telegram:{reporter.external_id}", ticket=ticket,
                                 incident_type=kind, urgent=True, language="id", latitude=-7.0, longitude=113.9,
                                 address_text=None, description="Asap tebal", photo_media_id=None,
                                 started_at=now, now=now)
        case.state = state
        for key, value in fields.items():
            setattr(case, key, value)


async def case_row(deps, ticket: str = TICKET) -> Case:
    async with deps.sessions() as s:
        return (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()


async def tasks_of(deps, ticket: str = TICKET) -> list[Task]:
    async with deps.sessions() as s:
        case_id = (await s.execute(select(Case.id).where(Case.ticket == ticket))).scalar_one()
        return list((await s.execute(select(Task).where(Task.case_id == case_id).order_by(Task.id))).scalars())


async def event_count(deps) -> int:
    async with deps.sessions() as s:
        return (await s.execute(select(func.count()).select_from(CaseEvent))).scalar_one()


def csrf_of(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


class Desk:
    """The signed-in operator's browser without a browser: open the page, post one of its forms."""

    def __init__(self, client) -> None:
        self.client = client

    async def open(self, ticket: str = TICKET, **query):
        page = await self.client.get(f"/dashboard/cases/{ticket}", params=query)
        assert page.status_code == 200
        return page

    async def act(self, action: str, ticket: str = TICKET, **fields):
        csrf = csrf_of(await self.open(ticket))
        return await self.client.post(f"/dashboard/cases/{ticket}/act", data={"action": action, "csrf": csrf, **fields})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_every_desk_action_and_crew_steps_for_a_radio_crew(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        await seed(deps, config)
        await add_case(deps, "SMN-11-11-11")                      # an open fire: the duplicate's target
        await add_case(deps, "SMP-22-22-22", state="closed")      # a closed one: refused as a target
        await add_case(deps, "SMP-33-33-33")                      # to be merged
        await add_case(deps, "SMP-44-44-44", kind="flood")        # to be rejected
        await sign_in(client, "op1")
        desk = Desk(client)

        fresh = await desk.open()
        assert 'value="verify"' in fresh.text and 'value="close"' not in fresh.text  # no close beside verify
        assert fresh.text.count('class="danger"') == 4  # reject and duplicate: red, behind a second step
        assert 'value="damkar" checked' in fresh.text  # the type's agency ticked

        refused = await desk.act("duplicate", "SMP-33-33-33", target_ticket="SMP-99-99-99")
        assert refused.status_code == 409 and "Tiket SMP-99-99-99 tidak ditemukan." in refused.text
        closed_target = await desk.act("duplicate", "SMP-33-33-33", target="SMP-22-22-22")
        assert closed_target.status_code == 409 and "Kasus tujuan sudah tidak aktif." in closed_target.text
        assert (await case_row(deps, "SMP-33-33-33")).state == "submitted"
        found = await desk.open("SMP-33-33-33", dup="1111")  # part of the ticket finds it
        assert 'value="SMN-11-11-11"' in found.text and 'value="SMP-22-22-22"' not in found.text
        merged = await desk.act("duplicate", "SMP-33-33-33", target_ticket="111111")
        assert merged.status_code == 303 and (await case_row(deps, "SMP-33-33-33")).state == "duplicate"
        assert (await case_row(deps, "SMN-11-11-11")).report_count == 2

        assert (await desk.act("reject", "SMP-44-44-44", reason="not_emergency")).status_code == 303
        rejected = await case_row(deps, "SMP-44-44-44")
        assert (rejected.state, rejected.reject_reason) == ("rejected", "not_emergency")
        assert "alasan: " + t("id", "reject.not_emergency") in (await desk.open("SMP-44-44-44")).text

        assert (await desk.act("note", text="Penelepon kedua: api menjalar ke rumah sebelah")).status_code == 303
        assert (await desk.act("verify", agencies=["damkar", "pdam"])).status_code == 303
        case = await case_row(deps)
        assert case.state == "dispatched" and case.operator == "dashboard:op1"
        assert [x.agency for x in await tasks_of(deps)] == ["damkar", "pdam"]
        again = await desk.act("verify", agencies=["damkar"])  # a stale page: the type's agency already has the case
        assert again.status_code == 409 and "Instansi ini sudah menangani kasus ini." in again.text
        nothing = await desk.act("dispatch")
        assert nothing.status_code == 409 and "Pilih minimal satu instansi." in nothing.text
        assert (await desk.act("dispatch", agencies=["polres"])).status_code == 303
        damkar, pdam, polres = await tasks_of(deps)
        assert polres.agency == "polres" and polres.state == "dispatched"

        page = await desk.open()
        assert 'value="close"' in page.text and 'value="for_accept"' in page.text
        missing = await desk.act("for_accept", task=str(damkar.id), eta="", crew="Regu Damkar A")
        assert missing.status_code == 409 and "Isi perkiraan tiba" in missing.text
        assert (await desk.act("for_accept", task=str(pdam.id + 1000), eta="5", crew="x")).status_code == 404
        assert (await desk.act("for_accept", task=str(damkar.id), eta="7", crew="regu damkar a")).status_code == 303
        damkar = (await tasks_of(deps))[0]
        case = await case_row(deps)
        assert (damkar.state, damkar.owner, damkar.owner_name, damkar.eta_minutes) == (
            "accepted", "telegram:3001", "Regu Damkar A", 7)
        assert case.state == "accepted" and case.accepted_at is not None  # the clock stopped by the acceptance
        assert (await desk.act("for_accept", task=str(pdam.id), eta="15", crew="Regu PDAM Pos 2")).status_code == 303
        assert (await tasks_of(deps))[1].owner == "radio:pdam"
        assert (await desk.act("for_arrive", task=str(damkar.id))).status_code == 303
        assert (await desk.act("for_done", task=str(damkar.id), text="Api padam pukul 10.20")).status_code == 303
        damkar = (await tasks_of(deps))[0]
        assert (damkar.state, damkar.note) == ("done", "Api padam pukul 10.20")
        page = await desk.open()
        assert page.text.count("dimasukkan oleh Operator Satu untuk regu Regu Damkar A") == 3
        assert "dimasukkan oleh Operator Satu untuk regu Regu PDAM Pos 2" in page.text
        assert "catatan: Penelepon kedua: api menjalar ke rumah sebelah" in page.text
        assert "dispatch:" not in page.text and " WIB" in page.text

        assert (await desk.act("close")).status_code == 303
        assert (await case_row(deps)).state == "closed"
        chat_rating = await desk.act("called_back", stars="5")  # a chat reporter rates in their own chat
        assert chat_rating.status_code == 409 and "pelapor lewat chat menilai sendiri" in chat_rating.text
        assert (await case_row(deps)).rating is None
        assert (await desk.act("called_back")).status_code == 303
        assert "pelapor sudah ditelepon balik" in (await desk.open()).text


async def test_refused_requests_change_nothing_and_leaders_see_no_forms(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        before = await event_count(deps)
        await sign_in(client, "bupati")
        page = await client.get(f"/dashboard/cases/{TICKET}")
        assert page.status_code == 200 and 'name="action"' not in page.text and "<details" not in page.text
        for action in ("verify", "note", "close", "for_accept"):
            refused = await client.post(f"/dashboard/cases/{TICKET}/act",
                                        data={"action": action, "csrf": csrf_of(page), "text": "x"})
            assert refused.status_code == 403 and "tidak berhak" in refused.text
        client.cookies.clear()
        await sign_in(client, "op1")
        page = await client.get(f"/dashboard/cases/{TICKET}")
        for data in ({"action": "note", "csrf": "forged", "text": "x"},
                     {"action": "verify", "csrf": csrf_of(page), "agencies": ["damkar"] * 50},
                     {"action": "note", "csrf": csrf_of(page), "text": "x" * 5000},
                     {"action": "drop", "csrf": csrf_of(page)}):
            assert (await client.post(f"/dashboard/cases/{TICKET}/act", data=data)).status_code in (400, 403)
        odd = await client.post(f"/dashboard/cases/{TICKET}/act",
                                data={"action": "verify", "csrf": csrf_of(page), "agencies": ["nosuch"]})
        assert odd.status_code == 409 and "Tindakan ini tidak dikenal." in odd.text
        assert await event_count(deps) == before and (await case_row(deps)).state == "submitted"


async def test_a_phone_report_shows_its_caller_and_takes_the_callers_rating(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        await add_case(deps, "SMP-55-55-55", state="closed", intake="phone", entered_by="dashboard:op1",
                       caller_name="Pak Kades Lenteng", caller_phone="+6281333444555", drill=True)
        await sign_in(client, "op1")
        desk = Desk(client)
        page = await desk.open("SMP-55-55-55")
        assert "LATIHAN" in page.text and "Telepon" in page.text and "Pak Kades Lenteng" in page.text
        assert "+6281333444555" in page.text and "dimasukkan oleh Operator Satu" in page.text
        assert (await desk.act("called_back", "SMP-55-55-55", stars="4")).status_code == 303
        assert (await case_row(deps, "SMP-55-55-55")).rating == 4
        assert "penilaian 4 bintang" in (await desk.open("SMP-55-55-55")).text
        twice = await desk.act("called_back", "SMP-55-55-55", stars="2")
        assert twice.status_code == 409 and (await case_row(deps, "SMP-55-55-55")).rating == 4
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "kabid", PASSWORD, "leader", "Kabid")
        client.cookies.clear()
        await sign_in(client, "kabid")
        leader = await client.get("/dashboard/cases/SMP-55-55-55")
        assert "LATIHAN" in leader.text and "+6281333444555" not in leader.text


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_note_from_the_operators_group_is_the_same_note(backend, tmp_path, config):
    from bots.services.desk import Desk as GroupDesk
    from core.messages import Address, Inbound, Kind
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        await seed(deps, config)
        group, operator = Address("telegram", str(config.operators.telegram_chat_id)), Address("telegram", "1001")
        for args, answer in ((f"{TICKET.lower()}  Api menjalar", t("id", "casepage.noted")),
                             ("SMP-00-99-99 x", t("id", "desk.ticket_unknown", ticket="SMP-00-99-99")),
                             (f"{TICKET}   ", t("id", "casepage.note_empty"))):
            event = Inbound(kind=Kind.COMMAND, chat=group, sender=operator, command="catatan", args=args)
            async with deps.sessions() as s, s.begin():
                out = await GroupDesk(s, config, event, utcnow()).handle()
            assert [m.text for m in out] == [answer]
        await sign_in(client, "op1")
        assert "catatan: Api menjalar" in (await Desk(client).open()).text
