"""The call-taking standards: report → first operator action, verification → first crew task, drills never count."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core import casework, standards
from core.models import Case, Reporter
from core.repository import create_case

TZ = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=TZ)
OP = "dashboard:ani"


def _case(n: int, *, intake: str = "telegram", urgent: bool = True, drill: bool = False, submitted: float = 0,
          touched: float | None = None, verified: float | None = None) -> Case:
    """A case row in memory; times in seconds after T0."""
    at = lambda s: None if s is None else T0 + timedelta(seconds=s)  # noqa: E731
    return Case(id=n, intake=intake, urgent=urgent, drill=drill, submitted_at=at(submitted),
                first_action_at=at(touched), verified_at=at(verified))


def test_answer_counts_urgent_chat_reports_touched_within_a_minute():
    cases = [
        _case(1, touched=60),                       # within: exactly 60 s
        _case(2, touched=61),                       # late
        _case(3, intake="whatsapp", touched=5),     # within
        _case(4, intake="web"),                     # untouched, 90 s old at `now`: counts as late
        _case(5, submitted=50),                     # untouched, 40 s old: not counted yet
        _case(6, intake="phone", touched=500),      # entered by an operator: not a chat report
        _case(7, urgent=False, touched=500),        # not urgent
        _case(8, drill=True, touched=500),          # a drill
    ]
    answer, dispatch = standards.call_taking(cases, {}, T0 + timedelta(seconds=90))
    assert (answer.name, answer.target_seconds, answer.goal) == ("answer", 60, 0.9)
    assert (answer.measured, answer.within) == (4, 2)
    assert answer.share == 0.5 and answer.met is False
    assert (dispatch.measured, dispatch.within, dispatch.share, dispatch.met) == (0, 0, None, None)


def test_dispatch_counts_verified_cases_with_a_task_within_a_minute():
    cases = [
        _case(1, verified=0), _case(2, verified=0), _case(3, verified=0, intake="radio", urgent=False),
        _case(4, verified=100),                     # verified 20 s before `now`, no task yet: not counted yet
        _case(5, verified=0),                       # verified 2 minutes before `now`, no task: late
        _case(6, verified=0, drill=True),           # a drill, even with a late task
        _case(7),                                   # never verified
    ]
    tasks = {1: T0 + timedelta(seconds=3), 2: T0 + timedelta(seconds=61), 3: T0 + timedelta(seconds=60),
             6: T0 + timedelta(seconds=600)}
    _, dispatch = standards.call_taking(cases, tasks, T0 + timedelta(seconds=120))
    assert (dispatch.name, dispatch.target_seconds) == ("dispatch", 60)
    assert (dispatch.measured, dispatch.within) == (4, 2)
    ten = [_case(n, verified=0) for n in range(10)]
    done = {n: T0 + timedelta(seconds=10 if n < 9 else 70) for n in range(10)}
    _, nine_of_ten = standards.call_taking(ten, done, T0 + timedelta(hours=1))
    assert (nine_of_ten.share, nine_of_ten.met) == (0.9, True)
    assert standards.ALARM_SECONDS == 20


async def _stored(s, config, n: int, *, at: datetime, drill: bool = False, intake: str = "telegram") -> Case:
    reporter = Reporter(channel="telegram", external_id=str(8100 + n), name="Warga", language="id")
    s.add(reporter)
    await s.flush()
    case = await create_case(s, reporter=reporter, chat=f"telegram:{8100 + n}", ticket=f"SMP-00-01-{n:02d}",
                             incident_type="fire", urgent=True, language="id", latitude=None, longitude=None,
                             address_text="Jl. Trunojoyo", description=None, photo_media_id=None,
                             started_at=at, now=at)
    case.drill, case.intake = drill, intake
    return case


async def test_load_reads_first_tasks_and_leaves_drills_out(sessions, config):
    async with sessions() as s, s.begin():
        fast = await _stored(s, config, 1, at=T0)
        await casework.verify(s, fast, OP, ["damkar"], T0 + timedelta(seconds=20))       # answered 20 s, task 0 s
        slow = await _stored(s, config, 2, at=T0 + timedelta(minutes=5))
        await casework.verify(s, slow, OP, ["damkar"], T0 + timedelta(minutes=7))        # answered in 2 min
        drill = await _stored(s, config, 3, at=T0 + timedelta(minutes=10), drill=True)  # untouched drill
        await _stored(s, config, 4, at=T0 - timedelta(days=1))                           # another day
        phoned = await _stored(s, config, 5, at=T0 + timedelta(minutes=20), intake="phone")
        await casework.verify(s, phoned, OP, ["damkar"], T0 + timedelta(minutes=20))
        assert drill.id
    async with sessions() as s:
        answer, dispatch = await standards.load(s, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert (answer.measured, answer.within) == (2, 1)   # the drill and the phone call are not chat answers
    assert (dispatch.measured, dispatch.within) == (3, 3)  # every verification got its task at once
