"""WhatsApp render as a table: buttons, lists, numbered text, location requests, photos and templates."""
from __future__ import annotations

import json
from dataclasses import asdict, replace

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


def test_list_rows_show_short_titles_with_the_full_label_beneath_and_the_menu_in_the_readers_words():
    long = "🚑 Kecelakaan lalu lintas dengan korban luka berat yang butuh ambulans segera ke lokasi kejadian"
    rows_in = (Choice("t:fire", "🔥 Kebakaran rumah, lahan atau kendaraan", short="🔥 Kebakaran"),
               Choice("t:crash", long, short="🚑 Kecelakaan lalu lintas"),
               Choice("t:other", "❓ Lainnya"), Choice("t:crime", "🚓 Kriminalitas atau keributan di jalan"))
    [call] = render(p(Outbound(TO, "Apa yang terjadi?", choices=rows_in, menu_label="Pilih jenis")))
    menu = call.kwargs["buttons"]
    assert menu.button_title == "Pilih jenis"
    rows = menu.sections[0].rows
    assert [(r.title, r.description) for r in rows] == [
        ("🔥 Kebakaran", "🔥 Kebakaran rumah, lahan atau kendaraan"),
        ("🚑 Kecelakaan lalu lintas", long[:71] + "…"),
        ("❓ Lainnya", None),
        ("🚓 Kriminalitas atau ker…", "🚓 Kriminalitas atau keributan di jalan"),
    ]
    assert all(len(r.title) <= 24 and len(r.description or "") <= 72 for r in rows)
    [call] = render(p(Outbound(TO, "Pilih", choices=rows_in, menu_label="Pilih jenis kejadian darurat")))
    assert call.kwargs["buttons"].button_title == "Pilih jenis kejadia…"  # WhatsApp allows 20
    [call] = render(p(Outbound(TO, "Pilih", choices=rows_in)))
    assert call.kwargs["buttons"].button_title == "☰" and "Choose" not in call.kwargs["buttons"].button_title


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


def test_a_number_request_is_whatsapps_contact_info_request_with_skip_numbered_in_its_text():
    """The request carries no other button, so Skip is numbered in the text: one message, answered by tapping
    the request, typing 1 or typing the word."""
    ask = Outbound(Address("whatsapp", "ID.8730915502217746301"), "Nomor HP untuk ditelepon balik?",
                   choices=(Choice("skip", "⏭ Lewati"),), request_contact=True, contact_label="📱 Kirim nomor saya")
    [call] = render(p(ask))
    assert call.method == "request_contact_info" and call.kwargs["to"] == "ID.8730915502217746301"
    assert call.kwargs["text"] == "Nomor HP untuk ditelepon balik?\n\n1. ⏭ Lewati"
    [plain] = render(p(replace(ask, choices=(), text="x" * 5000)))
    assert plain.method == "request_contact_info" and len(plain.kwargs["text"]) == 1024  # interactive body limit


async def test_the_fake_graph_api_takes_the_request_and_the_tapped_contact_comes_back(config):
    """Real pywa against the fake, to a user known only by a business-scoped id: the request goes out as
    `recipient`, and tapping it delivers a `contacts` message that parses as the sender's own number."""
    from bots.whatsapp.client import WhatsAppChannel
    from bots.whatsapp.parse import parse, split
    from core.messages import Kind
    from tests.fakes.whatsapp_api import FakeWhatsApp

    bsuid = "ID.8730915502217746301"
    async with FakeWhatsApp() as wa:
        wa.user(None, "Budi", user_id=bsuid)
        await wa.send_text(bsuid, "halo")  # opens the 24-hour window
        channel = WhatsAppChannel(wa.token, wa.phone_number_id, wa.base_url, "v21.0", config)
        try:
            ask = Outbound(Address("whatsapp", bsuid), "Nomor HP?", choices=(Choice("skip", "⏭ Lewati"),),
                           request_contact=True)
            assert await channel.send(p(ask), None)
            [sent] = wa.sent(bsuid)
            assert sent["recipient"] == bsuid and not sent.get("to")
            assert sent["interactive"] == {"type": "request_contact_info", "body": {"text": "Nomor HP?\n\n1. ⏭ Lewati"},
                                           "action": {"name": "request_contact_info"}}
        finally:
            await channel.stop()
        [item], _ = split(await wa.share_contact(bsuid, "+62 812-3456-7890"))
        event = parse(item.payload)
        assert (event.kind, event.phone, event.own_contact) == (Kind.CONTACT, "+62 812-3456-7890", True)
        [item], _ = split(await wa.share_contact(bsuid, "+62 813-0000-1111", origin="other"))
        assert parse(item.payload).own_contact is False
