"""What the citizen's conversation shows: its buttons, the summary before sending, hints and replies."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.config import Deployment, IncidentType
from core.i18n import LANGUAGE_NAMES, LANGUAGES, t
from core.messages import Choice, Inbound, Kind, Outbound
from workflows import place_step
from workflows.context import Context
from workflows.conversation_state import ConversationState, Draft, Step
from workflows.effects import StepResult

MEDIA_KINDS = {Kind.VOICE, Kind.STICKER, Kind.VIDEO, Kind.CONTACT, Kind.OTHER}
LANGUAGE_MENU = "lang:menu"  # the greeting's "🌐 Bahasa / Basa / Language" button
MORE_TYPES, FIRST_TYPES = "type:more", "type:first"  # the type menu's two pages
TYPES_SHOWN = 8  # with "more" and the language button: a WhatsApp list's 10 rows (more turns into numbered text)


def itype(s: ConversationState, ctx: Context) -> IncidentType | None:
    code = s.draft.incident_type if s.draft else None
    return ctx.config.incident_type(code) if code else None


def may_skip_photo(it: IncidentType | None) -> bool:
    return it is not None and (it.photo != "required" or it.urgent)


def type_label(lang: str, it: IncidentType) -> str:
    return f"{it.emoji} {it.name.get(lang)}".strip()


def type_choices(lang: str, ctx: Context, page: int | None = None) -> tuple[Choice, ...]:
    """The type menu (short titles for WhatsApp's list rows), then the language button. Past nine types it has
    two pages, the deployment's first eight types and the rest, so a WhatsApp list still fits; without `page`,
    every choice either page may carry (to read a press)."""
    types = tuple(Choice(f"type:{it.code}", type_label(lang, it), short=it.short.get(lang) if it.short else "")
                  for it in ctx.config.incident_types)
    language = Choice(LANGUAGE_MENU, t(lang, "talk.button_language"))
    if len(types) <= TYPES_SHOWN + 1:
        return (*types, language)
    more = Choice(MORE_TYPES, t(lang, "talk.button_more_types"))
    first = Choice(FIRST_TYPES, t(lang, "talk.button_first_types"))
    if page is None:
        return (*types, more, first, language)
    return (*types[:TYPES_SHOWN], more, language) if page == 0 else (*types[TYPES_SHOWN:], first, language)


def type_menu(event: Inbound, lang: str, ctx: Context, page: int = 0) -> Outbound:
    return msg(event, t(lang, "report.ask_type"), choices=type_choices(lang, ctx, page), columns=2,
               menu_label=t(lang, "talk.button_menu"))


def language_choices() -> tuple[Choice, ...]:
    return tuple(Choice(f"lang:{code}", LANGUAGE_NAMES[code]) for code in LANGUAGES)


def guess_choices(lang: str) -> tuple[Choice, ...]:
    return (Choice("guess:yes", t(lang, "talk.button_yes")), Choice("guess:other", t(lang, "talk.button_other_type")))


def skip_choice(lang: str) -> tuple[Choice, ...]:
    return (Choice("skip", t(lang, "button.skip")),)


def confirm_choices(lang: str, d: Draft | None = None) -> tuple[Choice, ...]:
    """Send and Cancel; with a description, also "✏️ Ubah keterangan"."""
    edit = (Choice("confirm:edit", t(lang, "talk.button_edit")),) if d is not None and d.description else ()
    return (Choice("confirm:send", t(lang, "button.send")), *edit, Choice("confirm:cancel", t(lang, "button.cancel")))


def describe_question(lang: str, it: IncidentType | None) -> str:
    """The type's own description question ("Siapa yang sakit…?"), else the general one."""
    return it.describe.get(lang) if it is not None and it.describe is not None else t(lang, "talk.ask_description")


def summary(s: ConversationState, ctx: Context) -> str:
    """The report as it will be sent, "not sent yet", and how to add words or send."""
    d, lang, it = s.open_draft, s.lang, itype(s, ctx)
    photo = t(lang, "summary.photo_yes") if d.photo_media_id else t(lang, "summary.photo_no")
    body = t(lang, "report.summary", type=type_label(lang, it) if it else "",
             location=place_step.summary_line(lang, d), photo=photo, description=d.description or "-")
    if d.description:
        return body + "\n\n" + t(lang, "talk.summary_add")
    return body + "\n\n" + t(lang, "talk.summary_describe", question=describe_question(lang, it))


def question(s: ConversationState, event: Inbound, ctx: Context) -> Outbound | None:
    """The message that asks the current step's question, with its buttons."""
    lang, d = s.lang, s.draft
    match s.step:
        case Step.TYPE:
            return type_menu(event, lang, ctx)
        case Step.GUESS:
            it = ctx.config.incident_type(d.guess) if d and d.guess else None
            return msg(event, t(lang, "talk.guess", type=type_label(lang, it) if it else ""),
                       choices=guess_choices(lang))
        case Step.PHOTO:
            can_skip = may_skip_photo(itype(s, ctx))
            key = "report.ask_photo_optional" if can_skip else "report.ask_photo_required"
            return msg(event, t(lang, key), choices=skip_choice(lang) if can_skip else ())
        case Step.LOCATION:
            return msg(event, t(lang, "report.ask_location"), request_location=True,
                       location_label=t(lang, "button.share_location"))
        case Step.PLACE if d is not None:
            return msg(event, place_step.question(lang, d), choices=place_step.place_choices(lang),
                       remove_keyboard=True)
        case Step.DESCRIPTION:
            return msg(event, t(lang, "talk.ask_new_description"), choices=skip_choice(lang), remove_keyboard=True)
        case Step.CONFIRM if d is not None:
            return msg(event, summary(s, ctx), choices=confirm_choices(lang, d), remove_keyboard=True)
    return None


HINTS = {Step.TYPE: "talk.hint_type", Step.GUESS: "talk.hint_guess", Step.LOCATION: "talk.hint_location",
         Step.PLACE: "talk.hint_place", Step.DESCRIPTION: "talk.ask_new_description", Step.CONFIRM: "talk.hint_confirm"}


def hint(s: ConversationState, event: Inbound, ctx: Context, key: str = "") -> Outbound | None:
    """The current step's question again with the same buttons, its text replaced by what we need (and why what
    came cannot be used: a voice note, a sticker…)."""
    asked = question(s, event, ctx)
    if asked is None:
        return None
    if not key and s.step == Step.PHOTO:
        key = "talk.hint_photo_or_skip" if may_skip_photo(itype(s, ctx)) else "talk.hint_photo_required"
    text = t(s.lang, key or HINTS.get(s.step, "talk.hint_type"))
    if event.kind in MEDIA_KINDS or (event.kind == Kind.DOCUMENT and event.media is None):
        text = t(s.lang, f"hint.{event.kind.value}") + "\n" + text
    return replace(asked, text=text)


def msg(event: Inbound, text: str, **kw: Any) -> Outbound:
    return Outbound(to=event.chat, text=text, **kw)


def reply(s: ConversationState, event: Inbound, text: str) -> StepResult:
    return StepResult(s, [msg(event, text)])


def safety_advice(lang: str, it: IncidentType | None, config: Deployment) -> str | None:
    """The deployment's safety advice for an urgent report (its type's, then the general one); None otherwise."""
    if it is None or not it.urgent:
        return None
    parts = [advice.get(lang) for advice in (it.safety, config.safety_general) if advice is not None]
    return "\n".join([t(lang, "care.safety_head"), *(f"• {p}" for p in parts)]) if parts else None


def takes_photo(state: ConversationState, config: Deployment) -> bool:
    """Whether a photo sent now would be kept: a draft is open, and its type (when chosen) has photos. The web chat
    stores no upload otherwise."""
    if state.draft is None or state.step == Step.IDLE:
        return False
    code = state.draft.incident_type
    it = config.incident_type(code) if code else None
    return it is None or it.photo != "none"
