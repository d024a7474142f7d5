"""The citizen's report conversation as a table of steps: pure (state, event, context) → StepResult.

```mermaid
stateDiagram-v2
    [*] --> type: any message / start
    type --> photo: type chosen (photo asked)
    type --> location: type chosen (no photo)
    photo --> location: photo ok / skip
    location --> description: pin inside region / typed address
    location --> location: pin outside region (answer: call local 112)
    description --> confirm: text / skip
    confirm --> [*]: send → SubmitCase, ticket
    confirm --> [*]: cancel
    type --> [*]: /batal, expiry timer
```
Items may come in any order: a pin or photo sent early is kept and its step is skipped. The state is a
`ConversationState` (workflows/conversation_state.py); what the bot shows is in workflows/citizen_prompts.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from core.i18n import LANGUAGE_NAMES, LANGUAGES, pick_language, t
from core.messages import Choice, Inbound, Kind, Priority
from workflows import abandoned_draft
from workflows.choices import chosen
from workflows.citizen_prompts import (
    confirm_choices,
    hint,
    itype,
    may_skip_photo,
    msg,
    reply,
    safety_advice,
    skip_choice,
    summary,
    takes_photo,
    type_choices,
)
from workflows.context import Context
from workflows.conversation_state import ConversationState, Draft, Step
from workflows.effects import SetLanguage, StartTimer, StepResult, SubmitCase
from workflows.rating import rate, rating_comment

__all__ = ["STEPS", "step", "takes_photo"]  # takes_photo: the web chat asks whether an upload would be kept

Handler = Callable[[ConversationState, Inbound, Context], StepResult]


def step(state: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """Route one event: timers, commands and language picks first, then the current step's handler."""
    s = replace(state, touch=state.touch + (0 if event.kind == Kind.TIMER else 1),
                lang=state.lang or pick_language(event.language_code, ctx.config.region.default_language))
    if event.kind == Kind.TIMER:
        return on_timer(s, event, ctx)
    if ctx.blocked:
        return reply(s, event, t(s.lang, "report.blocked", number=ctx.config.region.emergency_number))
    if event.kind == Kind.COMMAND:
        return COMMANDS.get(event.command, cmd_help)(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("lang:"):
        return set_language(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("rate:"):
        return rate(s, event, ctx)
    if s.comment_for and not s.draft and (event.kind == Kind.TEXT or event.choice == "rate_skip"):
        return rating_comment(s, event, ctx)
    result = STEPS[s.step](s, event, ctx)
    return with_timers(result, ctx)


# --- steps -------------------------------------------------------------------------------------------

def step_idle(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    if ctx.reports_last_hour >= ctx.config.limits.reports_per_hour:  # a burst of reports is slowed
        return StepResult(replace(s, step=Step.IDLE, draft=None), [msg(event, t(
            s.lang, "flood.reports", count=ctx.reports_last_hour, number=ctx.config.region.emergency_number))])
    s = replace(s, step=Step.TYPE, draft=Draft(started_at=ctx.now.isoformat()), reminded=False)
    res = StepResult(s, [msg(event, t(s.lang, "report.greeting", region=ctx.config.region.name,
                                     number=ctx.config.region.emergency_number))])
    absorb(res, event, ctx)
    return ask(res, event, ctx)


def step_type(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, type_choices(s.lang, ctx))
    res = StepResult(s)
    if picked:
        res.state = replace(s, draft=replace(s.open_draft, incident_type=picked.removeprefix("type:")))
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s.lang, event, "report.hint_type")))
    return advance(res, event, ctx)


def step_photo(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if chosen(event, skip_choice(s.lang)) and may_skip_photo(itype(s, ctx)):
        res.state = replace(s, draft=replace(s.open_draft, photo_skipped=True))
    elif event.kind in (Kind.PHOTO, Kind.DOCUMENT):
        absorb(res, event, ctx)
    elif not absorb(res, event, ctx):
        key = "report.hint_photo_or_skip" if may_skip_photo(itype(s, ctx)) else "report.hint_photo_required"
        res.out.append(msg(event, hint(s.lang, event, key)))
        return res
    return advance(res, event, ctx)


def step_location(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if event.kind == Kind.TEXT and len(event.text.strip()) >= 4:
        text = event.text.strip()[: ctx.config.limits.max_description_chars]
        res.state = replace(s, draft=replace(s.open_draft, address=text))
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s.lang, event, "report.hint_location")))
        return res
    return advance(res, event, ctx)


def step_description(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if chosen(event, skip_choice(s.lang)):
        res.state = replace(s, draft=replace(s.open_draft, description_done=True))
    elif event.kind == Kind.TEXT and event.text.strip():
        text = event.text.strip()[: ctx.config.limits.max_description_chars]
        res.state = replace(s, draft=replace(s.open_draft, description=text, description_done=True))
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s.lang, event, "report.hint_description")))
        return res
    return advance(res, event, ctx)


def step_confirm(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, confirm_choices(s.lang))
    if picked == "confirm:send":
        return submit(s, event, ctx)
    if picked == "confirm:cancel":
        return cancel(s, event, ctx)
    return reply(s, event, hint(s.lang, event, "report.hint_confirm"))


STEPS: dict[Step, Handler] = {
    Step.IDLE: step_idle, Step.TYPE: step_type, Step.PHOTO: step_photo, Step.LOCATION: step_location,
    Step.DESCRIPTION: step_description, Step.CONFIRM: step_confirm,
}


# --- moving forward ----------------------------------------------------------------------------------

def advance(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Go to the first thing still missing from the draft and ask for it."""
    d, it = res.state.open_draft, itype(res.state, ctx)
    if it is None:
        nxt = Step.TYPE
    elif it.photo != "none" and not d.photo_media_id and not d.photo_skipped:
        nxt = Step.PHOTO
    elif not d.has_location:
        nxt = Step.LOCATION
    elif not d.description_done:
        nxt = Step.DESCRIPTION
    else:
        nxt = Step.CONFIRM
    res.state = replace(res.state, step=nxt)
    return ask(res, event, ctx)


def ask(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Append the question of the current step."""
    s, lang = res.state, res.state.lang
    match s.step:
        case Step.TYPE:
            res.out.append(msg(event, t(lang, "report.ask_type"), choices=type_choices(lang, ctx), columns=2))
        case Step.PHOTO:
            can_skip = may_skip_photo(itype(s, ctx))
            key = "report.ask_photo_optional" if can_skip else "report.ask_photo_required"
            res.out.append(msg(event, t(lang, key), choices=skip_choice(lang) if can_skip else ()))
        case Step.LOCATION:
            res.out.append(msg(event, t(lang, "report.ask_location"), request_location=True,
                               location_label=t(lang, "button.share_location")))
        case Step.DESCRIPTION:
            res.out.append(msg(event, t(lang, "report.ask_description"), choices=skip_choice(lang),
                               remove_keyboard=True))
        case Step.CONFIRM:
            res.out.append(msg(event, summary(s, ctx), choices=confirm_choices(lang), remove_keyboard=True))
    return res


def submit(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    d, lang, it = s.open_draft, s.lang, itype(s, ctx)
    if it is None:  # the confirm step comes only after a type was chosen
        return advance(StepResult(s), event, ctx)
    command = SubmitCase(
        ticket=ctx.ticket, incident_type=it.code, urgent=it.urgent, language=lang,
        latitude=d.latitude, longitude=d.longitude, address_text=d.address,
        description=d.description, photo_media_id=d.photo_media_id, started_at=d.started_at)
    key = "report.submitted_urgent" if it.urgent else "report.submitted"
    text = t(lang, key, ticket=ctx.ticket, number=ctx.config.region.emergency_number)
    out = [msg(event, text, priority=Priority.URGENT if it.urgent else Priority.NORMAL)]
    if advice := safety_advice(lang, it, ctx.config):  # while help is on the way, after the ticket
        out.append(msg(event, advice, priority=Priority.URGENT))
    return StepResult(replace(s, step=Step.IDLE, draft=None), out, [command])


def cancel(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    key = "report.cancelled" if s.draft else "report.nothing_to_cancel"
    return StepResult(replace(s, step=Step.IDLE, draft=None), [msg(event, t(s.lang, key), remove_keyboard=True)])


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
        return True
    if event.kind == Kind.LOCATION and event.location is not None:
        lat, lon = event.location.latitude, event.location.longitude
        if ctx.config.region.contains(lat, lon):
            res.state = replace(s, draft=replace(s.open_draft, latitude=lat, longitude=lon))
            res.out.append(msg(event, t(lang, "report.location_received")))
        else:
            res.out.append(msg(event, t(lang, "report.outside_region", region=ctx.config.region.name,
                                        number=ctx.config.region.emergency_number)))
        return True
    return False


# --- commands and timers -----------------------------------------------------------------------------

def cmd_start(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return with_timers(step_idle(replace(s, draft=None), event, ctx), ctx)


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


def cmd_cancel(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return cancel(s, event, ctx)


def cmd_language(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    choices = tuple(Choice(f"lang:{code}", LANGUAGE_NAMES[code]) for code in LANGUAGES)
    return StepResult(s, [msg(event, t(s.lang, "language.ask"), choices=choices)])


def set_language(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    lang = event.choice.removeprefix("lang:")
    s = replace(s, lang=lang if lang in LANGUAGES else s.lang)
    res = StepResult(s, [msg(event, t(s.lang, "language.set"))], [SetLanguage(s.lang)])
    return ask(res, event, ctx) if s.draft else res


def cmd_help(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    return reply(s, event, t(s.lang, "help.citizen", number=ctx.config.region.emergency_number))


COMMANDS: dict[str, Handler] = {
    "start": cmd_start, "status": cmd_status, "batal": cmd_cancel, "cancel": cmd_cancel,
    "bahasa": cmd_language, "language": cmd_language, "bantuan": cmd_help, "help": cmd_help,
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
