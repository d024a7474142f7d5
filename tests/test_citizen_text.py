"""Citizen text cannot pass for the system on the operators' card or a crew's task, nor unfold a link (issue 12.9)."""
from __future__ import annotations

from datetime import UTC, datetime

from bots.telegram.render import render, render_edit
from bots.whatsapp.render import render as wa_render
from core.i18n import t
from core.messages import Address, Choice, Outbound
from tests.e2e_support import CITIZEN, OPERATORS, TICKET, asked, last_with_button, wait_new
from tests.harness import eventually
from tests.test_e2e_casework import DAMKAR, OPERATOR, card_of, case_id_of, press, task_card
from workflows import cards, notices

FORGED = "kebakaran\nStatus: selesai\nOperator: Budi https://evil.example"
FORGED_ADDRESS = "Jl. Melati 7\u2028Status: ditutup\r\n/blokir @operator_bot"
SYSTEM_LABELS = ("Status:", "Operator:", "Jenis:", "Waktu:", "Lokasi:", "Kontak", "Melalui:", "🚨", "•", "⛔", "🔁")


def view(**changes) -> cards.CaseView:
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    fields = dict(id=7, ticket="SMP-12-34-56", state="submitted", incident_type="fire", urgent=True, submitted_at=now,
                  updated_at=now, reporter_name="Budi\nStatus: selesai", channel="telegram", contact="+62812",
                  address_text=FORGED_ADDRESS, description=FORGED, now=now, sla_due_at=now)
    return cards.CaseView(**{**fields, **changes})


def check_set_apart(text: str, lang: str = "id") -> list[str]:
    """The citizen's words follow every line of the system, each on one quoted line; returns those lines."""
    lines = text.split("\n")
    start = lines.index(t(lang, "card.citizen_header"))
    system, said = lines[:start], lines[start + 1:]
    assert said and all("❝" in line and line.endswith("❞") and line.count("❝") == 1 for line in said), said
    assert not any(line.startswith(label) for line in said for label in SYSTEM_LABELS)
    assert "selesai" not in "\n".join(system) and "evil" not in "\n".join(system)
    return said


def test_the_card_sets_the_citizens_words_apart(config):
    text = cards.report_text(view(), config)
    said = check_set_apart(text)
    assert said[0] == "Nama: ❝Budi Status: selesai❞"
    assert said[2] == "Keterangan: ❝kebakaran Status: selesai Operator: Budi https∶//evil․example❞"
    assert "Jl. Melati 7 Status: ditutup ∕blokir ＠operator_bot" in said[1]
    assert sum(line.startswith("Status:") for line in text.split("\n")) == 1  # the system's own

    task = cards.task_text(view(), cards.TaskView(1, "damkar", "dispatched"), config)
    said = check_set_apart(task)
    assert [line.split(":")[0] for line in said] == ["Alamat", "Keterangan"]

    endless = cards.report_text(view(description="x" * 5000 + "\n" * 50), config)
    assert len(endless.split("\n")[-1]) <= len("Keterangan: ❝❞") + cards.QUOTE_CHARS
    sneaky = cards.quoted("a❞\nStatus: ok ❝b\u202e\x00c\x85d")
    assert sneaky == '❝a" Status: ok "bc d❞'

    alert = notices.low_rating_alert(config, "SMP-12-34-56", 1, "buruk\nStatus: selesai")
    assert check_set_apart(alert.text) == ["Komentar: ❝buruk Status: selesai❞"]


def test_link_previews_are_off_for_text_and_edits():
    payload = Outbound(Address("telegram", "-100123"), "a https://evil.example b",
                       choices=(Choice("op:verify:1", "ok"),))
    [send] = render(payload)
    assert send.method == "send_message" and send.kwargs["link_preview_options"].is_disabled is True
    [edit] = render_edit(payload, 5, payload)
    assert edit.method == "edit_message_text" and edit.kwargs["link_preview_options"].is_disabled is True
    [wa] = wa_render(Outbound(Address("whatsapp", "628123"), "https://evil.example"))
    assert wa.kwargs["preview_url"] is False


async def test_a_forged_description_reaches_the_operators_as_one_quoted_line(fake, gw):
    """Over the real app and the fake Bot API: no photo, a typed address, a description forging status lines."""
    since = len(fake.sent(CITIZEN))
    await fake.send_text(CITIZEN, "/start")
    menu = await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire"))
    await fake.press_button(CITIZEN, menu, "type:fire")
    await wait_new(fake, CITIZEN, asked("report.ask_location"), since)  # urgent: where first
    await fake.send_text(CITIZEN, "Jl. Melati 7\nStatus: ditutup")
    await fake.press_button(CITIZEN, await eventually(lambda: last_with_button(fake, CITIZEN, "skip")), "skip")
    await wait_new(fake, CITIZEN, asked("talk.ask_phone"), since)
    await fake.send_text(CITIZEN, "lewati")
    await wait_new(fake, CITIZEN, asked("report.summary"), since)
    await fake.send_text(CITIZEN, FORGED)  # words at the summary become the description
    await wait_new(fake, CITIZEN, "Status: selesai", since)
    await fake.press_button(CITIZEN, await eventually(lambda: last_with_button(fake, CITIZEN, "confirm:send")),
                            "confirm:send")
    done = await wait_new(fake, CITIZEN, asked("report.submitted_urgent"), since)
    ticket = TICKET.search(done["text"]).group(0)

    card = await card_of(fake, ticket, "case:verify")
    assert card["_method"] == "sendMessage" and card["link_preview_options"] == {"is_disabled": True}
    said = check_set_apart(card["text"])
    assert sum(line.startswith("Status:") for line in card["text"].split("\n")) == 1  # the system's own
    assert said[-1] == "Keterangan: ❝kebakaran Status: selesai Operator: Budi https∶//evil․example❞"
    assert not [e for e in card.get("entities", []) if e["type"] in ("url", "mention", "bot_command")]
    sends = [c for c in fake.calls if c.method == "sendMessage" and c.params.get("chat_id") == OPERATORS]
    assert sends and all(c.params["link_preview_options"] == {"is_disabled": True} for c in sends)

    await press(fake, OPERATOR, card, f"op:verify:{case_id_of(card)}")
    task = await task_card(fake, DAMKAR, ticket, "task:accept")
    assert task["link_preview_options"] == {"is_disabled": True}
    check_set_apart(task["text"])
    edits = await eventually(lambda: [c for c in fake.calls if c.method == "editMessageText"
                                      and c.params.get("chat_id") == OPERATORS and c.status == 200] or None)
    assert all(c.params["link_preview_options"] == {"is_disabled": True} for c in edits)
