"""A simulated day of reports through the domain commands, then the figures as the system computes them.

    .venv/bin/python bench/sla_day.py [--reports 500] [--seed 112] [--database-url URL]

Each report is submitted, verified (or rejected as a prank, or merged as a duplicate), dispatched,
accepted, on scene, resolved and closed at times drawn from the distributions below, using the same
`core.casework` commands the buttons use, so every stage time is stored as in production. The digest's
own code (`core.figures`) then reads the day back. Prints the figures, the digest text, and how long the
writes and the figure query took. Default database: a fresh SQLite file in a temporary directory.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import casework, figures, sla
from core.cases import CaseState
from core.config import load_config
from core.db import Base, make_engine, make_sessionmaker
from core.models import Reporter
from core.repository import create_case
from workflows import figures_text

ROOT = Path(__file__).resolve().parent.parent
# minutes: median of a log-normal spread for each step (a busy but functioning command centre)
STEP_MEDIANS = {"verify": 1.2, "dispatch": 0.3, "accept": 2.0, "arrive": 12.0, "resolve": 35.0, "close": 5.0}
PRANK_SHARE, DUPLICATE_SHARE, RATED_SHARE = 0.08, 0.05, 0.6


def draw(rng: random.Random, step: str) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(0, 0.6) * STEP_MEDIANS[step])


async def simulate(url: str, n: int, seed: int, day: date) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    rng = random.Random(seed)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    sessions = make_sessionmaker(engine)
    start, end = figures_text.day_window(config, day)
    types = config.incident_types
    weights = [4 if it.urgent else 1 for it in types]
    drawn: dict[str, list[float]] = {k: [] for k in STEP_MEDIANS}
    truth_met = truth_urgent = 0
    began = time.perf_counter()
    async with sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id="bench", name="Warga", language="id")
        s.add(reporter)
        await s.flush()
        i = 0
        while i < n:
            it = rng.choices(types, weights)[0]
            t = start + timedelta(seconds=rng.uniform(0, 86_399))
            i += 1
            case = await create_case(s, reporter=reporter, chat="telegram:bench", ticket=f"SMP-{i:06d}",
                                     incident_type=it.code, urgent=it.urgent, language="id",
                                     latitude=-7.0 + rng.uniform(-0.2, 0.2), longitude=113.9 + rng.uniform(-0.4, 0.4),
                                     address_text=None, description=None, photo_media_id=None, started_at=t, now=t)
            case.sla_due_at = sla.deadline(config, it.code, t)
            roll = rng.random()
            if roll < PRANK_SHARE:
                casework.reject(s, case, "telegram:1001", "hoax", t + draw(rng, "verify"))
                continue
            steps = {k: draw(rng, k) for k in STEP_MEDIANS}
            for k, v in steps.items():
                drawn[k].append(v.total_seconds())
            t_verify = t + steps["verify"]
            await casework.verify(s, case, "telegram:1001", [it.agencies[0]], t_verify)
            [task] = await casework.tasks_of(s, case.id)
            t_accept = t_verify + steps["dispatch"] + steps["accept"]
            if it.urgent:
                truth_urgent += 1
                truth_met += t_accept <= case.sla_due_at
            task.created_at = case.dispatched_at = t_verify + steps["dispatch"]
            casework.accept(s, case, task, "telegram:3001", "Regu A", 10, t_accept)
            t_scene = t_accept + steps["arrive"]
            casework.arrive(s, case, task, "telegram:3001", t_scene)
            if rng.random() < DUPLICATE_SHARE and i < n:  # a neighbour reports the same incident, merged
                i += 1
                t_dup = t + timedelta(minutes=rng.uniform(0.5, 4))
                dup = await create_case(s, reporter=reporter, chat="telegram:bench", ticket=f"SMP-{i:06d}",
                                        incident_type=it.code, urgent=it.urgent, language="id",
                                        latitude=case.latitude, longitude=case.longitude, address_text=None,
                                        description=None, photo_media_id=None, started_at=t_dup, now=t_dup)
                dup.sla_due_at = sla.deadline(config, it.code, t_dup)
                await casework.mark_duplicate(s, dup, case, "telegram:1001", t_dup + draw(rng, "verify"))
            t_done = t_scene + steps["resolve"]
            casework.record(s, case, "telegram:3001", t_done, to=CaseState.RESOLVED)
            casework.close(s, case, "telegram:1001", t_done + steps["close"])
            if rng.random() < RATED_SHARE:
                casework.rate(s, case, rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0], "telegram:bench",
                              t_done + steps["close"] + timedelta(minutes=1))
    wrote = time.perf_counter() - began
    began = time.perf_counter()
    async with sessions() as s:
        fig = await figures.load(s, start, end, end + timedelta(hours=7))
    read = time.perf_counter() - began
    await engine.dispose()

    print(f"simulated day {day} — {n} reports, seed {seed}, database {url.split('://')[0]}")
    print(f"writes: {wrote:.2f} s ({n / wrote:.0f} reports/s incl. every stage); figures query: {read * 1000:.0f} ms")
    print(f"SLA compliance (urgent, accepted ≤ sla_minutes after submission): {fig.urgent_met}/"
          f"{fig.urgent_met + fig.urgent_missed} = {fig.compliance * 100:.1f}%   "
          f"(generator's own count: {truth_met}/{truth_urgent} = {truth_met / max(truth_urgent, 1) * 100:.1f}%)")
    print("median time per stage (system)      vs drawn:")
    pairs = {"verify": "verify", "dispatch": "dispatch", "accept": "accept", "arrive": "arrive",
             "resolve": "resolve", "close": "close"}
    for name, _, _ in figures.STAGES:
        value = fig.median_seconds[name]
        shown = "-" if value is None else f"{value / 60:6.2f} min"
        ref = f"{median(drawn[pairs[name]]) / 60:6.2f} min" if name in pairs and drawn[pairs[name]] else ""
        print(f"  {name:<13} {shown:>12}   {ref}")
    print(f"pranks {fig.pranks} ({fig.prank_share * 100:.1f}%), average rating {fig.average_rating:.2f} "
          f"from {fig.ratings}, open now {fig.open_now}")
    print()
    print(figures_text.render(fig, config, figures_text.digest_title(config, day)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    asyncio.run(simulate(url, args.reports, args.seed, date(2026, 11, 26)))


if __name__ == "__main__":
    main()
