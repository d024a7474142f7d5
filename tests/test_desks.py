"""Several operators' groups (`operators.desks`): the routing decision, the deployment file's checks, and a case's
card, reminders and alerts all in its own desk, over the fake Bot API."""
from __future__ import annotations

import argparse
import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bots import cli
from bots.app import build_deps, stop_deps
from bots.services import phone_intake
from core import outbox
from core.clock import FakeClock
from core.config import ConfigError, Deployment, load_config
from core.i18n import t
from core.messages import Address
from core.models import Case, OutboxItem
from core.settings import load_settings
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, answer_for, buttons, find, latest_card, press, report_fire, texts, wait_text
from tests.harness import SECRET_KEY, eventually, gateway
from tests.images import phone_jpeg
from workflows import card_messages, crew_reach, desk_routing, notices, sla_notices
from workflows.cards import CaseView
from workflows.operator_intake import validate

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "sumenep.yaml"
KOTA, KALIANGET = -1001000000002, -1001000000003  # the desks' groups
OPERATOR, REGU_A, DAMKAR = 1001, 3001, -1001000000101
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def raw(**operators: object) -> dict:
    """The example deployment file as data, its `operators:` section changed."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["operators"].update(copy.deepcopy(operators))
    return data


DESKS = [{"name": "Kota", "telegram_chat_id": KOTA, "kecamatan": ["Kec. Kota Sumenep", "Manding"]},
         {"name": "Kalianget", "telegram_chat_id": KALIANGET, "kecamatan": ["35.29.02", "ra'as"]}]


def deployment(routing: str = "area", **changes: object) -> Deployment:
    config = Deployment.model_validate(raw(desks=DESKS, routing=routing))
    return config.model_copy(update=changes) if changes else config


# --- the routing decision (workflows/desk_routing.py) --------------------------------------------------------


def test_area_routing_finds_a_kecamatan_by_code_or_by_name_however_spelt():
    config = deployment()
    assert desk_routing.by_area(config, "35.29.01", "Kota Sumenep") == str(KOTA)  # "Kec. Kota Sumenep"
    assert desk_routing.by_area(config, "35.29.03", "Manding") == str(KOTA)
    assert desk_routing.by_area(config, "35.29.02", "Kalianget") == str(KALIANGET)  # listed by its code
    assert desk_routing.by_area(config, "35.29.22", "Ra'as") == str(KALIANGET)  # "ra'as"
    assert desk_routing.by_area(config, "35.29.05", "Bluto") is None  # no desk lists it: the main group
    assert desk_routing.by_area(config, None, None) is None  # no known place: the main group
    desk = config.operators.desks[0].model_copy(update={"kecamatan": ["KEC. GULUK GULUK", "Batang-Batang"]})
    assert desk.lists("35.29.09", "Guluk-Guluk") and desk.lists("35.29.16", "Batang Batang")
    assert not desk.lists("35.29.10", "Ganding")


def test_round_robin_takes_turns_when_calm_and_balances_a_surge():
    config = deployment("round_robin")
    main, kota, kalianget = config.desk_chats()
    assert main == str(config.operators.telegram_chat_id)
    assert [desk_routing.choose(config, case_id, None, None, {}) for case_id in range(6)] == \
        [None, kota, kalianget, None, kota, kalianget]  # None: the main group
    surge = {main: 12, kota: 3, kalianget: 7}
    assert desk_routing.choose(config, 1, "35.29.01", "Kota Sumenep", surge) == kota  # the area does not count
    tie = {main: 4, kota: 2, kalianget: 2}
    assert {desk_routing.by_turn(config, case_id, tie) for case_id in range(3)} == {kota, kalianget}
    assert desk_routing.shares(config) and not desk_routing.shares(deployment())


def test_without_desks_every_card_stays_in_the_main_group(config):
    assert desk_routing.choose(config, 7, "35.29.01", "Kota Sumenep", {}) is None
    assert not desk_routing.shares(config)
    assert config.desk_chats() == [str(OPERATORS)] and config.is_operators_chat(OPERATORS)


def test_every_desk_is_an_operators_chat_and_nothing_else_is():
    config = deployment()
    assert config.is_operators_chat(OPERATORS) and config.is_operators_chat(str(KOTA))
    assert config.is_operators_chat(KALIANGET) and not config.is_operators_chat(DAMKAR)
    assert config.desk_of_chat(KOTA).name == "Kota" and config.desk_of_chat(OPERATORS) is None


# --- messages about a case go to its desk ---------------------------------------------------------------------


def view(desk: str | None, **kw) -> CaseView:
    fields = dict(id=41, ticket="SMN-12-34-56", state="submitted", incident_type="fire", urgent=True, submitted_at=NOW,
                  updated_at=NOW, reporter_name="Budi", channel="telegram", contact="-", sla_due_at=NOW, desk=desk)
    return CaseView(**{**fields, **kw})


def test_the_card_reminders_and_alerts_of_a_case_go_to_its_desk():
    config = deployment()
    kota, main = Address("telegram", str(KOTA)), Address("telegram", str(OPERATORS))
    for desk, group in ((str(KOTA), kota), (None, main)):
        case = view(desk)
        assert card_messages.card_message(case, config, edit=False).to == group
        assert card_messages.card_message(case, config, edit=True).to == group
        assert sla_notices.verify_reminder(case, config, NOW).to == group
        assert crew_reach.phone_alert(case, ["damkar"], config).to == group
        assert notices.low_rating_alert(config, case.ticket, 1, desk=desk).to == group


# --- the deployment file --------------------------------------------------------------------------------------


def bad_desks(desks: list[dict]) -> dict:
    return raw(desks=desks)


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param(bad_desks([{**DESKS[0], "telegram_chat_id": OPERATORS}]),
                 "operators.desks[0].telegram_chat_id: is the main operators' group (operators.telegram_chat_id); "
                 "a desk needs a group of its own", id="main-group"),
    pytest.param(bad_desks([{**DESKS[0], "telegram_chat_id": DAMKAR}]),
                 "operators.desks[0].telegram_chat_id: is the crew group of agency 'damkar'; "
                 "a desk needs a group of its own", id="agency-group"),
    pytest.param(bad_desks([DESKS[0], {**DESKS[1], "telegram_chat_id": KOTA}]),
                 f"operators.desks[1].telegram_chat_id: duplicate desk group {KOTA} (already used by "
                 "operators.desks[0])", id="same-group-twice"),
    pytest.param(bad_desks([DESKS[0], {**DESKS[1], "name": "Kota"}]),
                 "operators.desks[1].name: duplicate desk name 'Kota' (already used by operators.desks[0])",
                 id="same-name-twice"),
    pytest.param(bad_desks([DESKS[0], {**DESKS[1], "kecamatan": ["Kalianged"]}]),
                 "operators.desks[1].kecamatan[0]: unknown kecamatan 'Kalianged' in core/data/gazetteer/sumenep.csv "
                 "(did you mean 'Kalianget'?)", id="kecamatan-typo"),
    pytest.param(bad_desks([DESKS[0], {**DESKS[1], "kecamatan": ["Kalianget", "35.29.01"]}]),
                 "operators.desks[1].kecamatan[1]: kecamatan '35.29.01' is already listed by operators.desks[0]",
                 id="kecamatan-on-two-desks"),
    pytest.param(bad_desks([{**DESKS[0], "telegram_chat_id": 5}]),
                 "operators.desks[0].telegram_chat_id: must be a negative group chat id (got 5)", id="not-a-group"),
    pytest.param(raw(desks=DESKS, routing="nearest"),
                 "operators.routing: must be 'area' or 'round_robin' (got 'nearest')", id="unknown-routing"),
])
def test_a_wrong_desk_is_one_line_naming_the_key(tmp_path, data, expected):
    path = tmp_path / "sumenep.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_desks_that_would_get_nothing_are_warned_of():
    assert not [w for w in deployment().warnings() if "desks" in w]
    empty = [DESKS[0], {**DESKS[1], "kecamatan": []}]
    assert "operators.desks[1].kecamatan: 'Kalianget' lists none, so it gets no reports (operators.routing: area)" \
        in Deployment.model_validate(raw(desks=empty)).warnings()
    assert "operators.desks[0].kecamatan: not used with operators.routing: round_robin" \
        in deployment("round_robin").warnings()
    no_places = raw(desks=DESKS)
    no_places["region"].pop("gazetteer")
    assert any(w.startswith("operators.desks: region.gazetteer is not set")
               for w in Deployment.model_validate(no_places).warnings())


def test_config_check_lists_the_desks(tmp_path, capsys):
    path = tmp_path / "desks.yaml"
    path.write_text(yaml.safe_dump(raw(desks=DESKS), allow_unicode=True), encoding="utf-8")
    assert cli.cmd_config_check(argparse.Namespace(file=str(path))) == 0
    out = capsys.readouterr().out
    assert f"desk 'Kota': group {KOTA}, reports: Kec. Kota Sumenep, Manding" in out
    assert f"desk 'Kalianget': group {KALIANGET}, reports: 35.29.02, ra'as" in out


# --- a phone report goes to its area's desk too ---------------------------------------------------------------


@pytest.fixture
async def deps(db_url):
    settings = load_settings(database_url=db_url, telegram_bot_token="123456:TEST-TOKEN", siaga_secret_key=SECRET_KEY)
    deps = build_deps(settings, deployment(), FakeClock())
    yield deps
    await stop_deps(deps)


async def test_a_report_an_operator_enters_gets_its_card_in_the_desk_of_its_kecamatan(deps):
    fields = {"incident_type": "fire", "caller_name": "Bu Sri", "caller_phone": "0812-3456-7890",
              "latitude": "-7.050947", "longitude": "113.894271", "description": "Rumah terbakar"}  # Kalianget
    report = validate(fields, deps.config, deps.clock.now())
    assert not isinstance(report, dict), report
    entered = await phone_intake.submit(deps, "form-desk-000000000001", report, "op1", "Operator Ani")
    async with deps.sessions() as s:
        case = await s.get(Case, entered.case_id)
        assert case.desk_chat_id == str(KALIANGET) and case.kecamatan_code == "35.29.02"
        rows = (await s.execute(OutboxItem.__table__.select())).mappings().all()
    cards = [outbox.decode(r["payload"]) for r in rows if r["ref"] == f"card:{case.id}"]
    assert [str(c.to) for c in cards] == [f"telegram:{KALIANGET}"]
    assert not any(outbox.decode(r["payload"]).to.id == str(OPERATORS) for r in rows)


# --- end to end: the fake Bot API, the embedded and the production shape --------------------------------------


def with_desk_groups(fake) -> None:
    fake.group(KOTA, "Operator 112 — Kota")
    fake.group(KALIANGET, "Operator 112 — Kalianget")


@pytest.mark.parametrize("shape", ["embedded", "production"])
async def test_a_case_lives_in_the_desk_of_its_kecamatan(shape, fake, tmp_path, redis_url):
    """A fire pinned in Kota Sumenep: its card, the verify reminder, the verification, a command and the crew's
    refusal all happen in desk Kota; the main group and the other desk see nothing of it."""
    clock, config = FakeClock(), deployment()
    with_desk_groups(fake)
    url = await fresh_database_url("sqlite" if shape == "embedded" else "postgres", tmp_path)
    extra = {} if shape == "embedded" else {"redis_url": redis_url, "run_worker": False, "workers": 1}
    async with gateway(fake, url, config=config, clock=clock, **extra):
        ticket = await report_fire(fake, phone_jpeg())  # pinned at SUMENEP: Kota Sumenep
        card = await eventually(lambda: latest_card(fake, KOTA, ticket), timeout=40)
        case_id = int(next(b for b in buttons(card) if b.startswith("case:verify")).split(":")[2])

        clock.advance(minutes=config.clock.verify_reminder_minutes, seconds=5)
        reminder = t("id", "sla.verify_reminder").split("{")[0]
        await eventually(lambda: find(fake, KOTA, reminder + ticket), timeout=40)

        pressed = await press(fake, OPERATOR, card, f"case:verify:{case_id}")  # in the desk's group
        assert await answer_for(fake, pressed) != t("id", "desk.not_operator")
        await eventually(lambda: "Operator Satu" in (latest_card(fake, KOTA, ticket) or {}).get("caption", ""),
                         timeout=40)
        await fake.send_text(OPERATOR, f"/kasus {ticket}", chat_id=KOTA)  # commands work in every desk
        await wait_text(fake, KOTA, f"Riwayat {ticket}")

        task_card = await eventually(lambda: latest_card(fake, DAMKAR, ticket), timeout=40)
        task = int(next(b for b in buttons(task_card) if b.startswith("task:")).split(":")[2])
        await press(fake, REGU_A, task_card, f"task:refuse_why:{task}:busy")
        assert "menolak tugas {ticket}" in t("id", "desk.task_refused")
        await wait_text(fake, KOTA, f"menolak tugas {ticket}")

        assert ticket not in texts(fake, OPERATORS) and ticket not in texts(fake, KALIANGET)
        assert fake.limit_violations == []


async def test_round_robin_spreads_new_cards_over_every_group(fake, tmp_path):
    """Three reports, three groups: each card where it was sent, each group one card (calm: in turn)."""
    config = deployment("round_robin")
    config = config.model_copy(update={"duplicates": config.duplicates.model_copy(update={"auto_join": False}),
                                       "limits": config.limits.model_copy(update={"reports_per_hour": 10})})
    with_desk_groups(fake)
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=config) as gw:
        tickets = [await report_fire(fake, phone_jpeg()) for _ in range(3)]
        groups = (OPERATORS, KOTA, KALIANGET)

        def headed(group: int, ticket: str) -> bool:  # a card's first line names its ticket (others: "same as")
            return any(ticket in (m.get("caption") or m.get("text") or "").split("\n")[0] and buttons(m)
                       for m in fake.sent(group))

        def where() -> list[int]:
            return [next((g for g in groups if headed(g, ticket)), 0) for ticket in tickets]
        await eventually(lambda: all(where()), timeout=40)
        assert sorted(where()) == sorted(groups)
        async with gw.deps.sessions() as s:
            for ticket, group in zip(tickets, where(), strict=True):
                [case] = (await s.execute(Case.__table__.select().where(Case.ticket == ticket))).mappings().all()
                assert case["desk_chat_id"] == (None if group == OPERATORS else str(group))
        assert fake.limit_violations == []
