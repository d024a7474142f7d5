"""A list of waiting cards: while a group's queue of new cards is long, one message shows up to ten of them, a
line each with its own button that opens the whole card in the presser's private chat."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Choice, Outbound
from core.outbox_lists import Line
from workflows import actions as A
from workflows.cards import CaseView, TaskView, quoted, type_name

URGENT = "🚨"
PLACE_CHARS = 40  # what a citizen typed as the address, cut short
LINE_CHARS = 220  # ten lines, a head and a foot stay far below Telegram's 4096 characters
LABEL_CHARS = 24
NAME_CHARS = 40
SEP = " · "


def case_line(view: CaseView, config: Deployment) -> str:
    """The report card as one line: urgency, ticket, type, place, how many reported it, its state."""
    lang = config.region.default_language
    state = t(lang, f"batch.state.{view.state}")
    if view.operator_name and view.state not in ("submitted", "draft"):
        state = f"{state} ({view.operator_name})"
    count = t(lang, "batch.reports", count=view.report_count) if view.report_count > 1 else ""
    return _line(view, config, lang, count, state)


def task_line(view: CaseView, task: TaskView, config: Deployment) -> str:
    """A task card as one line: urgency, ticket, type, place, the task's state."""
    lang = config.region.default_language
    state = t(lang, f"task.{task.state}", name=task.owner_name or "-", eta=task.eta_minutes or "-",
              reason=t(lang, f"refuse.{task.refuse_reason}") if task.refuse_reason else "-")
    support = t(lang, "batch.support") if task.support_of is not None else ""
    return _line(view, config, lang, support, state)


def _line(view: CaseView, config: Deployment, lang: str, extra: str, state: str) -> str:
    head = f"{URGENT} {view.ticket}" if view.urgent else view.ticket
    parts = [t(lang, "drill.marker")] if view.drill else []
    parts += [head, type_name(config, view.incident_type, lang), _place(view, lang), extra, state]
    return _cut(SEP.join(p for p in parts if p), LINE_CHARS)


def _place(view: CaseView, lang: str) -> str:
    """The desa and kecamatan when known (our gazetteer's words), else the typed address quoted and cut short."""
    if view.place:
        return view.place
    if view.address_text and view.address_text.strip():
        return quoted(view.address_text, PLACE_CHARS)
    return t(lang, "batch.pin") if view.latitude is not None else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def list_message(to: Address, lines: Sequence[Line], now: datetime, config: Deployment, *, priority: int,
                 ref: str = "", edit_of: str = "") -> Outbound:
    """The list as a message (a first send with `ref`, or an edit of it): numbered lines, minutes waiting counted
    at `now`, who opened each, and a button per line."""
    lang = config.region.default_language
    tasks = all(x.ref.startswith("task:") for x in lines)
    body = [f"{n}. {_cut(x.text or x.ticket, LINE_CHARS)}{SEP}{_waited(x, now, lang)}" for n, x in enumerate(lines, 1)]
    text = "\n".join([t(lang, "batch.head_tasks" if tasks else "batch.head", count=len(lines)), "", *body, "",
                      t(lang, "batch.foot")])
    return Outbound(to=to, text=text, choices=choices(lines), columns=2, priority=priority, ref=ref, edit_of=edit_of)


def choices(lines: Sequence[Line]) -> tuple[Choice, ...]:
    """One button per line: `case:open:<case id>` or `task:open:<task id>`, labelled with its number and ticket."""
    return tuple(Choice((A.TASK_OPEN if x.ref.startswith("task:") else A.CASE_OPEN).data(x.target),
                        _cut(f"{n} {x.ticket}".strip(), LABEL_CHARS)) for n, x in enumerate(lines, 1))


def _waited(line: Line, now: datetime, lang: str) -> str:
    """Minutes since the card was queued, and who opened it in a private chat."""
    minutes = t(lang, "batch.minutes", minutes=max(int((now - line.since).total_seconds() // 60), 0))
    return minutes + (f"{SEP}{t(lang, 'batch.opened', name=_cut(line.opened, NAME_CHARS))}" if line.opened else "")


def opened_toast(lang: str, ticket: str) -> str:
    return t(lang, "batch.opened_toast", ticket=ticket)


def private_chat_first(lang: str) -> str:
    return t(lang, "batch.private_first")
