"""How many WhatsApp messages a citizen gets for one typical report, by phase (Meta bills every one of them).

    .venv/bin/python bench/whatsapp_messages.py [--type fire] [--postgres]

The real gateway (web with its embedded worker, SQLite by default) against the fake Bot API (operators and
crews on Telegram) and the fake Graph API (the citizen on WhatsApp, the real pywa client). The citizen writes
first in their own words, answers whatever the conversation asks (type, photo, pin, description, confirm —
in whatever order and however few steps it takes), then an operator verifies, the crew accepts with an ETA,
arrives, finishes with a documentation photo, and the citizen rates. Prints the messages sent to the citizen
in each phase and their texts; not a test: the figure goes to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_config  # noqa: E402
from tests.conftest import fresh_database_url  # noqa: E402
from tests.e2e_support import buttons, find, press  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.whatsapp_api import FakeWhatsApp  # noqa: E402
from tests.harness import eventually, gateway  # noqa: E402
from tests.images import phone_jpeg  # noqa: E402
from tests.wa_support import TEMPLATES, body, choose, option_ids  # noqa: E402

CITIZEN = "6281234567890"
PIN = (-7.0167, 113.8667)
TICKET = re.compile(r"\b[A-Z]{2,4}-\d\d-\d\d-\d\d\b")
FIRST_WORDS = {"fire": "Tolong, gudang kayu di belakang pasar terbakar, api membesar",
               "traffic_accident": "Tolong ada kecelakaan motor dan mobil, 2 orang luka"}
DESCRIPTION = "Api membesar, belum ada korban"
SETTLE = 2.5  # seconds without a new message to the citizen before a phase counts as over


async def settled(wa: FakeWhatsApp, since: int, at_least: int = 1, timeout: float = 60) -> list[dict]:
    """The citizen's messages after `since` once at least `at_least` came and none followed for SETTLE s."""
    deadline = time.monotonic() + timeout
    count, quiet_from = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(wa.sent(CITIZEN))
        if now_count != count:
            count, quiet_from = now_count, time.monotonic()
        elif count - since >= at_least and time.monotonic() - quiet_from >= SETTLE:
            break
        await asyncio.sleep(0.1)
    return wa.sent(CITIZEN)[since:]


async def converse(wa: FakeWhatsApp, kind: str) -> str:
    """Answer whatever the conversation asks until the ticket comes; returns it."""
    photo_sent = pin_sent = described = False
    since = len(wa.sent(CITIZEN))
    await wa.send_text(CITIZEN, FIRST_WORDS[kind])
    for _ in range(20):
        new = await settled(wa, since)
        since = len(wa.sent(CITIZEN))
        found = next((TICKET.search(body(m)) for m in new if TICKET.search(body(m))), None)
        if found:
            return found.group(0)
        last = new[-1]
        options, text = option_ids(last), body(last).lower()
        if "confirm:send" in options:
            await choose(wa, CITIZEN, last, "confirm:send")
        elif last.get("interactive", {}).get("type") == "location_request_message" and not pin_sent:
            await wa.send_location(CITIZEN, *PIN)
            pin_sent = True
        elif f"type:{kind}" in options:
            await choose(wa, CITIZEN, last, f"type:{kind}")
        elif not photo_sent and ("foto" in text or "photo" in text):
            await wa.send_image(CITIZEN, phone_jpeg())
            photo_sent = True
        elif yes := next((o for o in options if re.search(r"(yes|ya|ok|confirm)", o) and "cancel" not in o), None):
            await choose(wa, CITIZEN, last, yes)  # "Kebakaran? ✅ Ya", "Desa Pabian? ✅ Ya"
        elif not described:
            await wa.send_text(CITIZEN, DESCRIPTION)
            described = True
        elif "skip" in options:
            await choose(wa, CITIZEN, last, "skip")
        else:
            raise SystemExit(f"the bench does not know how to answer: {body(last)!r} {options}")
    raise SystemExit("no ticket after 20 answers")


async def run(kind: str, postgres: bool) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    incident = config.incident_type(kind)
    assert incident is not None, f"no incident type {kind!r} in config/sumenep.yaml"
    agency = config.agency(incident.agencies[0])
    assert agency is not None and agency.telegram_chat_id is not None
    crew = next(m.telegram_user_id for m in agency.members if m.telegram_user_id)
    operator = config.operators.members[0].telegram_user_id
    ops_chat, crew_chat = config.operators.telegram_chat_id, agency.telegram_chat_id
    phases: list[tuple[str, list[dict]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database_url("postgres" if postgres else "sqlite", Path(tmp))
        async with FakeTelegram() as fake, FakeWhatsApp() as wa:
            wa.pair_interval = 0.3
            wa.templates |= TEMPLATES
            wa.user(CITIZEN, "Sari")
            fake.group(ops_chat, "Operator 112")
            fake.group(crew_chat, agency.name.id)
            for person in [*config.operators.members, *config.leadership, *agency.members]:
                if person.telegram_user_id:
                    fake.user(person.telegram_user_id, person.name)
                    fake.start_private(person.telegram_user_id)
                if person.whatsapp:
                    wa.user(person.whatsapp, person.name)
            async with gateway(fake, url, wa=wa):
                mark = len(wa.sent(CITIZEN))
                ticket = await converse(wa, kind)
                phases.append(("conversation (first words → ticket, safety advice)",
                               await settled(wa, mark)))

                async def phase(name: str, act, at_least: int = 0) -> None:
                    start = len(wa.sent(CITIZEN))
                    await act()
                    phases.append((name, await settled(wa, start, at_least=at_least, timeout=SETTLE + 20)))

                card = await eventually(lambda: find(fake, ops_chat, ticket), timeout=40)
                case_id = int(next(b for b in buttons(card) if b.startswith("case:verify")).split(":")[2])
                await phase("verification (operator dispatches)",
                            lambda: press(fake, operator, card, f"op:verify:{case_id}"))
                task_card = await eventually(lambda: find(fake, crew_chat, ticket), timeout=40)
                task = int(buttons(task_card)[0].split(":")[2])
                eta = f"tk:eta:{task}:{config.cases.eta_choices[1]}"
                await phase("crew accepts (ETA)", lambda: press(fake, crew, task_card, eta))
                await phase("crew on scene", lambda: press(fake, crew, task_card, f"tk:arr:{task}"))

                async def finish() -> None:
                    await press(fake, crew, task_card, f"tk:done:{task}")
                    await eventually(lambda: find(fake, crew_chat, "balas pesan ini")
                                     or find(fake, crew_chat, "reply to this"), timeout=40)
                    await fake.send_photo(crew, phone_jpeg(640, 480), caption="Sudah ditangani", chat_id=crew_chat)
                    await eventually(lambda: find(fake, ops_chat, "Dokumentasi " + ticket), timeout=40)
                    await press(fake, crew, task_card, f"tk:send:{task}")
                await phase("crew done (handled, closed, rating asked)", finish, at_least=1)
                rating = next(m for _, ms in phases for m in ms if f"rate:{case_id}:5" in option_ids(m))

                async def rate() -> None:
                    await choose(wa, CITIZEN, rating, f"rate:{case_id}:5")
                await phase("rating (citizen gives 5 stars)", rate)
                violations = wa.limit_violations + fake.limit_violations
    total = sum(len(ms) for _, ms in phases)
    print(f"WhatsApp messages to the citizen for one {kind} report with photo and pin "
          f"({'PostgreSQL' if postgres else 'SQLite'}, ticket {ticket}):")
    for name, messages in phases:
        print(f"  {len(messages):2d}  {name}")
    print(f"  {total:2d}  total (limit violations seen by the fakes: {len(violations)})")
    print("\nThe messages, in order:")
    n = 0
    for _name, messages in phases:
        for message in messages:
            n += 1
            kind_ = message.get("type")
            if kind_ == "interactive":
                kind_ += "/" + message["interactive"].get("type", "")
            text = " ".join(body(message).split())
            print(f"  {n:2d}. [{kind_}] {text[:110]}{'…' if len(text) > 110 else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--type", default="fire", choices=sorted(FIRST_WORDS))
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (SIAGA_TEST_PG_DB) instead of SQLite")
    args = parser.parse_args()
    asyncio.run(run(args.type, args.postgres))


if __name__ == "__main__":
    main()
