"""Which language the citizen's conversation speaks: the chat's first language code, the web page's language
when it changes, Madurese (or another catalog's language) recognised in the first words, or `/bahasa`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.i18n import LANGUAGE_NAMES, LANGUAGES, guess_language, pick_language, t
from core.messages import Inbound, Kind, Outbound
from workflows.citizen_prompts import language_choices, msg
from workflows.conversation_state import ConversationState
from workflows.effects import SetLanguage


@dataclass
class Switch:
    """A language change decided before the step runs: the new state, what to say, what to store."""

    state: ConversationState
    out: list[Outbound] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)


def settle(state: ConversationState, event: Inbound, default: str) -> Switch:
    """The chat's language for this event: kept, taken from the first message's language code, or switched
    because the web page's language changed (the page sends it with every post)."""
    s = replace(state, lang=state.lang or pick_language(event.language_code, default))
    if event.chat.channel != "web" or not event.language_code or event.kind == Kind.TIMER:
        return Switch(s)
    page = pick_language(event.language_code, "")
    if not page or page == s.page_lang:
        return Switch(s)
    s = replace(s, page_lang=page)
    if page == s.lang:
        return Switch(s)
    return Switch(replace(s, lang=page), commands=[SetLanguage(page)])


def from_words(s: ConversationState, event: Inbound) -> Switch:
    """At the first free text: switch to the language its words clearly mark (Madurese "sakè'", "pèngsan"…),
    saying so in one line with the way back (/bahasa)."""
    if event.kind != Kind.TEXT:
        return Switch(s)
    found = guess_language(event.text)
    if found is None or found == s.lang or found not in LANGUAGES:
        return Switch(s)
    s = replace(s, lang=found)
    return Switch(s, [msg(event, t(found, "talk.language_switched", name=LANGUAGE_NAMES[found]))],
                  [SetLanguage(found)])


def menu(s: ConversationState, event: Inbound) -> Outbound:
    """The language menu: every language that has a catalog."""
    return msg(event, t(s.lang, "language.ask"), choices=language_choices())
