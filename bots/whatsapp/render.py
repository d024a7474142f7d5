"""Translate an outbound message into pywa calls, within WhatsApp's limits; pure and table-tested.

Rich messages degrade: up to 3 short choices become reply buttons, up to 10 a list, more a numbered text
that a typed number answers. Outside the 24-hour window only an approved template may go out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pywa.types.templates import TemplateLanguage
from pywa_async.types import Button, Section, SectionList, SectionRow

from core.messages import Choice, Outbound
from core.sending import Undeliverable

TEXT_LIMIT, CAPTION_LIMIT, PARAM_LIMIT, INTERACTIVE_BODY = 4096, 1024, 1024, 1024
BUTTONS, BUTTON_TITLE, ROWS, ROW_TITLE, ROW_DESCRIPTION = 3, 20, 10, 24, 72
MENU_LABEL = "☰"  # neutral: the list button when the message names none in the reader's language


@dataclass(frozen=True)
class Call:
    """One method of `pywa_async.WhatsApp` with its keyword arguments."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def render(message: Outbound, photo: bytes | None = None, *, window_open: bool = True,
           templates: dict[str, tuple[str, str]] | None = None) -> list[Call]:
    """The calls that show `message`; `templates` maps a purpose to (template name, language)."""
    to = message.to.id
    text = message.text
    if not window_open:
        return [_template(to, message, templates or {})]
    calls: list[Call] = []
    if photo is not None:
        caption, text = text[:CAPTION_LIMIT], text[CAPTION_LIMIT:]
        calls.append(Call("send_image", {"to": to, "image": photo, "caption": caption or None,
                                         "mime_type": "image/jpeg"}))
    if message.request_contact and text:
        calls.append(_contact_request(to, text, message.choices))
    elif message.request_location and text:
        calls.append(Call("request_location", {"to": to, "text": text[:TEXT_LIMIT]}))
    elif message.choices:
        calls.append(_choices(to, text or "…", message.choices, message.menu_label))
    elif text:
        # no link preview (pywa's default too): a link a citizen typed may be in the text
        calls += [Call("send_message", {"to": to, "text": text[i:i + TEXT_LIMIT], "preview_url": False})
                  for i in range(0, len(text), TEXT_LIMIT)]
    if message.location is not None:
        calls.append(Call("send_location", {"to": to, "latitude": message.location.latitude,
                                            "longitude": message.location.longitude}))
    return calls


def _choices(to: str, text: str, choices: tuple[Choice, ...], menu_label: str = "") -> Call:
    labels = [c.label for c in choices]
    if len(choices) <= BUTTONS and all(len(label) <= BUTTON_TITLE for label in labels):
        return Call("send_message", {"to": to, "text": text[:TEXT_LIMIT],
                                     "buttons": [Button(c.label, callback_data=c.data) for c in choices]})
    if len(choices) <= ROWS:
        rows = [_row(c) for c in choices]
        menu = SectionList(button_title=_cut(menu_label.strip() or MENU_LABEL, BUTTON_TITLE),
                           sections=[Section(title="Siaga112", rows=rows)])
        return Call("send_message", {"to": to, "text": text[:TEXT_LIMIT], "buttons": menu})
    return Call("send_message", {"to": to, "text": numbered(text, labels)[:TEXT_LIMIT]})


def _row(choice: Choice) -> SectionRow:
    """A list row: the short name as its title and the full label beneath, so no urgent name is cut."""
    title = choice.short.strip() or choice.label
    described = bool(choice.short.strip()) or len(choice.label) > ROW_TITLE
    return SectionRow(title=_cut(title, ROW_TITLE), callback_data=choice.data,
                      description=_cut(choice.label, ROW_DESCRIPTION) if described else None)


def _contact_request(to: str, text: str, choices: tuple[Choice, ...]) -> Call:
    """WhatsApp's "send your number" button (interactive request_contact_info; to a business-scoped user id too).
    It carries no other button, so the message's choices (Skip) are numbered in its text: a typed number or
    word answers them, and the message stays one."""
    body = numbered(text, [c.label for c in choices]) if choices else text
    return Call("request_contact_info", {"to": to, "text": _cut(body, INTERACTIVE_BODY)})


def numbered(text: str, labels: list[str]) -> str:
    """The plain-text form of a choice: a typed number answers it."""
    return text + "\n\n" + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))


def _template(to: str, message: Outbound, templates: dict[str, tuple[str, str]]) -> Call:
    if message.template not in templates:
        raise Undeliverable("outside the 24-hour window and no approved template fits this message")
    name, language = templates[message.template]
    body = " · ".join(line.strip() for line in (message.text or "-").splitlines() if line.strip())
    components: list[dict] = [{"type": "body", "parameters": [{"type": "text", "text": _cut(body, PARAM_LIMIT)}]}]
    components += [{"type": "button", "sub_type": "quick_reply", "index": str(i),
                    "parameters": [{"type": "payload", "payload": c.data}]}
                   for i, c in enumerate(message.choices)]
    return Call("send_template", {"to": to, "name": name, "language": TemplateLanguage(language),
                                  "params": components})


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
