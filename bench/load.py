"""A surge of citizens against the production shape: how soon an operator can act on each report, and what it costs.

    .venv/bin/python bench/load.py --scenario flash        # 200 Telegram + 20 WhatsApp reports in 60 s
    .venv/bin/python bench/load.py --scenario earthquake   # 450 + 50 reports in 10 minutes, 60 % about 5 incidents
    .venv/bin/python bench/load.py [--citizens 20] [--whatsapp 0] [--spread 60] [--webs 2] [--workers 2] [--think 1]
                                   [--config config/sumenep.yaml] [--seed 112] [--timeout 5400]

`--webs` `siaga web` and `--workers` `siaga worker` OS processes (bench/cluster.py, importing the code beside
this file) on PostgreSQL (SIAGA_BENCH_DB, default `siaga_bench`) and Redis (SIAGA_BENCH_REDIS, default db 14);
the fake Bot API enforces Telegram's limits and delivers webhooks over 40 connections, each chat in order,
round-robin over the web instances. Citizens arrive at random within `--spread` seconds and walk the whole
report, waiting for each answer like a person. "flash": five types in turn, pins 440 m apart (no two reports
of one incident). "earthquake": 60 % of the reports are about 5 incidents (one type each, pins within 150 m of
the incident), the rest of varied types at places all over the regency (the gazetteer's desa, jittered).

The operators on shift (every operator with a Telegram id) press Start privately and check in with /masuk,
then verify each report as soon as one of them can act on it: its card in an operators' group, a list line's
`case:open` button (the card comes to the presser's private chat) or a private copy; `--think` seconds a press.

Prints: confirm → the first operator who can act on the report (its card, a list line, a private copy, or for
a report that joined an open case, that case; all and urgent), verification → every task of the case in its
crew group (card or list line), leaders' messages a minute, limit violations, messages sent twice, reports
without a ticket or case and verified cases whose task never showed, what the database holds, the log check.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.citizens import (  # noqa: E402
    FIRST_CITIZEN,
    KINDS,
    DeskTeam,
    Marks,
    Report,
    crew_watch,
    dashboard_watch,
    duplicated,
    duplicates,
    pct,
    spread_pin,
    time_acks,
    wa_walk,
    walk,
)
from bench.cluster import Cluster  # noqa: E402
from bench.outbound_limits import REDIS, fresh_database  # noqa: E402
from core.config import Deployment, load_config  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.whatsapp_api import FakeWhatsApp  # noqa: E402
from tests.harness import SECRET  # noqa: E402
from tests.images import phone_jpeg  # noqa: E402
from tests.session_log import find_leaks  # noqa: E402

RUNS = ROOT / "bench" / "runs"
SCENARIOS = {  # Telegram citizens, WhatsApp citizens, seconds they arrive within
    "flash": (200, 20, 60.0),
    "earthquake": (450, 50, 600.0),
}
# An earthquake's five incidents: one type each, at the centre of a kecamatan (the gazetteer's centroid).
INCIDENTS = [("fire", "Kota Sumenep"), ("medical", "Kalianget"), ("live_wire", "Ambunten"),
             ("landslide", "Guluk-Guluk"), ("traffic_accident", "Lenteng")]
# The rest: any type a citizen can report with a button and without a required photo, whose agencies are set.
SCATTERED = ["fire", "traffic_accident", "medical", "boat_accident", "sea_missing", "live_wire", "crime", "flood",
             "landslide", "water_outage", "drought_water"]
SENDS = {"sendMessage", "sendPhoto", "sendLocation", "sendMediaGroup", "sendDocument", "sendVenue"}


def flash(citizens: int, whatsapp: int) -> list[Report]:
    """Today's default run: Telegram five types in turn, WhatsApp fires, every pin 440 m from the next."""
    return ([Report(KINDS[n % len(KINDS)], *spread_pin(n, -6.9, 113.6)) for n in range(citizens)]
            + [Report("fire", *spread_pin(n, -7.2, 113.9)) for n in range(whatsapp)])


def earthquake(citizens: int, whatsapp: int, config: Deployment, rng: random.Random) -> list[Report]:
    """60 % about five incidents (pins within 150 m of each), 40 % scattered; shuffled over both channels."""
    with open(ROOT / "core" / "data" / "gazetteer" / "sumenep.csv", encoding="utf-8") as places:
        rows = list(csv.DictReader(places))
    centre = {r["kecamatan"]: (float(r["latitude"]), float(r["longitude"])) for r in rows if r["kind"] == "kecamatan"}
    desa = [(float(r["latitude"]), float(r["longitude"])) for r in rows if r["kind"] != "kecamatan"]
    lat_min, lon_min, lat_max, lon_max = config.region.bounds
    total = citizens + whatsapp
    about = round(total * 0.6)
    reports = [Report(INCIDENTS[i % 5][0], *near(centre[INCIDENTS[i % 5][1]], 150, rng), incident=i % 5)
               for i in range(about)]
    for _ in range(total - about):
        lat, lon = near(rng.choice(desa), 400, rng)
        reports.append(Report(rng.choice(SCATTERED), min(max(lat, lat_min), lat_max), min(max(lon, lon_min), lon_max)))
    rng.shuffle(reports)
    return reports


def near(point: tuple[float, float], metres: float, rng: random.Random) -> tuple[float, float]:
    """A random pin within `metres` of a point (uniform over the disc)."""
    r, angle = metres * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = point[0] + r * math.cos(angle) / 111_320
    return round(lat, 6), round(point[1] + r * math.sin(angle) / (111_320 * math.cos(math.radians(point[0]))), 6)


@dataclass
class Store:
    """The database as the bench last read it: cases and tasks by id."""

    cases: dict[int, asyncpg.Record] = field(default_factory=dict)
    tasks: dict[int, asyncpg.Record] = field(default_factory=dict)

    def root(self, case_id: int) -> int:
        """The case a report joined (followed through `duplicate_of_id`), or the report's own."""
        seen = {case_id}
        while (up := self.cases[case_id]["duplicate_of_id"]) is not None and up in self.cases and up not in seen:
            case_id = up
            seen.add(up)
        return case_id


async def store_watch(url: str, store: Store, desk: DeskTeam, stop: asyncio.Event) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        while not stop.is_set():
            await read_store(conn, store)
            desk.verified = {i for i, c in store.cases.items() if c["verified_at"] is not None}
            await asyncio.sleep(2)
    finally:
        await conn.close()


async def read_store(conn, store: Store) -> None:
    store.cases = {r["id"]: r for r in await conn.fetch(
        "SELECT id, ticket, duplicate_of_id, urgent, incident_type, verified_at, state FROM cases")}
    store.tasks = {r["id"]: r for r in await conn.fetch("SELECT id, case_id, agency, support_of_id FROM tasks")}


def expected_tasks(store: Store, config: Deployment) -> tuple[dict[int, list[int]], list[int]]:
    """Verified cases → their tasks; and verified cases (own cards) with agencies but no task at all."""
    tasks: dict[int, list[int]] = {}
    for task in store.tasks.values():
        if task["support_of_id"] is None:
            tasks.setdefault(task["case_id"], []).append(task["id"])
    verified = [i for i, c in store.cases.items() if c["verified_at"] is not None and c["duplicate_of_id"] is None]
    none = [i for i in verified if i not in tasks and config.incident_type(store.cases[i]["incident_type"]).agencies]
    return {i: tasks[i] for i in verified if i in tasks}, none


def settled(store: Store, marks: Marks, config: Deployment) -> bool:
    """Every report's case in the store, every case not joined to another verified, every task shown."""
    if not store.cases or any(t not in {c["ticket"] for c in store.cases.values()} for t in marks.confirmed):
        return False
    if any(c["verified_at"] is None for c in store.cases.values() if c["duplicate_of_id"] is None):
        return False
    tasks, none = expected_tasks(store, config)
    return not none and all(t in marks.task_seen for ts in tasks.values() for t in ts)


def joins_shown(store: Store, marks: Marks) -> bool:
    """Every report that joined an open case counted on that case's card or line (a change after its confirm)."""
    by_ticket = {c["ticket"]: i for i, c in store.cases.items()}
    for ticket, confirmed in marks.confirmed.items():
        case_id = by_ticket.get(ticket)
        if case_id is not None and (root := store.root(case_id)) != case_id \
                and not any(at >= confirmed for at in marks.changed.get(root, [])):
            return False
    return True


async def run(args: argparse.Namespace) -> None:
    """The report surge against OS processes; prints the issue's figures and the double-processing checks."""
    config = load_config(args.config)
    rng = random.Random(args.seed)
    if args.scenario == "earthquake":
        reports = earthquake(args.citizens, args.whatsapp, config, rng)
        channels = ["telegram"] * args.citizens + ["whatsapp"] * args.whatsapp
        rng.shuffle(channels)
    else:
        reports = flash(args.citizens, args.whatsapp)
        channels = ["telegram"] * args.citizens + ["whatsapp"] * args.whatsapp
    desks = [config.operators.telegram_chat_id, *(d.telegram_chat_id for d in getattr(config.operators, "desks", []))]
    crews = [a.telegram_chat_id for a in config.agencies if a.telegram_chat_id]
    operators = [p.telegram_user_id for p in config.operators.members if p.telegram_user_id]
    leaders = {p.telegram_user_id for p in config.leadership if p.telegram_user_id}
    url = await fresh_database()
    acks: list[float] = []
    answers: Counter[int] = Counter()
    photo = phone_jpeg()
    store, marks, stop = Store(), Marks(), asyncio.Event()
    async with FakeTelegram(connections=40, webhook_max_attempts=200, webhook_retry_delay=0.5) as fake, \
            FakeWhatsApp(webhook_max_attempts=200, webhook_retry_delay=0.5) as wa:
        time_acks(fake, acks, answers)
        register_people(fake, config, args.citizens)
        for name, desk_chat in zip(("Operator 112", *(d.name for d in getattr(config.operators, "desks", []))),
                                   desks, strict=True):
            fake.group(desk_chat, name)
        for n in range(args.whatsapp):
            wa.user(wa_id(n), f"Warga WA {n}")
        run_dir = RUNS / f"load-{args.scenario or 'custom'}"
        async with Cluster(fake, url, REDIS, run_dir, webs=args.webs, workers=args.workers, wa=wa,
                           config=args.config) as cluster:
            print(f"code: {cluster.code()}; load average at start: {load_average()}", flush=True)
            await wait_until(lambda: fake.webhook is not None, 60)  # the web instances set it after /readyz
            team = DeskTeam(fake, desks, operators, marks, think=args.think)
            checked_in = await team.check_in()
            helpers = [asyncio.create_task(team.watch(stop)),
                       *(asyncio.create_task(team.work(person, stop)) for person in operators),
                       asyncio.create_task(crew_watch(fake, crews, marks, stop)),
                       asyncio.create_task(store_watch(url, store, team, stop)),
                       asyncio.create_task(dashboard_watch(cluster.public, url, marks, stop))]
            counts = Counter(channels)

            async def arrive(n: int, report: Report, channel: str, index: int):
                await asyncio.sleep(rng.uniform(0, args.spread))
                if channel == "telegram":
                    return await walk(fake, FIRST_CITIZEN + index, report, marks)
                return await wa_walk(wa, wa_id(index), report, marks, photo, key=-1 - index)
            seen: Counter[str] = Counter()
            plan = []
            for n, (report, channel) in enumerate(zip(reports, channels, strict=True)):
                plan.append(arrive(n, report, channel, seen[channel]))
                seen[channel] += 1
            began = time.monotonic()
            tickets = [t for t in await asyncio.gather(*plan) if t]
            walked, updates = time.monotonic() - began, len(acks) + len(wa.delivery_log)
            done = await wait_until(lambda: settled(store, marks, config), args.timeout)
            await wait_until(lambda: joins_shown(store, marks), 120)  # the card edits that count joined reports
            ended = time.monotonic()
            stop.set()
            await asyncio.gather(*helpers)
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                await read_store(conn, store)
            finally:
                await conn.close()
            checks = await store_checks(url)
            lines = cluster.log_lines()
        violations = (len(fake.limit_violations), len(wa.limit_violations))
        chats = [*desks, *operators, *crews, *range(FIRST_CITIZEN, FIRST_CITIZEN + args.citizens)]
        dups, where = duplicates(fake, chats), duplicated(fake, chats)
        refused = fake.limit_violations[:3] + wa.limit_violations[:3]
        to_leaders = [c.at for c in fake.calls if c.method in SENDS and c.status == 200
                      and str(c.params.get("chat_id")) in {str(i) for i in leaders}]
        secrets = [fake.token, fake.token.split(":")[1], SECRET, wa.token, wa.app_secret]

    say = print
    say(f"scenario {args.scenario or 'custom'}: {counts['telegram']} Telegram + {counts['whatsapp']} WhatsApp "
        f"citizens arriving over {args.spread:.0f} s (seed {args.seed}); {args.webs} web + {args.workers} worker "
        f"processes; PostgreSQL + Redis; platform limits enforced; {len(operators)} operators "
        f"({checked_in} answered at check-in), {args.think:.1f} s a press; {len(desks)} operators' group(s)")
    if args.scenario == "earthquake":
        about = Counter(r.incident for r in reports)
        say(f"reports about the 5 incidents: {sum(v for k, v in about.items() if k >= 0)}; scattered: {about[-1]}")
    walks = list(marks.walked.values())
    say(f"walks: {len(tickets)} tickets, {len(marks.failed)} stuck {marks.failed[:3]}; "
        f"walk p50 {pct(walks, 50):.1f} s, p99 {pct(walks, 99):.1f} s; "
        f"settled: {done} ({ended - began:.0f} s after the first arrival)")
    say(f"updates: {updates} in {walked:.1f} s = {updates / walked:.1f} updates/s sustained; "
        f"Telegram answers {dict(answers)}")
    say(f"Telegram webhook acknowledgement: p50 {pct(acks, 50) * 1000:.0f} ms, p99 {pct(acks, 99) * 1000:.0f} ms, "
        f"max {max(acks) * 1000:.0f} ms")
    report_first_eyes(say, store, marks, tickets, config)
    to_dashboard = [marks.dashboard[t] - marks.confirmed[t] for t in tickets if t in marks.dashboard]
    say(f"confirm → dashboard's open cases ({len(to_dashboard)}): p50 {pct(to_dashboard, 50):.1f} s, "
        f"p99 {pct(to_dashboard, 99):.1f} s")
    report_tasks(say, store, marks, config)
    minutes = max(1, math.ceil((ended - began) / 60))
    per_minute = Counter(min(minutes - 1, max(0, int((at - began) // 60))) for at in to_leaders)
    say(f"leaders' messages (Telegram, {len(leaders)} leaders): {len(to_leaders)} in {minutes} min; per minute max "
        f"{max(per_minute.values(), default=0)}, mean {len(to_leaders) / minutes:.1f}; "
        f"first 15 min: {[per_minute[m] for m in range(min(minutes, 15))]}")
    say(f"limit violations seen by the fakes: Telegram {violations[0]}, WhatsApp {violations[1]}; "
        f"Telegram messages sent twice: {dups}")
    if refused or where:
        say(f"  first violations: {refused}; sent twice in: {where[:5]}")
    say(f"store: {checks}")
    say(f"log lines: {len(lines)}, with a phone number, token or file URL: {len(find_leaks(lines, secrets))}")


def report_first_eyes(say, store: Store, marks: Marks, tickets: list[str], config: Deployment) -> None:
    """confirm → first operator who can act, for all and urgent reports; how they first saw it."""
    by_ticket = {c["ticket"]: i for i, c in store.cases.items()}
    waits: dict[str, list[float]] = {"all": [], "urgent": []}
    how: Counter[str] = Counter()
    joined_counted: list[float] = []
    never: list[str] = []
    for ticket in tickets:
        confirmed, case_id = marks.confirmed[ticket], by_ticket.get(ticket)
        if case_id is None:
            never.append(f"{ticket}: no case")
            continue
        root = store.root(case_id)
        options = [(marks.seen[case_id], marks.how[case_id])] if case_id in marks.seen else []
        if root != case_id and root in marks.seen:
            options.append((max(confirmed, marks.seen[root]), "joined"))
            after = [at for at in marks.changed.get(root, []) if at >= confirmed]
            if after:
                joined_counted.append(after[0] - confirmed)
        if not options:
            never.append(f"{ticket}: never shown")
            continue
        at, way = min(options)
        how[way] += 1
        waits["all"].append(at - confirmed)
        if config.incident_type(marks.kinds.get(ticket) or store.cases[case_id]["incident_type"]).urgent:
            waits["urgent"].append(at - confirmed)
    for name, values in waits.items():
        say(f"confirm → first operator who can act, {name} ({len(values)}): p50 {pct(values, 50):.1f} s, "
            f"p99 {pct(values, 99):.1f} s, max {max(values, default=float('nan')):.1f} s")
    say(f"  first seen as: {dict(how)}; list lines opened: {marks.opened}; reports with no case or never shown: "
        f"{len(never)} {never[:3]}")
    joined = sum(1 for c in store.cases.values() if c["duplicate_of_id"] is not None)
    say(f"  reports joined to an open case: {joined}; confirm → next change of that case's card or line "
        f"({len(joined_counted)} shown by the end): p50 {pct(joined_counted, 50):.1f} s, "
        f"p99 {pct(joined_counted, 99):.1f} s")


def report_tasks(say, store: Store, marks: Marks, config: Deployment) -> None:
    """verification (the operator's press) → the last of the case's tasks shown in its crew group."""
    tasks, none = expected_tasks(store, config)
    waits, missing = [], []
    for case_id, ids in tasks.items():
        pressed = marks.pressed.get(case_id)
        shown = [marks.task_seen.get(t) for t in ids]
        if None in shown:
            missing.append(case_id)
        elif pressed is not None:
            waits.append(max(shown) - pressed)
    say(f"verification → crew task(s) ({len(waits)} cases, {sum(len(v) for v in tasks.values())} tasks): "
        f"p50 {pct(waits, 50):.1f} s, p99 {pct(waits, 99):.1f} s; verified cases whose task never showed: "
        f"{len(missing) + len(none)}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wa_id(n: int) -> str:
    return f"628990{n:07d}"


def register_people(fake, config, citizens: int, first: int = FIRST_CITIZEN) -> None:
    """The deployment's groups and staff, and the citizens, as the fake knows them."""
    fake.group(config.operators.telegram_chat_id, "Operator 112")
    for agency in config.agencies:
        fake.group(agency.telegram_chat_id, agency.code)
    for person in [*config.operators.members, *config.leadership, *(m for a in config.agencies for m in a.members)]:
        if person.telegram_user_id:
            fake.user(person.telegram_user_id, person.name)
            fake.start_private(person.telegram_user_id)
    for n in range(citizens):
        fake.user(first + n, f"Warga {n}")
        fake.start_private(first + n)


async def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def store_checks(url: str) -> dict:
    """What the database says: updates stored and processed once, cases, and sends left or sent twice."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return {
            "inbox": dict(await conn.fetch("SELECT status, count(*) FROM inbox GROUP BY status")),
            "inbox rows per update > 1": await conn.fetchval(
                "SELECT count(*) FROM (SELECT external_id FROM inbox"
                " GROUP BY channel, external_id HAVING count(*) > 1) x"),
            "cases": await conn.fetchval("SELECT count(*) FROM cases"),
            "cases by state": dict(await conn.fetch("SELECT state, count(*) FROM cases GROUP BY state")),
            "reporters with more than one case": await conn.fetchval(
                "SELECT count(*) FROM (SELECT reporter_id FROM cases GROUP BY reporter_id HAVING count(*) > 1) x"),
            "outbox": dict(await conn.fetch("SELECT status, count(*) FROM outbox GROUP BY status")),
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), help="a preset of the three below")
    parser.add_argument("--citizens", type=int, help="Telegram citizens (default 20, or the scenario's)")
    parser.add_argument("--whatsapp", type=int, help="more citizens, on WhatsApp, each with a photo (default 0)")
    parser.add_argument("--spread", type=float, help="citizens arrive at random within these seconds (default 60)")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0, help="seconds an operator takes for one press")
    parser.add_argument("--timeout", type=float, default=5400, help="seconds to wait after the last ticket")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "sumenep.yaml",
                        help="the deployment file (e.g. one with operators.desks)")
    args = parser.parse_args()
    preset = SCENARIOS.get(args.scenario or "", (20, 0, 60.0))
    args.citizens = preset[0] if args.citizens is None else args.citizens
    args.whatsapp = preset[1] if args.whatsapp is None else args.whatsapp
    args.spread = preset[2] if args.spread is None else args.spread
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
