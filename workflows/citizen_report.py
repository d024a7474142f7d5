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
Items may come in any order: a pin or photo sent early is kept and its step is skipped.
"""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from core.button_data import MAX_ID, number
from core.config import IncidentType
from core.i18n import pick_language, t
from core.messages import Choice, Inbound, Kind, Outbound, Priority
from workflows.choices import chosen
from workflows.context import Context
from workflows.effects import CommentRating, RateCase, SetLanguage, StartTimer, StepResult, SubmitCase

MEDIA_KINDS = {Kind.VOICE, Kind.STICKER, Kind.VIDEO, Kind.CONTACT, Kind.OTHER}


def step(state: dict, event: Inbound, ctx: Context) -> StepResult:
    """Route one event: timers, commands and language picks first, then the current step's handler."""
    s = {**state, "touch": state.get("touch", 0) + (0 if event.kind == Kind.TIMER else 1)}
    s.setdefault("lang", pick_language(event.language_code, ctx.config.region.default_language))
    s.setdefault("step", "idle")
    if event.kind == Kind.TIMER:
        return on_timer(s, event, ctx)
    if ctx.blocked:
        return reply(s, event, t(s["lang"], "report.blocked", number=ctx.config.region.emergency_number))
    if event.kind == Kind.COMMAND:
        return COMMANDS.get(event.command, cmd_help)(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("lang:"):
        return set_language(s, event, ctx)
    if event.kind == Kind.CHOICE and event.choice.startswith("rate:"):
        return rate(s, event, ctx)
    if s.get("comment_for") and not s.get("draft") and (event.kind == Kind.TEXT or event.choice == "rate_skip"):
        return rating_comment(s, event, ctx)
    result = STEPS[s["step"]](s, event, ctx)
    return with_timers(result, ctx)


# --- steps -------------------------------------------------------------------------------------------

def step_idle(s: dict, event: Inbound, ctx: Context) -> StepResult:
    if ctx.reports_last_hour >= ctx.config.limits.reports_per_hour:  # a burst of reports is slowed
        return StepResult({**s, "step": "idle", "draft": None}, [msg(event, t(
            s["lang"], "flood.reports", count=ctx.reports_last_hour, number=ctx.config.region.emergency_number))])
    s = {**s, "step": "type", "draft": {"started_at": ctx.now.isoformat()}, "reminded": False}
    res = StepResult(s, [msg(event, t(s["lang"], "report.greeting", region=ctx.config.region.name,
                                     number=ctx.config.region.emergency_number))])
    absorb(res, event, ctx)
    return ask(res, event, ctx)


def step_type(s: dict, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, type_choices(s["lang"], ctx))
    res = StepResult(s)
    if picked:
        code = picked.removeprefix("type:")
        res.state = {**s, "draft": {**s["draft"], "type": code}}
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s["lang"], event, "report.hint_type")))
    return advance(res, event, ctx)


def step_photo(s: dict, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if chosen(event, skip_choice(s["lang"])) and may_skip_photo(itype(s, ctx)):
        res.state = {**s, "draft": {**s["draft"], "photo_skipped": True}}
    elif event.kind in (Kind.PHOTO, Kind.DOCUMENT):
        absorb(res, event, ctx)
    elif not absorb(res, event, ctx):
        key = "report.hint_photo_or_skip" if may_skip_photo(itype(s, ctx)) else "report.hint_photo_required"
        res.out.append(msg(event, hint(s["lang"], event, key)))
        return res
    return advance(res, event, ctx)


def step_location(s: dict, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if event.kind == Kind.TEXT and len(event.text.strip()) >= 4:
        text = event.text.strip()[: ctx.config.limits.max_description_chars]
        res.state = {**s, "draft": {**s["draft"], "address": text}}
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s["lang"], event, "report.hint_location")))
        return res
    return advance(res, event, ctx)


def step_description(s: dict, event: Inbound, ctx: Context) -> StepResult:
    res = StepResult(s)
    if chosen(event, skip_choice(s["lang"])):
        res.state = {**s, "draft": {**s["draft"], "description_done": True}}
    elif event.kind == Kind.TEXT and event.text.strip():
        text = event.text.strip()[: ctx.config.limits.max_description_chars]
        res.state = {**s, "draft": {**s["draft"], "description": text, "description_done": True}}
    elif not absorb(res, event, ctx):
        res.out.append(msg(event, hint(s["lang"], event, "report.hint_description")))
        return res
    return advance(res, event, ctx)


def step_confirm(s: dict, event: Inbound, ctx: Context) -> StepResult:
    picked = chosen(event, confirm_choices(s["lang"]))
    if picked == "confirm:send":
        return submit(s, event, ctx)
    if picked == "confirm:cancel":
        return cancel(s, event, ctx)
    res = StepResult(s, [msg(event, hint(s["lang"], event, "report.hint_confirm"))])
    return res


STEPS = {"idle": step_idle, "type": step_type, "photo": step_photo, "location": step_location,
         "description": step_description, "confirm": step_confirm}


# --- moving forward ----------------------------------------------------------------------------------

def advance(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Go to the first thing still missing from the draft and ask for it."""
    d = res.state["draft"]
    it = ctx.config.incident_type(d.get("type", "")) if d.get("type") else None
    if it is None:
        nxt = "type"
    elif it.photo != "none" and not d.get("photo_media_id") and not d.get("photo_skipped"):
        nxt = "photo"
    elif not d.get("latitude") and not d.get("address"):
        nxt = "location"
    elif not d.get("description_done"):
        nxt = "description"
    else:
        nxt = "confirm"
    res.state = {**res.state, "step": nxt}
    return ask(res, event, ctx)


def ask(res: StepResult, event: Inbound, ctx: Context) -> StepResult:
    """Append the question of the current step."""
    s, lang = res.state, res.state["lang"]
    it = itype(s, ctx)
    match s["step"]:
        case "type":
            res.out.append(msg(event, t(lang, "report.ask_type"), choices=type_choices(lang, ctx), columns=2))
        case "photo":
            can_skip = may_skip_photo(it)
            key = "report.ask_photo_optional" if can_skip else "report.ask_photo_required"
            res.out.append(msg(event, t(lang, key), choices=skip_choice(lang) if can_skip else ()))
        case "location":
            res.out.append(msg(event, t(lang, "report.ask_location"), request_location=True,
                               location_label=t(lang, "button.share_location")))
        case "description":
            res.out.append(msg(event, t(lang, "report.ask_description"), choices=skip_choice(lang),
                               remove_keyboard=True))
        case "confirm":
            res.out.append(msg(event, summary(s, ctx), choices=confirm_choices(lang), remove_keyboard=True))
    return res


def submit(s: dict, event: Inbound, ctx: Context) -> StepResult:
    d, lang, it = s["draft"], s["lang"], itype(s, ctx)
    command = SubmitCase(
        ticket=ctx.ticket, incident_type=it.code, urgent=it.urgent, language=lang,
        latitude=d.get("latitude"), longitude=d.get("longitude"), address_text=d.get("address"),
        description=d.get("description"), photo_media_id=d.get("photo_media_id"), started_at=d["started_at"])
    key = "report.submitted_urgent" if it.urgent else "report.submitted"
    text = t(lang, key, ticket=ctx.ticket, number=ctx.config.region.emergency_number)
    new_state = {**s, "step": "idle", "draft": None}
    return StepResult(new_state, [msg(event, text, priority=Priority.URGENT if it.urgent else Priority.NORMAL)],
                      [command])


def cancel(s: dict, event: Inbound, ctx: Context) -> StepResult:
    key = "report.cancelled" if s.get("draft") else "report.nothing_to_cancel"
    return StepResult({**s, "step": "idle", "draft": None}, [msg(event, t(s["lang"], key), remove_keyboard=True)])


def absorb(res: StepResult, event: Inbound, ctx: Context) -> bool:
    """Keep a photo or pin sent at any step; say why when it cannot be kept. True when it was handled."""
    s, lang = res.state, res.state["lang"]
    d = s.get("draft") or {}
    if event.kind in (Kind.PHOTO, Kind.DOCUMENT) and event.media is not None:
        if event.media.problem:
            res.out.append(msg(event, t(lang, f"photo.{event.media.problem}",
                                        max_mb=f"{ctx.config.limits.max_photo_mb:g}")))
        elif event.media.media_id:
            res.state = {**s, "draft": {**d, "photo_media_id": event.media.media_id, "photo_skipped": False}}
            res.out.append(msg(event, t(lang, "report.photo_received")))
        return True
    if event.kind == Kind.LOCATION and event.location is not None:
        if ctx.config.region.contains(event.location.latitude, event.location.longitude):
            res.state = {**s, "draft": {**d, "latitude": event.location.latitude,
                                        "longitude": event.location.longitude}}
            res.out.append(msg(event, t(lang, "report.location_received")))
        else:
            res.out.append(msg(event, t(lang, "report.outside_region", region=ctx.config.region.name,
                                        number=ctx.config.region.emergency_number)))
        return True
    return False


def takes_photo(state: dict, config) -> bool:
    """Whether a photo sent now would be kept: a draft is open at a step that absorbs one (the photo step, or an
    earlier or later step of a type that has photos). The web chat stores no upload otherwise."""
    d = state.get("draft") or {}
    if not d or state.get("step") not in ("type", "photo", "location", "description"):
        return False
    it = config.incident_type(d.get("type", "")) if d.get("type") else None
    return state.get("step") in ("type", "photo") or (it is not None and it.photo != "none")


# --- commands and timers -----------------------------------------------------------------------------

def cmd_start(s: dict, event: Inbound, ctx: Context) -> StepResult:
    return with_timers(step_idle({**s, "draft": None}, event, ctx), ctx)


def cmd_status(s: dict, event: Inbound, ctx: Context) -> StepResult:
    lang = s["lang"]
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


def cmd_cancel(s: dict, event: Inbound, ctx: Context) -> StepResult:
    return cancel(s, event, ctx)


def cmd_language(s: dict, event: Inbound, ctx: Context) -> StepResult:
    choices = (Choice("lang:id", "🇮🇩 Bahasa Indonesia"), Choice("lang:en", "🇬🇧 English"))
    return StepResult(s, [msg(event, t(s["lang"], "language.ask"), choices=choices)])


def set_language(s: dict, event: Inbound, ctx: Context) -> StepResult:
    lang = event.choice.removeprefix("lang:")
    s = {**s, "lang": lang if lang in ("id", "en") else s["lang"]}
    res = StepResult(s, [msg(event, t(s["lang"], "language.set"))], [SetLanguage(s["lang"])])
    return ask(res, event, ctx) if s.get("draft") else res


def rate(s: dict, event: Inbound, ctx: Context) -> StepResult:
    """Stars from the rating request; the service checks the case is theirs, closed and not yet rated."""
    _, case_text, stars_text = (event.choice.split(":") + ["", ""])[:3]
    case_id, stars = number(case_text, 1, MAX_ID), number(stars_text, 1, 5)  # 1-5 is what the request offered
    if case_id is None or stars is None:
        return StepResult(s)
    skip = (Choice("rate_skip", t(s["lang"], "button.skip")),)
    out = [msg(event, t(s["lang"], "rating.thanks", stars="⭐" * stars), choices=skip)]
    return StepResult({**s, "comment_for": case_id}, out, [RateCase(case_id, stars)])


def rating_comment(s: dict, event: Inbound, ctx: Context) -> StepResult:
    case_id, s = s["comment_for"], {**s, "comment_for": None}
    if event.kind != Kind.TEXT or not event.text.strip():
        return reply(s, event, t(s["lang"], "rating.done"))
    text = event.text.strip()[: ctx.config.limits.max_description_chars]
    return StepResult(s, [msg(event, t(s["lang"], "rating.done"))], [CommentRating(case_id, text)])


def cmd_help(s: dict, event: Inbound, ctx: Context) -> StepResult:
    return reply(s, event, t(s["lang"], "help.citizen", number=ctx.config.region.emergency_number))


COMMANDS = {"start": cmd_start, "status": cmd_status, "batal": cmd_cancel, "cancel": cmd_cancel,
            "bahasa": cmd_language, "language": cmd_language, "bantuan": cmd_help, "help": cmd_help}


def with_timers(res: StepResult, ctx: Context) -> StepResult:
    """While a draft is open, re-arm the reminder and the expiry; each carries the touch it was set at."""
    if res.state.get("draft"):
        touch, conv = res.state["touch"], ctx.config.conversation
        res.state = {**res.state, "reminded": False}
        res.timers += [StartTimer("draft_reminder", timedelta(minutes=conv.reminder_minutes), 0, {"touch": touch}),
                       StartTimer("draft_expire", timedelta(minutes=conv.expire_minutes), 0, {"touch": touch})]
    return res


def on_timer(s: dict, event: Inbound, ctx: Context) -> StepResult:
    """Remind once, then expire; a timer set before the reporter's latest message does nothing."""
    stale = event.timer_payload.get("touch") != s["touch"] or not s.get("draft")
    if stale:
        return StepResult(s)
    if event.timer == "draft_reminder" and not s.get("reminded"):
        res = StepResult({**s, "reminded": True}, [msg(event, t(s["lang"], "report.reminder"))])
        return ask(res, event, ctx)
    if event.timer == "draft_expire":
        return StepResult({**s, "step": "idle", "draft": None}, [msg(event, t(s["lang"], "report.expired"))])
    return StepResult(s)


# --- small helpers -----------------------------------------------------------------------------------

def itype(s: dict, ctx: Context) -> IncidentType | None:
    code = (s.get("draft") or {}).get("type")
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


def summary(s: dict, ctx: Context) -> str:
    d, lang, it = s["draft"], s["lang"], itype(s, ctx)
    if d.get("latitude") is not None:
        where = t(lang, "summary.pin", lat=f"{d['latitude']:.5f}", lon=f"{d['longitude']:.5f}")
    else:
        where = d.get("address", "")
    photo = t(lang, "summary.photo_yes") if d.get("photo_media_id") else t(lang, "summary.photo_no")
    return t(lang, "report.summary", type=it.name.get(lang), location=where, photo=photo,
             description=d.get("description") or "-")


def hint(lang: str, event: Inbound, fallback_key: str) -> str:
    """Explain what we cannot use (a voice note, a sticker…) before repeating what we need."""
    if event.kind in MEDIA_KINDS or (event.kind == Kind.DOCUMENT and event.media is None):
        return t(lang, f"hint.{event.kind.value}") + "\n" + t(lang, fallback_key)
    return t(lang, fallback_key)


def msg(event: Inbound, text: str, **kw) -> Outbound:
    return Outbound(to=event.chat, text=text, **kw)


def reply(s: dict, event: Inbound, text: str) -> StepResult:
    return StepResult(s, [msg(event, text)])
