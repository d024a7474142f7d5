"""The citizen's commands that need no report step: /status, /bantuan and /bahasa."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from core.i18n import t
from core.messages import Inbound
from workflows import citizen_language
from workflows.citizen_prompts import reply
from workflows.context import Context
from workflows.conversation_state import ConversationState
from workflows.effects import StepResult


def cmd_status(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    lang = s.lang
    if not ctx.cases:
        return reply(s, event, t(lang, "status.none"))
    tz = ZoneInfo(ctx.config.region.timezone)
    lines = [t(lang, "status.header")]
    for c in ctx.cases:
        it = ctx.config.incident_type(c.incident_type)
        when = c.submitted_at.astimezone(tz).strftime("%d-%m %H:%M") if c.submitted_at else ""
        lines.append(t(lang, "status.line", ticket=c.ticket, type=it.name.get(lang) if it else c.incident_type,
                       state=t(lang, f"state.{c.state}"), when=when))
    return reply(s, event, "\n".join(lines))


def cmd_language(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return StepResult(s, [citizen_language.menu(s, event)])


def cmd_help(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return reply(s, event, t(s.lang, "help.citizen", number=ctx.config.region.emergency_number))
