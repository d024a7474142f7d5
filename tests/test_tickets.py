"""Ticket numbers are short, readable aloud, and typed back in any reasonable form."""
import random

from core.tickets import PATTERN, new_ticket, normalize_ticket


def test_format_is_prefix_and_three_pairs_of_digits():
    ticket = new_ticket("SMP", random.Random(1))
    assert PATTERN.match(ticket) and len(ticket) == 12 and ticket.startswith("SMP-")


def test_tickets_spread_over_a_million_values():
    rng = random.Random(7)
    assert len({new_ticket("SMP", rng) for _ in range(2000)}) > 1990


def test_normalize_what_people_type():
    for typed in ("SMP-48-29-13", "smp482913", "smp 48 29 13", "482913", "SMP-482913"):
        assert normalize_ticket(typed, "SMP") == "SMP-48-29-13", typed
    assert normalize_ticket("hello", "SMP") is None
    assert normalize_ticket("12345", "SMP") is None
