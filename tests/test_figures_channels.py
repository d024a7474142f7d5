"""Figures by channel and by the ministry's classes of 112 traffic; drills in none of them (issue 14.2, 14.6)."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bots.services import sla_timers
from core import accounts, casework, figures, open_data
from core.models import Case, Reporter, Task
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.test_web_pages import PASSWORD, sign_in, web
from workflows import figures_text

TZ = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
OP = "dashboard:ani"


def _row(intake: str, traffic_class: str | None, *, drill: bool = False, state: str = "closed",
         code: str = "fire") -> Case:
    return Case(intake=intake, traffic_class=traffic_class, drill=drill, state=state, incident_type=code,
                urgent=code == "fire", submitted_at=T0, rating=None)


def test_channels_and_classes_count_every_call_but_reports_only_emergencies():
    rows = [
        _row("telegram", "emergency"), _row("whatsapp", "prank", state="rejected"), _row("web", None),
        _row("phone", "emergency"), _row("phone", "information", code="other"), _row("radio", "ghost", code="other"),
        _row("walk_in", "prank", state="rejected", code="other"), _row("relay", "emergency"),
        _row("telegram", "emergency", drill=True), _row("phone", "information", drill=True, code="other"),
    ]
    fig = figures.compute(rows, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), open_now=0)
    assert fig.traffic == 8  # the two drills are nowhere
    assert fig.by_channel == {"telegram": 1, "whatsapp": 1, "web": 1, "phone": 2, "radio": 1, "walk_in": 1,
                              "relay": 1}
    assert fig.by_class == {"emergency": 3, "information": 1, "ghost": 1, "prank": 2, "unclassed": 1}
    # The operator's information, ghost and prank calls paged nobody: not reports, not in the handling figures.
    assert fig.total == 5 and fig.by_type == {"fire": 5}
    assert sum(fig.by_state.values()) == 5
    odd = figures.compute([_row("", None), _row("sms", None)], T0, T0 + timedelta(hours=1), T0, open_now=0)
    assert odd.by_channel["other"] == 2 and odd.by_class["unclassed"] == 2


def test_the_deadline_label_says_what_is_counted(config):
    # the example's urgent types do not share one deadline (a fallen live wire has 15 minutes)
    assert figures_text.sla_label(config, "id") == "Darurat diterima petugas dalam batas waktu"
    five = config.model_copy(update={"incident_types": [config.incident_type("fire"), config.incident_type("medical")]})
    assert figures_text.sla_label(five, "id") == "Darurat diterima petugas ≤ 5 menit"
    assert figures_text.sla_label(five, "en") == "Emergencies accepted by a crew within 5 minutes"
    assert figures_text.deadline_minutes(config, ["crime"]) is None  # not urgent: no 5-minute figure
    mixed = config.model_copy(update={"incident_types": [
        config.incident_type("fire"), config.incident_type("medical").model_copy(update={"sla_minutes": 8})]})
    assert figures_text.sla_label(mixed, "id") == "Darurat diterima petugas dalam batas waktu"


async def _case(s, config, ticket: str, at: datetime, *, intake: str = "telegram", code: str = "fire",
                drill: bool = False, traffic_class: str | None = None, verify: bool = True) -> Case:
    reporter = Reporter(channel=intake if intake in ("telegram", "whatsapp", "web") else "telegram",
                        external_id=ticket[-8:], name="Warga", language="id")
    s.add(reporter)
    await s.flush()
    it = config.incident_type(code)
    case = await create_case(s, reporter=reporter, chat=f"telegram:{reporter.external_id}", ticket=ticket,
                             incident_type=code, urgent=it.urgent, language="id", latitude=-7.0, longitude=113.9,
                             address_text=None, description=None, photo_media_id=None, started_at=at, now=at)
    case.intake, case.drill = intake, drill
    if traffic_class in ("information", "ghost", "prank"):  # logged by an operator and rejected: nobody paged
        casework.reject(s, case, OP, {"prank": "hoax"}.get(traffic_class, "not_emergency"), at)
        case.traffic_class = traffic_class
    elif verify:
        await casework.verify(s, case, OP, [it.agencies[0]], at + timedelta(seconds=30))
    return case


def _number(page: str, element_id: str) -> str:
    """The big number of a tile."""
    return re.search(rf'id="{element_id}"[^>]*>\s*<p class="big">([^<]*)<', page).group(1)


def _table(page: str, table_id: str) -> dict[str, int]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.DOTALL).group(1)
    return {name: int(n) for name, n in re.findall(r"<td>([^<]+)</td><td class=\"num\">(\d+)</td>", body)}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_drills_stay_out_of_every_figure(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        now = deps.clock.now()
        yesterday = datetime.combine(now.astimezone(TZ).date() - timedelta(days=1), time(12, 0), TZ)
        async with deps.sessions() as s, s.begin():
            await _case(s, config, "SMP-01-01-01", yesterday)                                # a chat report
            await _case(s, config, "SMP-02-02-02", yesterday, intake="phone")                # a phone report
            await _case(s, config, "SMP-03-03-03", yesterday, intake="radio", code="other",
                        traffic_class="information")                                          # a question by radio
            await _case(s, config, "SMP-04-04-04", yesterday, intake="walk_in", traffic_class="prank")  # a prank
            await _case(s, config, "SMP-LT-00-01", yesterday, drill=True)                   # drills: verified,
            await _case(s, config, "SMP-LT-00-02", yesterday, intake="whatsapp", drill=True, verify=False)  # not
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
            drill_tasks = (await s.execute(select(Task).join(Case).where(Case.drill.is_(True)))).scalars().all()
            assert len(drill_tasks) == 1  # the drill really travelled the chain

        # the digest (and /statistik, which renders the same figures): yesterday
        async with deps.sessions() as s, s.begin():
            sent = await sla_timers.digest(s, config, now)
        text = sent[0].text
        for fragment in ("Semua panggilan dan pesan: 4", "Laporan masuk: 2", "Kasus masih terbuka saat ini: 2",
                         "Per saluran: Telegram 1, Telepon 1, Radio (HT) 1, Datang langsung 1",
                         "Per kelas panggilan 112: Darurat 2, Permintaan informasi 1, Panggilan kosong 0, "
                         "Iseng/hoaks 1", "Laporan ditolak sebagai hoaks/iseng: 0 (0% dari laporan)",
                         "tindakan pertama operator ≤ 60 dtk: 1 dari 1 (100%; target 90%) ✅",
                         "verifikasi → tugas ke petugas ≤ 60 dtk: 2 dari 2 (100%; target 90%) ✅"):
            assert fragment in text, (fragment, text)

        # /public
        page = (await client.get("/public")).text
        week = re.search(r'data-period="week">(.*?)</section>', page, re.DOTALL).group(1)
        assert re.search(r'<p class="big">2</p>', week) and "<dd>4</dd>" in week
        assert "Darurat diterima petugas dalam batas waktu" in page and "ditangani" not in page
        channels = _table(page, "by-channel")
        assert [channels[name] for name in ("Telegram", "WhatsApp", "Telepon", "Radio (HT)", "Datang langsung")] \
            == [1, 0, 1, 1, 1]
        assert _table(page, "by-class") == {"Darurat": 2, "Permintaan informasi": 1, "Panggilan kosong": 0,
                                            "Iseng/hoaks": 1}
        assert "Emergencies accepted by a crew within their deadline" in (await client.get("/public?lang=en")).text

        # Open311
        found = {r["service_request_id"] for r in (await client.get("/open311/v2/requests.json")).json()}
        assert found == {"SMP-01-01-01", "SMP-02-02-02"}
        assert (await client.get("/open311/v2/requests/SMP-LT-00-01.json")).status_code == 404
        async with deps.sessions() as s:
            assert {c.ticket for c in await open_data.cases(s, config, now)} == found

        # the dashboard's figures page
        await sign_in(client, "op1")
        page = (await client.get("/dashboard/figures", params={"lang": "id"})).text
        assert (_number(page, "tile-traffic"), _number(page, "tile-reports")) == ("4", "2")
        assert _table(page, "by-channel")["WhatsApp"] == 0 and _table(page, "by-class")["Darurat"] == 2
        assert _number(page, "standard-answer") == "100%" and _number(page, "standard-dispatch") == "100%"
        assert re.search(r'id="standard-dispatch" data-met="true"', page) and "2 dari 2" in page
