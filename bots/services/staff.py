"""Commands every role has: the duty roster (/masuk, /keluar, /piket) and the figures (/statistik).

Handlers of the action table (registered in bots/services/desk.py): they run in the desk's transaction
and answer through it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core import figures, roster
from core.casework import NotAllowed
from core.i18n import t
from workflows import figures_text
from workflows.actions import Pressed
from workflows.cards import agency_name, local_time

if TYPE_CHECKING:
    from bots.services.desk import Desk


def duty_role(desk: Desk) -> str:
    """The shift this sender checks in for: the command centre, or the agency whose group this is."""
    event, config = desk.event, desk.config
    channel, who = event.sender.channel, event.sender.id
    agency = config.agency_of_chat(event.chat.id) if not event.is_private else None
    if agency is not None:
        if not agency.has_member(channel, who):
            raise NotAllowed("crew.not_member")
        return agency.code
    if config.is_operator(channel, who):
        return roster.OPERATOR
    if agencies := config.agencies_of(channel, who):
        return agencies[0].code
    raise NotAllowed("roster.not_staff")


def role_name(desk: Desk, role: str) -> str:
    if role == roster.OPERATOR:
        return t(desk.lang, "roster.role_operator")
    return agency_name(desk.config, role, desk.lang)


async def masuk(desk: Desk, pressed: Pressed) -> None:
    role, hours = duty_role(desk), desk.config.roster.shift_max_hours
    new = await roster.check_in(desk.s, desk.actor, role, desk.now, hours)
    desk.answer(t(desk.lang, "roster.in" if new else "roster.already_in", name=desk.name,
                  role=role_name(desk, role), time=local_time(desk.config, desk.now, "%H:%M")))


async def keluar(desk: Desk, pressed: Pressed) -> None:
    role, hours = duty_role(desk), desk.config.roster.shift_max_hours
    ended = await roster.check_out(desk.s, desk.actor, role, desk.now, hours)
    desk.answer(t(desk.lang, "roster.out" if ended else "roster.not_in", name=desk.name,
                  role=role_name(desk, role), time=local_time(desk.config, desk.now, "%H:%M")))


async def piket(desk: Desk, pressed: Pressed) -> None:
    duty_role(desk)  # staff only
    hours, lines = desk.config.roster.shift_max_hours, []
    for role in [roster.OPERATOR, *(a.code for a in desk.config.agencies)]:
        people = [desk.config.person_name(*p.split(":", 1)) or p
                  for p in await roster.on_duty(desk.s, role, desk.now, hours)]
        lines.append(t(desk.lang, "roster.line", role=role_name(desk, role),
                       names=", ".join(people) or t(desk.lang, "roster.nobody")))
    desk.answer(t(desk.lang, "roster.list", lines="\n".join(lines)))


async def statistik(desk: Desk, pressed: Pressed) -> None:
    """The figures of a day, week or month (operators and leadership: the table's right, checked before)."""
    word = (pressed.arg.strip().split() or ["hari"])[0].lower()
    if word not in figures_text.PERIODS:
        raise NotAllowed("figures.usage")
    name, start, end = figures_text.period_window(desk.config, word, desk.now)
    fig = await figures.load(desk.s, start, end, desk.now)
    desk.answer(figures_text.render(fig, desk.config, figures_text.period_title(desk.config, name, desk.lang),
                                    desk.lang))
