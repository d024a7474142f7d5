"""The figures behind the digest and /statistik match the cases behind them, computed independently here."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from core import casework, figures, sla
from core.cases import CaseState
from core.models import Reporter
from core.repository import create_case
from workflows import figures_text

OP, CREW = "telegram:1001", "telegram:3001"
TZ = ZoneInfo("Asia/Jakarta")

# One local day of cases, as minutes after submission for each step (None: never happened).
DAY = [
    dict(type="fire", at="08:00", verify=1, accept=3, arrive=10, resolve=40, close=40, rating=5),   # met
    dict(type="fire", at="09:00", verify=2, accept=7, arrive=15, resolve=50, close=55, rating=3),   # missed
    dict(type="medical", at="10:00", reject=1),                                                     # prank
    dict(type="flood", at="11:00", verify=10, accept=30),                                          # still open
    dict(type="fire", at="12:00", verify=1),                                                        # never taken
]
OUTSIDE = [dict(type="fire", day=-1, at="23:30"), dict(type="flood", day=+1, at="00:30")]  # open, other days


async def build(s, config, spec: dict, day: date, n: int):
    """A case with its steps at the given minutes, through the same domain commands as the buttons."""
    hour, minute = map(int, spec["at"].split(":"))
    t0 = datetime.combine(day + timedelta(days=spec.get("day", 0)), time(hour, minute), TZ)
    at = lambda m: t0 + timedelta(minutes=m)  # noqa: E731
    reporter = Reporter(channel="telegram", external_id=str(7000 + n), name="Warga", language="id")
    s.add(reporter)
    await s.flush()
    it = config.incident_type(spec["type"])
    case = await create_case(s, reporter=reporter, chat=f"telegram:{7000 + n}", ticket=f"SMP-00-00-{n:02d}",
                             incident_type=it.code, urgent=it.urgent, language="id", latitude=None,
                             longitude=None, address_text="Jl. Trunojoyo", description=None, photo_media_id=None,
                             started_at=t0, now=t0)
    case.sla_due_at = sla.deadline(config, it.code, t0)
    if "reject" in spec:
        casework.reject(s, case, OP, "hoax", at(spec["reject"]))
    if "verify" in spec:
        [task] = await casework.verify(s, case, OP, [it.agencies[0]], at(spec["verify"]))
        if spec.get("accept") is not None:
            casework.accept(s, case, task, CREW, "Regu A", 10, at(spec["accept"]))
        if spec.get("arrive") is not None:
            casework.arrive(s, case, task, CREW, at(spec["arrive"]))
        if spec.get("resolve") is not None:
            casework.record(s, case, CREW, at(spec["resolve"]), to=CaseState.RESOLVED)
        if spec.get("close") is not None:
            casework.close(s, case, OP, at(spec["close"]))
        if spec.get("rating"):
            casework.rate(s, case, spec["rating"], "telegram:7000", at(spec["close"] + 1))
    return case


async def populate(s, config, day: date) -> None:
    for n, spec in enumerate([*DAY, *OUTSIDE], start=1):
        await build(s, config, spec, day, n)


def expected(now_is_after_every_deadline: bool = True) -> dict:
    """The figures worked out from DAY by hand, not by the code under test."""
    def spans(a: str, b: str) -> list[float]:
        return [(c[b] - (c[a] if a != "submit" else 0)) * 60.0 for c in DAY
                if (a == "submit" or c.get(a) is not None) and c.get(b) is not None]
    return {
        "total": 5, "by_type": {"fire": 3, "medical": 1, "flood": 1},
        "met": 1, "missed": 2,  # 3 min ok; 7 min late; the noon fire never accepted and past its deadline
        "pranks": 1, "average_rating": 4.0, "open_now": 4,  # flood 11:00, fire 12:00, and the two outside
        "verify": median(spans("submit", "verify")), "total_accept": median(spans("submit", "accept")),
        "arrive": median([(c["arrive"] - c["accept"]) * 60.0 for c in DAY if c.get("arrive") is not None]),
    }


async def test_the_figures_match_the_cases(sessions, config):
    day = date(2026, 11, 20)
    async with sessions() as s, s.begin():
        await populate(s, config, day)
    start, end = figures_text.day_window(config, day)
    now = end + timedelta(hours=7)
    async with sessions() as s:
        fig = await figures.load(s, start, end, now)
    want = expected()
    assert (fig.total, fig.by_type) == (want["total"], want["by_type"])
    assert (fig.urgent_met, fig.urgent_missed, fig.urgent_pending) == (want["met"], want["missed"], 0)
    assert abs(fig.compliance - 1 / 3) < 1e-9
    assert (fig.pranks, fig.prank_share) == (1, 0.2)
    assert (fig.average_rating, fig.ratings, fig.open_now) == (want["average_rating"], 2, want["open_now"])
    assert fig.median_seconds["verify"] == want["verify"] == 90.0
    assert fig.median_seconds["total_accept"] == want["total_accept"]
    assert fig.median_seconds["arrive"] == want["arrive"]
    assert fig.by_state == {"closed": 2, "rejected": 1, "accepted": 1, "dispatched": 1}
    text = figures_text.render(fig, config, figures_text.digest_title(config, day))
    for fragment in ("Laporan masuk: 5", "Darurat diterima petugas dalam batas waktu: 1 dari 3 (33%)",
                     "Laporan ditolak sebagai hoaks/iseng: 1 (20% dari laporan)", "Semua panggilan dan pesan: 5",
                     "Per saluran: Telegram 5", "21-11-2026 00:00 WIB",
                     "Darurat 4, Permintaan informasi 0, Panggilan kosong 0, Iseng/hoaks 1",
                     "4.0 dari 5 (2 penilaian)", "Kasus masih terbuka saat ini: 4", "lapor → verifikasi: 1 mnt 30 dtk",
                     "verifikasi → tugas ke petugas ≤ 60 dtk: 4 dari 4 (100%; target 90%) ✅",
                     "laporan darurat lewat chat → tindakan pertama operator ≤ 60 dtk: 3 dari 4 (75%; target 90%) ⚠️"):
        assert fragment in text, fragment


def test_sla_outcomes_and_minutes_left():
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=TZ)
    due = t0 + timedelta(minutes=5)
    common = dict(due_at=due, closed_at=None)
    assert sla.outcome(state="accepted", accepted_at=due, now=due, **common) == "met"
    assert sla.outcome(state="accepted", accepted_at=due + timedelta(seconds=1), now=due, **common) == "missed"
    assert sla.outcome(state="dispatched", accepted_at=None, now=due - timedelta(seconds=1), **common) == "pending"
    assert sla.outcome(state="dispatched", accepted_at=None, now=due, **common) == "missed"
    assert sla.outcome(state="rejected", accepted_at=None, now=due, **common) is None
    assert sla.outcome(state="closed", accepted_at=None, due_at=due, closed_at=t0, now=due) is None
    assert [sla.minutes_left(t0, due), sla.minutes_left(due - timedelta(seconds=1), due),
            sla.minutes_left(due + timedelta(seconds=59), due), sla.minutes_left(due + timedelta(minutes=2), due)] \
        == [5, 1, 0, -2]


def test_the_clock_plan_for_an_urgent_case(config):
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=TZ)
    plan = sla.plan(config, t0, t0 + timedelta(minutes=5))
    assert [(d.kind, int((d.at - t0).total_seconds() // 60), d.payload) for d in plan] == [
        ("sla.verify", 1, {}), ("sla.tick", 1, {}), ("sla.escalate", 5, {"role": "kabid"}),
        ("sla.escalate", 10, {"role": "kepala_dinas"})]
    assert figures_text.next_digest_at(config, datetime(2026, 11, 20, 6, 59, tzinfo=TZ)) == \
        datetime(2026, 11, 20, 7, 0, tzinfo=TZ)
    assert figures_text.next_digest_at(config, datetime(2026, 11, 20, 7, 0, tzinfo=TZ)) == \
        datetime(2026, 11, 21, 7, 0, tzinfo=TZ)
