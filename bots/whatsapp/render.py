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

TEXT_LIMIT, CAPTION_LIMIT, PARAM_LIMIT = 4096, 1024, 1024
BUTTONS, BUTTON_TITLE, ROWS, ROW_TITLE, ROW_DESCRIPTION = 3, 20, 10, 24, 72
MENU_LABEL = "☰ Pilih / Choose"


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
    if message.request_location and text:
        calls.append(Call("request_location", {"to": to, "text": text[:TEXT_LIMIT]}))
    elif message.choices:
        calls.append(_choices(to, text or "…", message.choices))
    elif text:
        # no link preview (pywa's default too): a link a citizen typed may be in the text
        calls += [Call("send_message", {"to": to, "text": text[i:i + TEXT_LIMIT], "preview_url": False})
                  for i in range(0, len(text), TEXT_LIMIT)]
    if message.location is not None:
        calls.append(Call("send_location", {"to": to, "latitude": message.location.latitude,
                                            "longitude": message.location.longitude}))
    return calls


def _choices(to: str, text: str, choices: tuple[Choice, ...]) -> Call:
    labels = [c.label for c in choices]
    if len(choices) <= BUTTONS and all(len(label) <= BUTTON_TITLE for label in labels):
        return Call("send_message", {"to": to, "text": text[:TEXT_LIMIT],
                                     "buttons": [Button(c.label, callback_data=c.data) for c in choices]})
    if len(choices) <= ROWS:
        rows = [SectionRow(title=_cut(c.label, ROW_TITLE), callback_data=c.data,
                           description=c.label[:ROW_DESCRIPTION] if len(c.label) > ROW_TITLE else None)
                for c in choices]
        menu = SectionList(button_title=MENU_LABEL, sections=[Section(title="Siaga112", rows=rows)])
        return Call("send_message", {"to": to, "text": text[:TEXT_LIMIT], "buttons": menu})
    return Call("send_message", {"to": to, "text": numbered(text, labels)[:TEXT_LIMIT]})


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
