"""Commands every role has: the duty roster (/masuk, /keluar, /piket) and the figures (/statistik).

A mixin of `Desk`: it runs in the same transaction and answers through the same reply helpers.
"""
from __future__ import annotations

from core import figures, roster
from core.casework import NotAllowed
from core.i18n import t
from workflows import cards, figures_text


class StaffCommands:
    """Operators and crews check in and out; operators and leadership read the figures."""

    def duty_role(self) -> str:
        """The shift this sender checks in for: the command centre, or the agency whose group this is."""
        channel, who = self.event.sender.channel, self.event.sender.id
        agency = self.config.agency_of_chat(self.event.chat.id) if not self.event.is_private else None
        if agency is not None:
            if not agency.has_member(channel, who):
                raise NotAllowed("crew.not_member")
            return agency.code
        if self.config.is_operator(channel, who):
            return roster.OPERATOR
        if agencies := self.config.agencies_of(channel, who):
            return agencies[0].code
        raise NotAllowed("roster.not_staff")

    def role_name(self, role: str) -> str:
        return t(self.lang, "roster.role_operator") if role == roster.OPERATOR else self.agency(role, self.lang)

    async def staff_masuk(self, _arg: str) -> None:
        role, hours = self.duty_role(), self.config.roster.shift_max_hours
        new = await roster.check_in(self.s, self.actor, role, self.now, hours)
        self.answer(t(self.lang, "roster.in" if new else "roster.already_in", name=self.name,
                      role=self.role_name(role), time=cards.local_time(self.config, self.now, "%H:%M")))

    async def staff_keluar(self, _arg: str) -> None:
        role, hours = self.duty_role(), self.config.roster.shift_max_hours
        ended = await roster.check_out(self.s, self.actor, role, self.now, hours)
        self.answer(t(self.lang, "roster.out" if ended else "roster.not_in", name=self.name,
                      role=self.role_name(role), time=cards.local_time(self.config, self.now, "%H:%M")))

    async def staff_piket(self, _arg: str) -> None:
        self.duty_role()  # staff only
        hours, lines = self.config.roster.shift_max_hours, []
        for role in [roster.OPERATOR, *(a.code for a in self.config.agencies)]:
            people = [self.config.person_name(*p.split(":", 1)) or p
                      for p in await roster.on_duty(self.s, role, self.now, hours)]
            lines.append(t(self.lang, "roster.line", role=self.role_name(role),
                           names=", ".join(people) or t(self.lang, "roster.nobody")))
        self.answer(t(self.lang, "roster.list", lines="\n".join(lines)))

    async def staff_statistik(self, arg: str) -> None:
        channel, who = self.event.sender.channel, self.event.sender.id
        if not (self.config.is_operator(channel, who) or self.config.is_leader(channel, who)):
            raise NotAllowed("figures.not_allowed")
        word = (arg.strip().split() or ["hari"])[0].lower()
        if word not in figures_text.PERIODS:
            raise NotAllowed("figures.usage")
        name, start, end = figures_text.period_window(self.config, word, self.now)
        fig = await figures.load(self.s, start, end, self.now)
        self.answer(figures_text.render(fig, self.config, figures_text.period_title(self.config, name, self.lang),
                                        self.lang))
