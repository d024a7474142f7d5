"""The reporter's satisfaction rating once the case is closed: stars from the request, then an optional comment."""
from __future__ import annotations

from dataclasses import replace

from core.button_data import MAX_ID, number
from core.i18n import t
from core.messages import Choice, Inbound, Kind
from workflows.citizen_prompts import msg, reply
from workflows.context import Context
from workflows.conversation_state import ConversationState
from workflows.effects import CommentRating, RateCase, StepResult

LOW_STARS = 2  # at or below: the thank-you apologises and says the feedback reaches the leadership


def rate(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """Stars from the rating request; the service checks the case is theirs, closed and not yet rated."""
    _, case_text, stars_text = [*event.choice.split(":"), "", ""][:3]
    case_id, stars = number(case_text, 1, MAX_ID), number(stars_text, 1, 5)  # 1-5 is what the request offered
    if case_id is None or stars is None:
        return StepResult(s)
    skip = (Choice("rate_skip", t(s.lang, "button.skip")),)
    key = "care.rating_sorry" if stars <= LOW_STARS else "rating.thanks"  # a 1 or 2 is no cause to celebrate
    out = [msg(event, t(s.lang, key, stars="⭐" * stars), choices=skip)]
    return StepResult(replace(s, comment_for=case_id), out, [RateCase(case_id, stars)])


def rating_comment(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    case_id, s = s.comment_for, replace(s, comment_for=None)
    if case_id is None or event.kind != Kind.TEXT or not event.text.strip():
        return reply(s, event, t(s.lang, "rating.done"))
    text = event.text.strip()[: ctx.config.limits.max_description_chars]
    return StepResult(s, [msg(event, t(s.lang, "rating.done"))], [CommentRating(case_id, text)])
