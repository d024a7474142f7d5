"""Moving a report forward: what is still missing and asked next, hints that keep the buttons, the citizen's
words kept as the description (and the type they name proposed), photos and pins kept at any step."""
from __future__ import annotations

from dataclasses import replace

from core.i18n import t
from core.messages import Inbound, Kind
from workflows import phone_step, place_step, type_words
from workflows.choices import chosen
from workflows.citizen_prompts import FIRST_TYPES, MORE_TYPES, hint, itype, msg, question, type_choices
from workflows.context import Context
from workflows.conversation_state import Draft, Step
from workflows.effects import StepResult


def described(d: Draft, text: str, ctx: Context) -> Draft:
    """Add the citizen's words to the description (within the deployment's limit)."""
    words = text.strip()
    joined = f"{d.description}\n{words}" if d.description else words
    return replace(d, description=joined[: ctx.config.limits.max_description_chars], description_done=True)


def typed_words(res: StepResult, event: Inbound, ctx: Context, *, first: bool) -> StepResult:
    """Free text where a type was asked: a type's name picks it; other words are kept as the description and the
    type they name is proposed ("Kebakaran? ✅ Ya"); with no type named, the menu comes back."""
    s = res.state
    if first and (picked := chosen(event, type_choices(s.lang, ctx))) and picked.startswith("type:") \
            and picked not in (MORE_TYPES, FIRST_TYPES):
        res.state = replace(s, draft=replace(s.open_draft, incident_type=picked.removeprefix("type:")))
        return advance(res, event, ctx)
    d = described(s.open_draft, event.text, ctx)
    guess = type_words.recognise(d.description or "", ctx.config.incident_types)
    if guess is not None:
        res.state = replace(s, step=Step.GUESS, draft=replace(d, guess=guess))
        return ask(res, event, ctx)
    res.state = replace(s, step=Step.TYPE, draft=replace(d, guess=None))
    return again(res, event, ctx, "talk.type_unknown")


def advance(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Go to the first thing still missing from the draft and ask for it: for urgent types the place before the
    photo (a dropped chat still leaves the operators a place)."""
    s = res.state
    d, it = s.open_draft, itype(s, ctx)
    needs_photo = it is not None and it.photo != "none" and not d.photo_media_id and not d.photo_skipped
    order = ((not d.has_location, Step.LOCATION), (place_step.pending(d), Step.PLACE), (needs_photo, Step.PHOTO))
    if it is not None and not it.urgent:
        order = (order[2], order[0], order[1])
    missing = [nxt for wanted, nxt in order if wanted]
    if it is None:
        nxt = Step.GUESS if d.guess else Step.TYPE
    elif missing:
        nxt = missing[0]
    elif phone_step.needed(s, ctx):
        nxt = Step.PHONE
    else:
        nxt = Step.CONFIRM
    res.state = replace(s, step=nxt)
    return ask(res, event, ctx)


def ask(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Append the question of the current step."""
    if res.state.step == Step.PHONE:
        res.out.append(phone_step.ask(res.state.lang, event))
    elif (asked := question(res.state, event, ctx)) is not None:
        res.out.append(asked)
    return res


def again(res: StepResult, event: Inbound, ctx: Context, key: str = "") -> StepResult:
    """A hint that repeats the step's buttons: nothing the citizen needs vanishes with it."""
    if (asked := hint(res.state, event, ctx, key)) is not None:
        res.out.append(asked)
    return res


def absorb(res: StepResult, event: Inbound, ctx: Context) -> bool:
    """Keep a photo or pin sent at any step; say why when it cannot be kept. True when it was handled."""
    s, lang = res.state, res.state.lang
    if event.kind in (Kind.PHOTO, Kind.DOCUMENT) and event.media is not None:
        if event.media.problem:
            res.out.append(msg(event, t(lang, f"photo.{event.media.problem}",
                                        max_mb=f"{ctx.config.limits.max_photo_mb:g}")))
        elif event.media.media_id:
            res.state = replace(s, draft=replace(s.open_draft, photo_media_id=event.media.media_id,
                                                 photo_skipped=False))
            res.out.append(msg(event, t(lang, "report.photo_received")))
        if event.text.strip():  # a caption tells what happened
            res.state = replace(res.state, draft=described(res.state.open_draft, event.text, ctx))
        return True
    if event.kind == Kind.LOCATION and event.location is not None:
        lat, lon = event.location.latitude, event.location.longitude
        if ctx.config.region.contains(lat, lon):
            res.state = replace(s, draft=place_step.pinned(s.open_draft, event.location, lang, ctx))
            res.out.append(msg(event, place_step.received_line(lang, res.state.open_draft)))
        else:
            res.out.append(msg(event, t(lang, "report.outside_region", region=ctx.config.region.name,
                                        number=ctx.config.region.emergency_number)))
        return True
    return False
