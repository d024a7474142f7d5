"""What the citizen's conversation shows: its buttons, the summary before sending, hints and replies."""
from __future__ import annotations

from typing import Any

from core.config import Deployment, IncidentType
from core.i18n import t
from core.messages import Choice, Inbound, Kind, Outbound
from workflows.context import Context
from workflows.conversation_state import ConversationState, Step
from workflows.effects import StepResult

MEDIA_KINDS = {Kind.VOICE, Kind.STICKER, Kind.VIDEO, Kind.CONTACT, Kind.OTHER}


def itype(s: ConversationState, ctx: Context) -> IncidentType | None:
    code = s.draft.incident_type if s.draft else None
    return ctx.config.incident_type(code) if code else None


def may_skip_photo(it: IncidentType | None) -> bool:
    return it is not None and (it.photo != "required" or it.urgent)


def type_choices(lang: str, ctx: Context) -> tuple[Choice, ...]:
    return tuple(Choice(f"type:{it.code}", f"{it.emoji} {it.name.get(lang)}".strip())
                 for it in ctx.config.incident_types)


def skip_choice(lang: str) -> tuple[Choice, ...]:
    return (Choice("skip", t(lang, "button.skip")),)


def confirm_choices(lang: str) -> tuple[Choice, ...]:
    return (Choice("confirm:send", t(lang, "button.send")), Choice("confirm:cancel", t(lang, "button.cancel")))


def summary(s: ConversationState, ctx: Context) -> str:
    d, lang, it = s.open_draft, s.lang, itype(s, ctx)
    if d.latitude is not None:
        where = t(lang, "summary.pin", lat=f"{d.latitude:.5f}", lon=f"{d.longitude or 0:.5f}")
    else:
        where = d.address or ""
    photo = t(lang, "summary.photo_yes") if d.photo_media_id else t(lang, "summary.photo_no")
    return t(lang, "report.summary", type=it.name.get(lang) if it else "", location=where, photo=photo,
             description=d.description or "-")


def hint(lang: str, event: Inbound, fallback_key: str) -> str:
    """Explain what we cannot use (a voice note, a sticker…) before repeating what we need."""
    if event.kind in MEDIA_KINDS or (event.kind == Kind.DOCUMENT and event.media is None):
        return t(lang, f"hint.{event.kind.value}") + "\n" + t(lang, fallback_key)
    return t(lang, fallback_key)


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
    """Whether a photo sent now would be kept: a draft is open at a step that absorbs one (the photo step, or an
    earlier or later step of a type that has photos). The web chat stores no upload otherwise."""
    if state.draft is None or state.step not in (Step.TYPE, Step.PHOTO, Step.LOCATION, Step.DESCRIPTION):
        return False
    code = state.draft.incident_type
    it = config.incident_type(code) if code else None
    return state.step in (Step.TYPE, Step.PHOTO) or (it is not None and it.photo != "none")
