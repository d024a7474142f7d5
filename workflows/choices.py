"""Read a person's answer to a set of buttons, whether they pressed one or typed its number or label."""
from __future__ import annotations

from core.button_data import number
from core.messages import Choice, Inbound, Kind


def chosen(event: Inbound, choices: tuple[Choice, ...] | list[Choice]) -> str | None:
    """Return the data of the picked choice: a press, a typed number (`2`), or a typed label."""
    if event.kind == Kind.CHOICE:
        return event.choice if any(c.data == event.choice for c in choices) else None
    if event.kind != Kind.TEXT:
        return None
    typed = event.text.strip().lower().rstrip(".")
    if (index := number(typed, 1, len(choices))) is not None:  # never int() of a huge or non-ASCII number
        return choices[index - 1].data
    for c in choices:
        label = c.label.lower()
        bare = "".join(ch for ch in label if ch.isalnum() or ch == " ").strip()
        if typed in (label, bare):
            return c.data
    return None
