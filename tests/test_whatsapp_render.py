"""WhatsApp render as a table: buttons, lists, numbered text, location requests, photos and templates."""
from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from bots.whatsapp.render import MENU_LABEL, render
from core import outbox
from core.messages import Address, Choice, GeoPoint, Outbound
from core.sending import Undeliverable

TO = Address("whatsapp", "6281234567890")
TEMPLATES = {"status_update": ("siaga112_kabar_laporan", "id"), "rating_request": ("siaga112_penilaian", "id")}


def p(message: Outbound) -> Outbound:
    return outbox.decode(json.loads(json.dumps(asdict(message))))  # as the sender reads it from the outbox


def choices(*labels: str) -> tuple[Choice, ...]:
    return tuple(Choice(f"c{i}", label) for i, label in enumerate(labels))


def test_up_to_three_short_choices_are_reply_buttons():
    [call] = render(p(Outbound(TO, "Kirim?", choices=choices("✅ Kirim", "❌ Batal"))))
    assert call.method == "send_message" and call.kwargs["to"] == "6281234567890"
    assert [(b.title, b.callback_data) for b in call.kwargs["buttons"]] == [("✅ Kirim", "c0"), ("❌ Batal", "c1")]


def test_more_or_longer_choices_become_a_list_with_full_labels_kept():
    labels = ["🔥 Kebakaran", "🚑 Kecelakaan lalu lintas (butuh ambulans)", "🏥 Medis", "🚓 Kriminalitas"]
    [call] = render(p(Outbound(TO, "Apa yang terjadi?", choices=choices(*labels))))
    menu = call.kwargs["buttons"]
    assert menu.button_title == MENU_LABEL and len(menu.button_title) <= 20
    rows = menu.sections[0].rows
    assert [r.callback_data for r in rows] == ["c0", "c1", "c2", "c3"]
    assert all(len(r.title) <= 24 for r in rows) and rows[1].description.startswith("🚑 Kecelakaan lalu lintas")


def test_more_than_ten_choices_degrade_to_numbered_text():
    [call] = render(p(Outbound(TO, "Pilih", choices=choices(*[f"Opsi {i}" for i in range(12)]))))
    text = call.kwargs["text"]
    assert "buttons" not in call.kwargs and "\n1. Opsi 0\n" in text and "12. Opsi 11" in text


def test_location_request_photo_and_pin():
    [ask] = render(p(Outbound(TO, "Di mana?", request_location=True)))
    assert ask.method == "request_location" and ask.kwargs["text"] == "Di mana?"
    calls = render(p(Outbound(TO, "kartu", photo_media_id=1, location=GeoPoint(-7.0, 113.8))), photo=b"jpeg")
    assert [c.method for c in calls] == ["send_image", "send_location"]
    assert calls[0].kwargs["image"] == b"jpeg" and calls[0].kwargs["caption"] == "kartu"


def test_outside_the_window_a_template_carries_the_text_on_one_line():
    msg = Outbound(TO, "✅ Laporan SMP-11-22-33\nsudah diverifikasi", template="status_update")
    [call] = render(p(msg), window_open=False, templates=TEMPLATES)
    assert call.method == "send_template" and call.kwargs["name"] == "siaga112_kabar_laporan"
    assert call.kwargs["params"][0]["parameters"][0]["text"] == "✅ Laporan SMP-11-22-33 · sudah diverifikasi"
    rating = Outbound(TO, "Nilai?", choices=tuple(Choice(f"rate:9:{n}", "⭐" * n) for n in range(1, 6)),
                      template="rating_request")
    [call] = render(p(rating), window_open=False, templates=TEMPLATES)
    buttons = call.kwargs["params"][1:]
    assert [b["parameters"][0]["payload"] for b in buttons] == [f"rate:9:{n}" for n in range(1, 6)]


def test_outside_the_window_without_a_template_is_undeliverable():
    with pytest.raises(Undeliverable):
        render(p(Outbound(TO, "hai")), window_open=False, templates=TEMPLATES)
