"""`/lapor`: an operator enters a call in a short guided chat with the bot (pure: state in, state and messages out).

```mermaid
stateDiagram-v2
    [*] --> type: /lapor (group or private chat)
    type --> caller: type button
    caller --> where: "Budi 0812…" or Skip
    where --> what: shared pin or typed address
    what --> via: text or Skip
    via --> confirm: channel button
    confirm --> confirm: WhatsApp updates on/off
    confirm --> [*]: Send (bots/services/lapor_chat.py enters it) / Cancel or /batal
```
The time of the call is when `/lapor` was sent. The state is a plain dict kept under its own conversation key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Choice, Inbound, Kind, Outbound, Priority
from workflows.cards import agency_name, local_time, type_name
from workflows.operator_intake import ADDRESS_CHARS, INTAKES, VIA_KEYS, phone_digits, split_caller

PREFIX = "lapor:"


@dataclass
class Step:
    """The state after the event (None: the intake is over), what to send, and whether to enter it now."""

    state: dict[str, str] | None
    out: list[Outbound] = field(default_factory=list)
    submit: bool = False


def start(config: Deployment, now: datetime, to: Address) -> Step:
    state = {"step": "type", "to": str(to), "called_at": now.replace(microsecond=0).isoformat()}
    return Step(state, [ask(state, config)])


def _say(state: dict[str, str], text: str, choices: tuple[Choice, ...] = (), columns: int = 1,
         **extra: object) -> Outbound:
    return Outbound(to=Address.parse(state["to"]), text=text, choices=choices, columns=columns,
                    priority=Priority.URGENT, **extra)  # type: ignore[arg-type]


def ask(state: dict[str, str], config: Deployment, problem: str = "") -> Outbound:
    """The question of the current step (after the reason the last answer was refused, if any)."""
    lang = config.region.default_language
    lead = t(lang, problem) + "\n" if problem else ""
    skip = (Choice(PREFIX + "skip", t(lang, "intake.skip")),)
    step = state["step"]
    if step == "type":
        kinds = tuple(Choice(f"{PREFIX}type:{k.code}", type_name(config, k.code, lang)) for k in config.incident_types)
        return _say(state, lead + t(lang, "intake.ask_type"), kinds, columns=2)
    if step == "caller":
        return _say(state, lead + t(lang, "intake.ask_caller"), skip)
    if step == "where":
        return _say(state, lead + t(lang, "intake.ask_where"), request_location=True,
                    location_label=t(lang, "button.share_location"))
    if step == "what":
        return _say(state, lead + t(lang, "intake.ask_what"), skip)
    if step == "via":
        return _say(state, lead + t(lang, "intake.ask_via"),
                    tuple(Choice(f"{PREFIX}via:{v}", t(lang, VIA_KEYS[v])) for v in INTAKES), columns=2)
    return _summary(state, config, lead)


def _summary(state: dict[str, str], config: Deployment, lead: str) -> Outbound:
    lang = config.region.default_language
    kind = config.incident_type(state.get("type", ""))
    found = phone_digits(state.get("caller_phone", "")) if state.get("caller_phone") else None
    number = "+" + found[0] if found else ""  # written whole, as the logs' scrubber recognises a number
    caller = " ".join(filter(None, (state.get("caller_name"), number))) or "–"
    where = state.get("address_text") or (t(lang, "intake.pin") + f" {state['latitude']}, {state['longitude']}"
                                          if state.get("latitude") else "–")
    text = t(lang, "intake.summary", type=type_name(config, state.get("type", ""), lang), caller=caller,
             where=where, what=state.get("description") or "–",
             via=t(lang, VIA_KEYS.get(state.get("via", ""), "intake.via_phone")),
             when=local_time(config, datetime.fromisoformat(state["called_at"]), "%d-%m %H:%M"),
             agencies=", ".join(agency_name(config, a, lang) for a in (kind.agencies if kind else [])))
    buttons = [Choice(PREFIX + "send", t(lang, "intake.send"))]
    if found and found[1]:  # a mobile number: the caller may hear progress on WhatsApp
        buttons.append(Choice(PREFIX + "wa", t(lang, "intake.wa_on" if state.get("follow_up") else "intake.wa_off")))
    buttons.append(Choice(PREFIX + "cancel", t(lang, "intake.cancel")))
    return _say(state, lead + text, tuple(buttons))


NEXT = {"type": "caller", "caller": "where", "where": "what", "what": "via", "via": "confirm"}


def step(state: dict[str, str], event: Inbound, config: Deployment) -> Step:
    """One answer of the operator."""
    lang = config.region.default_language
    pressed = event.choice[len(PREFIX):] if event.kind == Kind.CHOICE and event.choice.startswith(PREFIX) else ""
    if (event.kind == Kind.COMMAND and event.command == "batal") or pressed == "cancel":
        return Step(None, [_say(state, t(lang, "intake.cancelled"), remove_keyboard=True)])
    now, new = state["step"], dict(state)
    if now == "type" and pressed.startswith("type:") and config.incident_type(pressed[5:]) is not None:
        new["type"] = pressed[5:]
    elif now == "caller" and (pressed == "skip" or (event.kind == Kind.TEXT and event.text.strip())):
        name, phone = split_caller(event.text[:200]) if event.kind == Kind.TEXT else ("", "")
        if phone and phone_digits(phone) is None:
            return Step(state, [ask(state, config, "intake.err_phone")])
        new.update(caller_name=name[:100], caller_phone=phone)
    elif now == "where" and event.kind == Kind.LOCATION and event.location is not None:
        if not config.region.contains(event.location.latitude, event.location.longitude):
            return Step(state, [ask(state, config, "intake.err_outside")])
        new.update(latitude=f"{event.location.latitude:.6f}", longitude=f"{event.location.longitude:.6f}",
                   address_text="")
    elif now == "where" and event.kind == Kind.TEXT and event.text.strip():
        new.update(address_text=event.text.strip()[:ADDRESS_CHARS], latitude="", longitude="")
    elif now == "what" and (pressed == "skip" or (event.kind == Kind.TEXT and event.text.strip())):
        new["description"] = event.text.strip()[:config.limits.max_description_chars] if not pressed else ""
    elif now == "via" and pressed.startswith("via:") and pressed[4:] in INTAKES:
        new["via"] = pressed[4:]
    elif now == "confirm" and pressed == "wa":
        new["follow_up"] = "" if state.get("follow_up") else "1"
        return Step(new, [ask(new, config)])
    elif now == "confirm" and pressed == "send":
        return Step(state, submit=True)
    else:
        return Step(state, [_say(state, t(lang, "intake.use_buttons"))] if event.kind != Kind.CHOICE else [])
    new["step"] = NEXT[now]
    out = [ask(new, config)]
    if now == "where":  # the location keyboard goes away once answered
        out.insert(0, _say(new, t(lang, "intake.where_noted"), remove_keyboard=True))
    return Step(new, out)


def fields(state: dict[str, str]) -> dict[str, str]:
    """The intake's answers as the form's fields (workflows/operator_intake.validate checks them again)."""
    names = ("caller_name", "caller_phone", "latitude", "longitude", "address_text", "description", "follow_up",
             "called_at")
    return {"incident_type": state.get("type", ""), "intake": state.get("via", "phone"),
            **{name: state.get(name, "") for name in names}}
