"""The citizen's report conversation as a table of steps: pure (state, event, context) → StepResult.

```mermaid
stateDiagram-v2
    [*] --> guess: first words name a type ("ibu saya pingsan": kept as the description)
    [*] --> type: anything else
    guess --> type: "Pilih jenis lain"
    guess --> location: "Ya" (urgent: where first)
    type --> location: urgent type chosen
    type --> photo: other type chosen (photo asked)
    location --> place: typed place found in the gazetteer ("Maksud Anda: Desa …?")
    location --> photo: pin / place kept (urgent, photo asked)
    photo --> location: photo / skip (not urgent)
    place --> photo: Ya / Bukan
    photo --> phone: no call-back number on file (asked once per chat)
    phone --> confirm: number / skip
    confirm --> confirm: typed words added to the description
    confirm --> description: "✏️ Ubah keterangan"
    confirm --> [*]: send → SubmitCase, ticket
    confirm --> [*]: cancel, /batal, expiry timer
```
Items may come in any order: a pin or photo sent early is kept and its step is skipped. Typed answers work at
every step (workflows/answer_words.py). The state is a `ConversationState` (workflows/conversation_state.py);
what the bot shows is in workflows/citizen_prompts.py, the language rules in workflows/citizen_language.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from core.i18n import LANGUAGES, t
from core.messages import Inbound, Kind, Priority
from workflows import abandoned_draft, citizen_commands, citizen_language, phone_step, place_step
from workflows.answer_words import CANCEL, NO, SKIP, YES, only_greeting, said
from workflows.choices import chosen
from workflows.citizen_prompts import (
    FIRST_TYPES,
    LANGUAGE_MENU,
    MORE_TYPES,
    confirm_choices,
    guess_choices,
    itype,
    may_skip_photo,
    msg,
    reply,
    safety_advice,
    skip_choice,
    takes_photo,
    type_choices,
    type_menu,
)
from workflows.context import Context
from workflows.conversation_state import ConversationState, Draft, Step
from workflows.effects import SetLanguage, StartTimer, StepResult, SubmitCase
from workflows.rating import rate, rating_comment
from workflows.report_progress import absorb, advance, again, ask, described, typed_words

__all__ = ["STEPS", "step", "takes_photo"]  # takes_photo: the web chat asks whether an upload would be kept

Handler = Callable[[ConversationState, Inbound, Context], StepResult]


def step(state: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """Route one event: timers, commands and language picks first, then the current step's handler."""
    switch = citizen_language.settle(state, event, ctx.config.region.default_language)
    s = replace(switch.state, touch=state.touch + (0 if event.kind == Kind.TIMER else 1))
    res = _route(s, event, ctx)
    res.out[:0], res.commands[:0] = switch.out, switch.commands
    return res


def _route(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    if event.kind == Kind.TIMER:
        return on_timer(s, event, ctx)
    if ctx.blocked:
        return reply(s, event, t(s.lang, "report.blocked", number=ctx.config.region.emergency_number))
    if event.kind == Kind.COMMAND:
        return COMMANDS.get(event.command, citizen_commands.cmd_help)(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("lang:"):
        return set_language(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("rate:"):
        return rate(s, event, ctx)
    if s.comment_for and not s.draft and (event.kind == Kind.TEXT or event.choice == "rate_skip"):
        return rating_comment(s, event, ctx)
    if s.draft and said(event, CANCEL):
        return cancel(s, event, ctx)
    return with_timers(STEPS[s.step](s, event, ctx), ctx)


# --- steps -------------------------------------------------------------------------------------------

def step_idle(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    if ctx.reports_last_hour >= ctx.config.limits.reports_per_hour:  # a burst of reports is slowed
        return StepResult(replace(s, step=Step.IDLE, draft=None), [msg(event, t(
            s.lang, "flood.reports", count=ctx.reports_last_hour, number=ctx.config.region.emergency_number))])
    s = replace(s, step=Step.TYPE, draft=Draft(started_at=ctx.now.isoformat()), reminded=False)
    switch = citizen_language.from_words(s, event) if not only_greeting(event) else citizen_language.Switch(s)
    res = StepResult(switch.state, switch.out, switch.commands)
    res.out.append(msg(event, t(res.state.lang, "report.greeting", region=ctx.config.region.name,
                                number=ctx.config.region.emergency_number)))
    if absorb(res, event, ctx):
        return advance(res, event, ctx)
    if event.kind == Kind.TEXT and not only_greeting(event):
        return typed_words(res, event, ctx, first=True)
    return ask(res, event, ctx)


def step_type(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, type_choices(s.lang, ctx))
    res = StepResult(s)
    if picked == LANGUAGE_MENU:
        return StepResult(s, [citizen_language.menu(s, event)])
    if picked in (MORE_TYPES, FIRST_TYPES):
        return StepResult(s, [type_menu(event, s.lang, ctx, page=1 if picked == MORE_TYPES else 0)])
    if picked:
        res.state = replace(s, draft=replace(s.open_draft, incident_type=picked.removeprefix("type:"), guess=None))
    elif absorb(res, event, ctx):
        pass
    elif event.kind == Kind.TEXT and not only_greeting(event):
        return typed_words(res, event, ctx, first=False)
    else:
        return again(res, event, ctx)
    return advance(res, event, ctx)


def step_guess(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, guess_choices(s.lang)) or (
        "guess:yes" if said(event, YES) else "guess:other" if said(event, NO) else None)
    d = s.open_draft
    if picked == "guess:yes" and d.guess and ctx.config.incident_type(d.guess):
        return advance(StepResult(replace(s, draft=replace(d, incident_type=d.guess, guess=None))), event, ctx)
    if picked:  # "Pilih jenis lain"
        return ask(StepResult(replace(s, step=Step.TYPE, draft=replace(d, guess=None))), event, ctx)
    if event.kind in (Kind.TEXT, Kind.CHOICE) and (event.choice.startswith("type:") or not only_greeting(event)):
        return step_type(s, event, ctx)  # a type pressed in an earlier menu, its name, or more words
    res = StepResult(s)
    return ask(res, event, ctx) if absorb(res, event, ctx) else again(res, event, ctx)


def step_photo(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res, can_skip = StepResult(s), may_skip_photo(itype(s, ctx))
    if can_skip and (chosen(event, skip_choice(s.lang)) or said(event, SKIP)):
        res.state = replace(s, draft=replace(s.open_draft, photo_skipped=True))
    elif event.kind == Kind.TEXT and not said(event, SKIP | NO) and not only_greeting(event):
        res.state = replace(s, draft=described(s.open_draft, event.text, ctx))  # words while a photo was asked
        res.out.append(msg(event, t(s.lang, "talk.noted")))
        return ask(res, event, ctx)
    elif not absorb(res, event, ctx):
        return again(res, event, ctx)
    return advance(res, event, ctx)


def step_location(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if event.kind == Kind.TEXT and len(event.text.strip()) >= 4 and not said(event, SKIP | NO | YES):
        text = event.text.strip()[: ctx.config.limits.max_description_chars]
        res.state = replace(s, draft=place_step.typed(s.open_draft, text, s.lang, ctx))
    elif not absorb(res, event, ctx):
        return again(res, event, ctx)
    return advance(res, event, ctx)


def step_place(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, place_step.place_choices(s.lang)) or (
        "place:yes" if said(event, YES) else "place:no" if said(event, NO) else None)
    if picked:
        return advance(StepResult(replace(s, draft=place_step.confirmed(s.open_draft, picked == "place:yes"))),
                       event, ctx)
    return step_location(s, event, ctx)  # a pin, or the place typed again


def step_phone(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res = phone_step.answer(s, event)
    if res is None:  # a pin or a photo: kept, and the number is asked again
        res = StepResult(s)
        absorb(res, event, ctx)
        return advance(res, event, ctx)
    return advance(res, event, ctx) if res.state.phone_asked else res


def step_description(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """After "✏️ Ubah keterangan": the next text replaces the description."""
    res = StepResult(s)
    if chosen(event, skip_choice(s.lang)) or said(event, SKIP):
        res.state = replace(s, draft=replace(s.open_draft, description_done=True))
    elif event.kind == Kind.TEXT and event.text.strip():
        res.state = replace(s, draft=described(replace(s.open_draft, description=None), event.text, ctx))
    elif not absorb(res, event, ctx):
        return again(res, event, ctx)
    return advance(res, event, ctx)


def step_confirm(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, confirm_choices(s.lang, s.open_draft)) or ("confirm:send" if said(event, YES) else None)
    if picked == "confirm:send":
        return submit(s, event, ctx)
    if picked == "confirm:cancel":
        return cancel(s, event, ctx)
    if picked == "confirm:edit":
        return ask(StepResult(replace(s, step=Step.DESCRIPTION)), event, ctx)
    res = StepResult(s)
    if event.kind == Kind.TEXT and not said(event, NO | SKIP) and not only_greeting(event):
        res.state = replace(s, draft=described(s.open_draft, event.text, ctx))  # words added to the report
        return ask(res, event, ctx)
    return ask(res, event, ctx) if absorb(res, event, ctx) else again(res, event, ctx)


STEPS: dict[Step, Handler] = {
    Step.IDLE: step_idle, Step.TYPE: step_type, Step.GUESS: step_guess, Step.PHOTO: step_photo,
    Step.LOCATION: step_location, Step.PLACE: step_place, Step.PHONE: step_phone,
    Step.DESCRIPTION: step_description, Step.CONFIRM: step_confirm,
}


def submit(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    d, lang, it = s.open_draft, s.lang, itype(s, ctx)
    if it is None:  # the confirm step comes only after a type was chosen
        return advance(StepResult(s), event, ctx)
    command = SubmitCase(
        ticket=ctx.ticket, incident_type=it.code, urgent=it.urgent, language=lang,
        latitude=d.latitude, longitude=d.longitude, address_text=d.address,
        description=d.description, photo_media_id=d.photo_media_id, started_at=d.started_at,
        desa_code=d.desa_code, kecamatan_code=d.kecamatan_code, place_match=d.place_match,
        place_distance_m=d.place_distance_m, location_accuracy_m=d.accuracy_m)
    key = "report.submitted_urgent" if it.urgent else "report.submitted"
    text = t(lang, key, ticket=ctx.ticket, number=ctx.config.region.emergency_number)
    out = [msg(event, text, priority=Priority.URGENT if it.urgent else Priority.NORMAL)]
    if advice := safety_advice(lang, it, ctx.config):  # while help is on the way, after the ticket
        out.append(msg(event, advice, priority=Priority.URGENT))
    return StepResult(replace(s, step=Step.IDLE, draft=None), out, [command])


def cancel(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    key = "report.cancelled" if s.draft else "report.nothing_to_cancel"
    return StepResult(replace(s, step=Step.IDLE, draft=None), [msg(event, t(s.lang, key), remove_keyboard=True)])


# --- commands, language, timers ----------------------------------------------------------------------

def cmd_start(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return with_timers(step_idle(replace(s, draft=None), event, ctx), ctx)


def cmd_cancel(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return cancel(s, event, ctx)


def set_language(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """A language picked from the menu (or the greeting's language button, which opens the menu)."""
    if event.choice == LANGUAGE_MENU:
        return StepResult(s, [citizen_language.menu(s, event)])
    lang = event.choice.removeprefix("lang:")
    s = replace(s, lang=lang if lang in LANGUAGES else s.lang)
    res = StepResult(s, [msg(event, t(s.lang, "language.set"))], [SetLanguage(s.lang)])
    return ask(res, event, ctx) if s.draft else res


COMMANDS: dict[str, Handler] = {
    "start": cmd_start, "status": citizen_commands.cmd_status, "batal": cmd_cancel, "cancel": cmd_cancel,
    "bahasa": citizen_commands.cmd_language, "language": citizen_commands.cmd_language,
    "bantuan": citizen_commands.cmd_help, "help": citizen_commands.cmd_help,
}


def with_timers(res: StepResult, ctx: Context) -> StepResult:
    """While a draft is open, re-arm the reminder and the expiry; each carries the touch it was set at."""
    if res.state.draft:
        touch, conv = res.state.touch, ctx.config.conversation
        res.state = replace(res.state, reminded=False)
        res.timers += [StartTimer("draft_reminder", timedelta(minutes=conv.reminder_minutes), 0, {"touch": touch}),
                       StartTimer("draft_expire", timedelta(minutes=conv.expire_minutes), 0, {"touch": touch}),
                       *abandoned_draft.arm(res.state, ctx)]
    return res


def on_timer(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """Remind once, then expire; a timer set before the reporter's latest message does nothing."""
    if event.timer_payload.get("touch") != s.touch or not s.draft:
        return StepResult(s)
    if event.timer == abandoned_draft.KIND:  # an urgent report left unfinished: the operators may call back
        return abandoned_draft.on_timer(s, event, ctx)
    if event.timer == "draft_reminder" and not s.reminded:
        return ask(StepResult(replace(s, reminded=True), [msg(event, t(s.lang, "report.reminder"))]), event, ctx)
    if event.timer == "draft_expire":
        return StepResult(replace(s, step=Step.IDLE, draft=None), [msg(event, t(s.lang, "report.expired"))])
    return StepResult(s)
