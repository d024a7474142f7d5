"""The dashboard's order: overdue urgent first, then urgent by time left, then the verification queue and the
rest oldest first; real cases before drills; the title count and the untouched-urgent alarm."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.standards import ALARM_SECONDS
from workflows.desk_order import Tier, alarm, needs_action, order, tier

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class C:
    id: int
    state: str = "submitted"
    urgent: bool = False
    drill: bool = False
    minutes_ago: float = 1
    due_in: float | None = None  # minutes from NOW; None: no handling clock
    first_action_at: datetime | None = None

    @property
    def submitted_at(self) -> datetime:
        return NOW - timedelta(minutes=self.minutes_ago)

    @property
    def sla_due_at(self) -> datetime | None:
        return None if self.due_in is None else NOW + timedelta(minutes=self.due_in)


def ids(cases) -> list[int]:
    return [c.id for c in order(cases, NOW)]


def test_an_overdue_urgent_case_stays_on_top_whatever_arrives_after_it():
    late = C(1, "dispatched", urgent=True, minutes_ago=9, due_in=-4)
    later = C(2, "submitted", urgent=True, minutes_ago=7, due_in=-2)
    fresh_urgent = C(3, urgent=True, minutes_ago=1, due_in=4)
    closer_urgent = C(4, "verified", urgent=True, minutes_ago=3, due_in=2)
    new_plain = C(5, minutes_ago=0.2)
    old_plain = C(6, minutes_ago=60)
    with_crew = C(7, "accepted", urgent=True, minutes_ago=30, due_in=-25)  # accepted: no longer waiting
    older_with_crew = C(8, "on_scene", minutes_ago=90)
    cases = [new_plain, fresh_urgent, with_crew, old_plain, later, closer_urgent, late, older_with_crew]
    assert ids(cases) == [1, 2, 4, 3, 6, 5, 8, 7]
    assert [tier(c, NOW) for c in order(cases, NOW)] == [
        Tier.OVERDUE_URGENT, Tier.OVERDUE_URGENT, Tier.URGENT, Tier.URGENT,
        Tier.AWAITING_OPERATOR, Tier.AWAITING_OPERATOR, Tier.REST, Tier.REST]


def test_the_order_does_not_depend_on_the_order_it_was_given():
    cases = [C(i, urgent=i % 2 == 0, minutes_ago=i, due_in=5 - i) for i in range(1, 9)]
    assert ids(cases) == ids(list(reversed(cases))) == [8, 6, 4, 2, 7, 5, 3, 1]


def test_time_moving_on_lifts_a_case_into_the_overdue_group():
    waiting = C(1, "dispatched", urgent=True, minutes_ago=4, due_in=1)
    assert tier(waiting, NOW) == Tier.URGENT
    assert tier(waiting, NOW + timedelta(minutes=1)) == Tier.OVERDUE_URGENT  # the deadline itself is late


def test_an_urgent_type_without_a_clock_waits_after_the_urgent_ones_with_one():
    assert ids([C(1, urgent=True, minutes_ago=9), C(2, urgent=True, minutes_ago=1, due_in=4)]) == [2, 1]


def test_a_drill_never_outranks_a_real_case_of_the_same_group():
    assert ids([C(1, urgent=True, drill=True, due_in=-3), C(2, urgent=True, due_in=-1)]) == [2, 1]
    assert ids([C(1, urgent=True, drill=True, due_in=-3), C(2, urgent=True, due_in=3)]) == [1, 2]  # groups first


def test_what_the_title_counts():
    assert needs_action(C(1), NOW)  # nobody has verified it
    assert needs_action(C(2, "dispatched", urgent=True, due_in=-1), NOW)
    assert not needs_action(C(3, "dispatched", urgent=True, due_in=2), NOW)
    assert not needs_action(C(4, "accepted", urgent=True, due_in=-9), NOW)


def test_the_alarm_is_for_an_urgent_report_nobody_touched_for_twenty_seconds():
    just = C(1, urgent=True, minutes_ago=ALARM_SECONDS / 60)
    assert alarm(just, NOW)
    assert not alarm(C(2, urgent=True, minutes_ago=(ALARM_SECONDS - 1) / 60), NOW)
    assert not alarm(C(3, minutes_ago=5), NOW)  # not urgent
    assert not alarm(C(4, urgent=True, minutes_ago=5, first_action_at=NOW - timedelta(minutes=4)), NOW)
    assert not alarm(C(5, "verified", urgent=True, minutes_ago=5), NOW)


def test_times_carry_the_zone_label(config):
    from workflows.cards import zone_label

    def zone(name: str) -> str:
        deployment = config.model_copy(update={"region": config.region.model_copy(update={"timezone": name})})
        return zone_label(deployment, NOW)

    assert [zone(z) for z in ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")] == [
        "WIB", "WIB", "WITA", "WIT"]
    assert zone("Asia/Kolkata") == "UTC+5:30" and zone("America/Sao_Paulo") == "UTC-3" and zone("UTC") == "UTC+0"
