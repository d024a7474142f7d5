"""The optional call-back number: asked once per chat when none is on file (Telegram, the web, WhatsApp users
known only by a business-scoped id), answered by sharing one's own contact, typing a number, or skipping."""
from __future__ import annotations

from dataclasses import replace

from core.i18n import t
from core.messages import Inbound, Kind, Outbound
from workflows.answer_words import NO, SKIP, said
from workflows.choices import chosen
from workflows.citizen_prompts import msg, skip_choice
from workflows.context import Context
from workflows.conversation_state import ConversationState
from workflows.effects import SetPhone, StepResult
from workflows.operator_intake import phone_digits


def needed(s: ConversationState, ctx: Context) -> bool:
    return not ctx.phone_known and not s.phone_asked


def ask(lang: str, event: Inbound, text: str = "") -> Outbound:
    """The question with its two ways to answer: the own-number button and Skip (typing a number works too)."""
    return msg(event, text or t(lang, "talk.ask_phone"), choices=skip_choice(lang), request_contact=True,
               contact_label=t(lang, "talk.button_my_number"))


def answer(s: ConversationState, event: Inbound) -> StepResult | None:
    """The step's reaction: a StepResult with the number stored (or skipped) and `phone_asked` set, a refusal or
    hint that keeps the step, or None when the event is something else (a pin, a photo) to handle as usual."""
    lang = s.lang
    if chosen(event, skip_choice(lang)) or said(event, SKIP | NO):
        return StepResult(replace(s, phone_asked=True))
    if event.kind == Kind.CONTACT:
        if not event.own_contact:
            return StepResult(s, [ask(lang, event, t(lang, "talk.phone_not_own"))])
        number = phone_digits(event.phone if event.phone.startswith("+") else "+" + event.phone.lstrip("+"))
        if number is None:
            return StepResult(s, [ask(lang, event, t(lang, "talk.phone_invalid"))])
        return _stored(s, event, number[0])
    if event.kind == Kind.TEXT:
        number = phone_digits(event.text)
        if number is None:
            return StepResult(s, [ask(lang, event, t(lang, "talk.phone_invalid"))])
        return _stored(s, event, number[0])
    if event.kind in (Kind.LOCATION, Kind.PHOTO, Kind.DOCUMENT):
        return None
    return StepResult(s, [ask(lang, event, t(lang, "talk.hint_phone"))])


def _stored(s: ConversationState, event: Inbound, digits: str) -> StepResult:
    return StepResult(replace(s, phone_asked=True), [msg(event, t(s.lang, "talk.phone_thanks"))],
                      [SetPhone("+" + digits)])
