"""Places by name wherever a case is shown or counted: cards, tasks, dashboard filter, case page, figures, Open311."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bots.services.phone_intake import name_place
from core import accounts, figures, open_data
from core.gazetteer import for_config
from core.models import Case
from tests.conftest import fresh_database_url
from tests.test_cards import view
from tests.test_public_privacy import a_case
from tests.test_web_pages import PASSWORD, sign_in, web
from workflows import cards, figures_text
from workflows.cards import TaskView

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
PABIAN = ("35.29.01.2006", "35.29.01")
LINK = "https://www.google.com/maps/search/?api=1&query=-7.02300,113.87700"


def test_the_operators_card_names_the_desa_with_the_distance_and_the_map_link(config):
    card = cards.report_text(view(latitude=-7.023, longitude=113.877, place="Desa Pabian, Kec. Kota Sumenep",
                                  place_match="pin_nearest", place_distance_m=287.0), config)
    assert f"Lokasi: 📍 Desa Pabian, Kec. Kota Sumenep (±300 m dari pusat desa) {LINK}" in card
    assert "titik peta" not in card


def test_a_confirmed_typed_place_and_an_unmatched_one(config):
    confirmed = cards.report_text(view(address_text="dekat pasar Anom", place="Kec. Kalianget",
                                       place_match="typed_confirmed"), config)
    assert "Lokasi: 📍 Kec. Kalianget (alamat diketik, dipastikan pelapor)" in confirmed
    assert "dekat pasar Anom" in confirmed  # the citizen's words still follow, quoted
    unmatched = cards.report_text(view(address_text="belakang sekolah", place_match="typed_unmatched"), config)
    assert "Lokasi: ⚠️ alamat diketik, belum dicocokkan (lihat di bawah)" in unmatched


def test_without_a_name_the_pin_is_shown_as_before(config):
    card = cards.report_text(view(latitude=-7.023, longitude=113.877), config)
    assert f"Lokasi: titik peta -7.02300, 113.87700 {LINK}" in card


def test_the_crews_task_card_names_the_place(config):
    task = TaskView(7, "damkar", "dispatched")
    text = cards.task_text(view("dispatched", task, latitude=-6.9, longitude=115.29, place="Desa Duko, Kec. Arjasa",
                                place_match="pin_nearest", place_distance_m=1234.0), task, config)
    assert "Lokasi: 📍 Desa Duko, Kec. Arjasa (±1,2 km dari pusat desa)" in text


def _case(**kw) -> Case:
    fields = dict(ticket="SMP-1", incident_type="fire", urgent=True, state="closed", submitted_at=NOW,
                  updated_at=NOW, drill=False, intake="telegram", latitude=None, longitude=None, address_text=None)
    return Case(**{**fields, **kw})


def test_an_operator_entered_report_is_named_like_the_citizens(config):
    pinned = _case(latitude=-7.0234, longitude=113.8772)
    name_place(pinned, config)
    assert (pinned.desa_code, pinned.kecamatan_code, pinned.place_match) == (*PABIAN, "pin_nearest")
    assert pinned.place_distance_m is not None and pinned.place_distance_m < 100
    typed = _case(address_text="Desa Lobuk, Bluto")
    name_place(typed, config)
    assert (typed.desa_code, typed.kecamatan_code, typed.place_match) == ("35.29.05.2009", "35.29.05",
                                                                          "typed_confirmed")
    only_kecamatan = _case(address_text="dekat pasar Anom, Kalianget")
    name_place(only_kecamatan, config)
    assert (only_kecamatan.desa_code, only_kecamatan.kecamatan_code) == (None, "35.29.02")
    slip = _case(address_text="Pabyan")  # no one asked "Maksud Anda…?": a guess is not stored as a place
    name_place(slip, config)
    assert (slip.desa_code, slip.kecamatan_code, slip.place_match) == (None, None, "typed_unmatched")
    far = _case(latitude=-7.2575, longitude=112.7521)
    name_place(far, config)
    assert (far.kecamatan_code, far.place_match) == (None, None)


def test_figures_count_reports_by_kecamatan(config):
    rows = [_case(ticket=f"SMP-{i}", kecamatan_code=code)
            for i, code in enumerate(["35.29.02", "35.29.01", "35.29.02", None, "35.29.24"])]
    fig = figures.compute(rows, NOW - timedelta(days=1), NOW + timedelta(hours=1), NOW, 0)
    assert fig.by_kecamatan == {"35.29.02": 2, "35.29.01": 1, "35.29.24": 1, "": 1}
    text = figures_text.render(fig, config, "Rekap")
    assert "Per kecamatan: Kalianget 2, Kota Sumenep 1, Arjasa 1, tanpa kecamatan 1" in text
    english = figures_text.render(fig, config, "Digest", "en")
    assert "By kecamatan: Kalianget 2, Kota Sumenep 1, Arjasa 1, no kecamatan 1" in english


def test_open311_publishes_the_kecamatan_instead_of_coordinates(config):
    named = open_data.PublicCase("SMP-1", "fire", "dispatched", ("damkar",), NOW, NOW, -7.02, 113.88, "35.29.02")
    report = open_data.georeport(named, config, "id")
    assert (report["address"], report["address_id"], report["lat"], report["long"]) == (
        "Kec. Kalianget, Kabupaten Sumenep", "35.29.02", None, None)
    unnamed = open_data.PublicCase("SMP-2", "fire", "dispatched", ("damkar",), NOW, NOW, -7.02, 113.88)
    assert open_data.georeport(unnamed, config, "id")["lat"] == -7.02  # nothing better: the coarse point


def test_the_deployment_gazetteer_knows_every_kecamatan_the_tests_use(config):
    places = for_config(config)
    assert places is not None
    assert [places.kecamatan_name(c) for c in ("35.29.01", "35.29.02", "35.29.05", "35.29.24")] == [
        "Kota Sumenep", "Kalianget", "Bluto", "Arjasa"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_dashboard_filter_case_page_and_open311_use_the_names(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        now = deps.clock.now()
        early = now - timedelta(hours=3)
        async with deps.sessions() as s, s.begin():
            pabian = await a_case(s, config, "SMP-51-51-51", "fire", early, verify_after=2, place=(-7.0236, 113.8745))
            name_place(pabian, config)
            lobuk = await a_case(s, config, "SMP-52-52-52", "fire", early, verify_after=2, place=None)
            lobuk.address_text = "rumah pak haji, desa Lobuk, Bluto"
            name_place(lobuk, config)
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        await sign_in(client, "op1")
        page = (await client.get("/dashboard")).text
        assert 'id="kecamatan-filter"' in page and '<option value="35.29.05">Bluto</option>' in page
        assert "SMP-51-51-51" in page and "SMP-52-52-52" in page
        only = (await client.get("/dashboard", params={"kecamatan": "35.29.05"})).text
        assert "SMP-52-52-52" in only and "SMP-51-51-51" not in only
        assert 'hx-get="/dashboard/rows?kecamatan=35.29.05"' in only
        rows = (await client.get("/dashboard/rows", params={"kecamatan": "35.29.05"})).text
        assert "SMP-52-52-52" in rows and "SMP-51-51-51" not in rows and ">Bluto<" in rows
        everything = (await client.get("/dashboard/rows", params={"kecamatan": "<script>"})).text
        assert "SMP-51-51-51" in everything and "SMP-52-52-52" in everything  # unknown code: no filter
        case_page = (await client.get("/dashboard/cases/SMP-51-51-51")).text
        assert "📍 Desa Pabian, Kec. Kota Sumenep (±" in case_page
        typed_page = (await client.get("/dashboard/cases/SMP-52-52-52")).text
        assert "📍 Desa Lobuk, Kec. Bluto (alamat diketik, dipastikan pelapor)" in typed_page
        found = {r["service_request_id"]: r for r in (await client.get("/open311/v2/requests.json")).json()}
        assert found["SMP-51-51-51"]["address"] == "Kec. Kota Sumenep, Kabupaten Sumenep"
        assert found["SMP-51-51-51"]["lat"] is None and found["SMP-52-52-52"]["address_id"] == "35.29.05"
        figures_page = (await client.get("/dashboard/figures")).text
        assert 'id="by-kecamatan"' in figures_page and "Kota Sumenep" in figures_page
