"""The island regency's deployment at work: "other" waits for the operator's choice of agency, and each leader
hears only what their `notify` asks for (new reports, major incidents, missed deadlines, the digest)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bots.services import sla_timers
from bots.services.events import timer_event
from core import sla
from core.clock import FakeClock
from core.config import Deployment
from core.i18n import t
from core.messages import Address, Inbound, Kind
from core.models import Reporter, Timer
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.test_case_page import add_case, case_row, csrf_of, tasks_of
from tests.test_web_pages import seed, sign_in, web
from workflows import actions as A
from workflows import notices, operator_card
from workflows import operator_desk as desk
from workflows.cards import CaseView
from workflows.desk_replies import DeskContext, Follower, ShowMenu
from workflows.operator_intake import validate

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 2 a.m. in Sumenep
OPERATORS = Address("telegram", "-1001000000001")
KADIS, KABID, BUPATI = "telegram:2001", "telegram:2002", "telegram:2003"


def view(kind: str, state: str = "submitted", **kw) -> CaseView:
    return CaseView(id=41, ticket="SMN-12-34-56", state=state, incident_type=kind, urgent=kw.pop("urgent", False),
                    submitted_at=NOW, updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812",
                    now=NOW, language="id", **kw)


def leaders_told(out) -> set[str]:
    return {str(m.to) for m in out if str(m.to) in (KADIS, KABID, BUPATI)}


@pytest.mark.parametrize(("kind", "urgent", "told"), [
    ("water_outage", False, {KABID}),                 # a water complaint at 2 a.m.: only who asked for every one
    ("medical", True, {KABID, KADIS}),                # urgent, not major
    ("sea_missing", True, {KABID, KADIS, BUPATI}),    # major: the Bupati too
    ("fire", True, {KABID, KADIS, BUPATI}),
])
def test_a_new_report_reaches_the_leaders_who_asked_for_it(config, kind, urgent, told):
    assert leaders_told(operator_card.on_submitted(view(kind, urgent=urgent), config)) == told


def test_an_urgent_case_merged_up_to_the_priority_count_becomes_major_for_the_bupati(config):
    at = config.duplicates.raise_priority_at
    target = view("medical", "dispatched", urgent=True, report_count=at)
    operator = DeskContext(config, NOW, "telegram:1001", "Operator Satu", "id", OPERATORS, callback_id="cb")
    before = replace(target, id=42, ticket="SMN-00-00-42", state="submitted")
    outcome = desk.Outcome(replace(before, state="duplicate"), (Follower(42, "SMN-00-00-42", "telegram:5002", "id"),),
                           other=target, other_followers=(Follower(41, "SMN-12-34-56", "telegram:5001", "id"),))
    reply = desk.messages(desk.MarkDuplicate(41), before, outcome, operator)
    major = [m for m in reply.messages if str(m.to) == BUPATI]
    assert [m.text for m in major] == [t("id", "deploy.leader_major", ticket="SMN-12-34-56",
                                         type=config.incident_type("medical").name.id, reports=at)]
    assert leaders_told(reply.messages) == {BUPATI}  # the others heard of it as a new urgent report already
    once_more = desk.messages(desk.MarkDuplicate(41), before, replace(outcome, other=replace(target,
                              report_count=at + 1)), operator)
    assert leaders_told(once_more.messages) == set()  # once, at exactly that count
    not_urgent = desk.messages(desk.MarkDuplicate(41), before, replace(outcome, other=replace(
        target, incident_type="flood", urgent=False)), operator)
    assert leaders_told(not_urgent.messages) == set()


def test_verifying_a_report_of_a_type_without_agencies_opens_the_agency_picker(config):
    operator = DeskContext(config, NOW, "telegram:1001", "Operator Satu", "id", OPERATORS, callback_id="cb")
    before = view("other")
    pressed = A.parse(Inbound(kind=Kind.CHOICE, chat=OPERATORS, sender=Address("telegram", "1001"),
                              choice="case:verify:41"))
    decision = desk.decide(pressed, before, operator)
    assert decision == ShowMenu("pick")  # not a dispatch to nobody
    card, = desk.messages(decision, before, desk.Outcome(before), operator).messages
    offered = [c.data for c in card.choices]
    assert {"case:send_to:41:basarnas", "case:send_to:41:polairud", "case:send_to:41:pln"} <= set(offered)
    assert desk.decide(A.parse(Inbound(kind=Kind.CHOICE, chat=OPERATORS, sender=Address("telegram", "1001"),
                                       choice="case:send_to:41:pln")), before, operator) == desk.Verify(("pln",))


def test_a_phone_report_of_such_a_type_must_name_its_agencies(config):
    base = {"incident_type": "other", "caller_name": "Pak Hasan", "caller_phone": "0812-3456-7890",
            "address_text": "Pelabuhan Kalianget", "description": "Perahu nelayan belum pulang"}
    assert validate(base, config, NOW) == {"agencies": "intake.err_agencies"}
    chosen = validate({**base, "agencies": "basarnas,polairud"}, config, NOW)
    assert not isinstance(chosen, dict) and chosen.agencies == ("basarnas", "polairud")


async def test_the_case_page_needs_an_agency_ticked_to_verify(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        await seed(deps, config)
        await add_case(deps, "SMN-50-50-50", kind="other", urgent=False)
        await sign_in(client, "op1")
        page = await client.get("/dashboard/cases/SMN-50-50-50")
        assert 'value="verify"' in page.text and 'name="agencies"' in page.text
        assert " checked>" not in page.text  # "other": nothing pre-ticked
        refused = await client.post("/dashboard/cases/SMN-50-50-50/act",
                                    data={"action": "verify", "csrf": csrf_of(page)})
        assert refused.status_code == 409 and t("id", "casepage.pick_agency") in refused.text
        assert (await case_row(deps, "SMN-50-50-50")).state == "submitted"
        assert await tasks_of(deps, "SMN-50-50-50") == []
        done = await client.post("/dashboard/cases/SMN-50-50-50/act",
                                 data={"action": "verify", "csrf": csrf_of(page), "agencies": ["polairud"]})
        assert done.status_code == 303
        assert [x.agency for x in await tasks_of(deps, "SMN-50-50-50")] == ["polairud"]


def with_leaders(config: Deployment, **notify: list[str]) -> Deployment:
    leaders = [leader.model_copy(update={"notify": notify[leader.role]}) if leader.role in notify else leader
               for leader in config.leadership]
    return config.model_copy(update={"leadership": leaders})


async def test_escalations_and_the_digest_skip_leaders_who_left_them_out(sessions, config):
    clock = FakeClock()
    quiet = with_leaders(config, kabid=["new", "digest"], kepala_dinas=["breach"])
    async with sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id="5077", name="Budi", language="id")
        s.add(reporter)
        await s.flush()
        case = await create_case(s, reporter=reporter, chat="telegram:5077", ticket="SMN-00-00-77",
                                 incident_type="fire", urgent=True, language="id", latitude=-7.0, longitude=113.8,
                                 address_text=None, description=None, photo_media_id=None, started_at=clock.now(),
                                 now=clock.now())
        case.sla_due_at = sla.deadline(quiet, "fire", clock.now())
        clock.advance(minutes=6)

        async def escalate(role: str):
            event = timer_event({"kind": "sla.escalate", "key": f"case:{case.id}", "payload": {"role": role}})
            return await sla_timers.handle(s, quiet, event, clock.now())
        assert await escalate("kabid") == []  # the kabid left out "breach"
        assert [str(m.to) for m in await escalate("kepala_dinas")] == [KADIS]

        await sla_timers.plan_calendar(s, quiet, clock.now())
        first = (await s.execute(select(Timer).where(Timer.kind == "digest"))).scalar_one()
        now = clock.advance(seconds=(first.due_at - clock.now()).total_seconds() + 1)
        digest = timer_event({"kind": "digest", "key": sla_timers.DIGEST_KEY, "payload": {}})
        sent = {str(m.to) for m in await sla_timers.handle(s, quiet, digest, now)}
        assert sent == {KABID, BUPATI}  # the kepala dinas asked for breaches only


def test_a_drill_alerts_leaders_only_within_their_notify(config):
    drilling = config.model_copy(update={"drills": config.drills.model_copy(update={"alert_leaders": True})})
    water = notices.for_drill(operator_card.on_submitted(view("water_outage"), drilling), drilling, True)
    assert leaders_told(water) == {KABID}
    sea = notices.for_drill(operator_card.on_submitted(view("boat_accident", urgent=True), drilling), drilling, True)
    assert leaders_told(sea) == {KABID, KADIS, BUPATI} and all(m.text.startswith(t("id", "drill.marker"))
                                                                for m in sea if str(m.to) == BUPATI)
    assert leaders_told(notices.for_drill(operator_card.on_submitted(view("boat_accident", urgent=True), config),
                                          config, True)) == set()  # alert_leaders off: nobody
