"""The deployment file: the example loads, and every mistake is reported as one line naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pydantic
import pytest
import yaml

from core.config import ConfigError, Deployment, LocalizedName, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "sumenep.yaml"

MINIMAL = {
    "region": {"name": "Kabupaten Sumenep", "bounds": [-7.5, 113.5, -4.85, 116.35]},
    "operators": {
        "telegram_chat_id": -1001000000001,
        "members": [{"name": "Operator Satu", "telegram_user_id": 1001, "whatsapp": "6281200000001"}],
    },
    "agencies": [
        {"code": "damkar", "name": {"id": "Pemadam Kebakaran", "en": "Fire brigade"},
         "telegram_chat_id": -1001000000101},
        {"code": "pdam", "name": {"id": "PDAM", "en": "Water utility"}, "telegram_chat_id": -1001000000102},
    ],
    "incident_types": [
        {"code": "fire", "name": {"id": "Kebakaran", "en": "Fire"}, "urgent": True, "sla_minutes": 5,
         "agencies": ["damkar"]},
        {"code": "other", "name": {"id": "Lainnya", "en": "Other"}, "agencies": ["damkar", "pdam"]},
    ],
}


@pytest.fixture(scope="module")
def example() -> Deployment:
    return load_config(EXAMPLE)


# --- the example deployment ------------------------------------------------------------------------


def test_example_has_the_sumenep_agencies_and_types(example: Deployment) -> None:
    assert [a.code for a in example.agencies] == ["damkar", "psc119", "polres", "bpbd", "pdam", "dlh",
                                                  "basarnas", "polairud", "pln"]
    assert [t.code for t in example.incident_types] == [
        "fire", "traffic_accident", "medical", "boat_accident", "sea_missing", "live_wire",  # urgent first: the menu's
        "crime", "flood", "landslide", "fallen_tree", "water_outage", "drought_water", "other",  # first page
    ]
    assert example.region.timezone == "Asia/Jakarta"
    assert example.region.default_language == "id"
    assert example.region.ticket_prefix == "SMN"
    assert example.warnings() == []


def test_example_urgent_types_are_the_five_minute_ones(example: Deployment) -> None:
    urgent = {t.code: t.sla_minutes for t in example.incident_types if t.urgent}
    assert urgent == {"fire": 5, "traffic_accident": 5, "medical": 5, "boat_accident": 5, "sea_missing": 5,
                      "live_wire": 15}  # a fallen live wire: urgent, PLN's duty crew within a quarter of an hour


def test_example_routing(example: Deployment) -> None:
    assert example.incident_type("fire").agencies == ["damkar"]
    assert example.incident_type("traffic_accident").agencies == ["psc119", "polres"]
    assert example.incident_type("fallen_tree").photo == "required"
    assert example.incident_type("fallen_tree").urgent is False
    assert example.incident_type("medical").photo == "none"
    assert example.incident_type("nope") is None
    assert example.agency("pdam").name.get("en") == "Water utility (PDAM)"
    assert example.agency("nope") is None
    assert example.conversation.reminder_minutes == 5 and example.conversation.expire_minutes == 60
    assert example.limits.max_photo_mb == 10


def test_example_operators_leadership_and_members(example: Deployment) -> None:
    assert example.operators.telegram_chat_id < 0
    assert example.is_operator("telegram", "1001")
    assert example.is_operator("whatsapp", "6281200000001")
    assert not example.is_operator("telegram", "2001")  # leadership is informed, not an operator
    assert not example.is_operator("sms", "1001")
    assert {m.role for m in example.leadership} >= {"kepala_dinas", "kabid", "bupati"}
    assert example.is_agency_member("damkar", "telegram", "3001")
    assert not example.is_agency_member("pdam", "telegram", "3001")
    assert not example.is_agency_member("nope", "telegram", "3001")


def test_region_contains(example: Deployment) -> None:
    region = example.region
    assert region.contains(-7.0167, 113.8667)  # Kota Sumenep
    assert region.contains(-5.5, 114.43)  # Masalembu
    assert region.contains(-6.95, 115.8)  # Sapeken
    assert not region.contains(-7.25, 112.75)  # Surabaya
    assert not region.contains(-8.65, 115.22)  # Denpasar, Bali


# --- the models ------------------------------------------------------------------------------------


def test_localized_name_falls_back_to_indonesian() -> None:
    name = LocalizedName(id="Kebakaran", en="Fire")
    assert name.get("en") == "Fire"
    assert name.get("en-US") == "Fire"
    assert name.get("id") == "Kebakaran"
    assert name.get("jv") == "Kebakaran"


def test_defaults_and_forgiving_whatsapp() -> None:
    data = copy.deepcopy(MINIMAL)
    data["operators"]["members"][0]["whatsapp"] = 6281200000001  # unquoted in YAML
    data["leadership"] = None  # every entry commented out
    deployment = parse_config(data)
    assert deployment.operators.members[0].whatsapp == "6281200000001"
    assert deployment.leadership == []
    assert deployment.region.timezone == "Asia/Jakarta"
    assert deployment.region.ticket_prefix == "SPG"
    assert deployment.region.emergency_number == "112"
    assert deployment.conversation.expire_minutes == 60
    assert deployment.limits.max_description_chars == 1000
    assert deployment.incident_type("other").photo == "optional"


def test_models_are_frozen() -> None:
    deployment = parse_config(copy.deepcopy(MINIMAL))
    with pytest.raises(pydantic.ValidationError):
        deployment.region.name = "Elsewhere"


def test_warnings_for_legal_but_odd_choices() -> None:
    data = copy.deepcopy(MINIMAL)
    data["incident_types"].pop()  # no "other", and pdam no longer used
    data["agencies"].append({"code": "dlh", "name": {"id": "DLH", "en": "Environment"}})
    assert parse_config(data).warnings() == [
        "incident_types: no type with code 'other'; citizens whose emergency fits no type cannot report it",
        "agencies[1]: 'pdam' is not listed by any incident type",
        "agencies[2]: 'dlh' has no telegram_chat_id and no members, so nobody receives its tasks",
        "agencies[2]: 'dlh' is not listed by any incident type",
    ]


def test_example_is_fit_for_an_island_regency(example: Deployment) -> None:
    for code in ("boat_accident", "sea_missing"):
        sea = example.incident_type(code)
        assert (sea.agencies, sea.urgent, sea.major) == (["basarnas", "polairud"], True, True), code
    assert example.incident_type("live_wire").agencies == ["pln"] and example.incident_type("live_wire").urgent
    assert example.incident_type("drought_water").agencies == ["bpbd"]
    assert example.incident_type("other").agencies == []  # the operator chooses
    assert {t.code for t in example.incident_types if t.major} == {"fire", "boat_accident", "sea_missing"}
    assert 60 in example.cases.eta_choices and [m for m in example.cases.eta_choices if m > 60] == [90]


def test_example_names_every_type_and_agency_in_three_languages(example: Deployment) -> None:
    for kind in example.incident_types:
        assert kind.name.mad and kind.short and kind.describe, kind.code
        assert all(text and len(text) <= 24 for text in (kind.short.id, kind.short.en, kind.short.mad)), kind.code
        assert kind.describe.mad and kind.describe.get("en") != kind.describe.get("id"), kind.code
    assert all(agency.name.mad for agency in example.agencies)
    assert example.incident_type("sea_missing").name.get("mad") == "Orèng ilang/kellem è tasè'"


def test_example_leaders_hear_what_they_asked_for(example: Deployment) -> None:
    bupati, = example.leaders("bupati")
    kabid, = example.leaders("kabid")
    water, sea = example.incident_type("water_outage"), example.incident_type("sea_missing")
    assert bupati.notify == ["digest", "major"] and bupati.hears("digest") and not bupati.hears("breach")
    assert not bupati.hears_new(water.urgent, water.major)  # not every water complaint at 2 a.m.
    assert not bupati.hears_new(True, False)                # nor every ambulance
    assert bupati.hears_new(sea.urgent, sea.major)
    assert kabid.notify == ["new", "urgent", "major", "breach", "digest"]  # unset: everything, as before
    assert kabid.hears_new(False, False)
    head, = example.leaders("kepala_dinas")
    assert head.hears_new(True, False) and not head.hears_new(False, False) and head.hears("breach")


def test_a_non_urgent_type_may_leave_the_agency_to_the_operator() -> None:
    data = copy.deepcopy(MINIMAL)
    data["incident_types"].append({"code": "odd", "name": {"id": "Aneh", "en": "Odd"}, "agencies": []})
    data["incident_types"][1]["agencies"] = []
    deployment = parse_config(data)
    assert deployment.incident_type("other").agencies == [] and deployment.incident_type("odd").agencies == []
    notes = [note for note in deployment.warnings() if note.startswith("incident_types")]
    assert notes == ["incident_types[2].agencies: 'odd' has none, so an operator must pick the "
                     "agencies of every such report"]  # "other" is the usual one: no warning


def test_an_escalation_nobody_takes_is_a_warning() -> None:
    data = copy.deepcopy(MINIMAL)
    data["leadership"] = [{"role": "kabid", "name": "Kabid", "telegram_user_id": 2002, "notify": ["digest"]},
                          {"role": "kepala_dinas", "name": "Kadis", "telegram_user_id": 2001}]
    notes = parse_config(data).warnings()
    assert notes == ["clock.escalate[0].role: every 'kabid' leader leaves out 'breach' from notify, "
                     "so nobody gets this alert"]


# --- bad documents ---------------------------------------------------------------------------------


def _set(path: str, value):
    """A mutation that sets MINIMAL[path] (dotted, with list indexes as numbers) to value."""

    def mutate(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        data[last] = value

    return mutate


def _delete(path: str):
    def mutate(data: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        del data[last]

    return mutate


BAD_DOCUMENTS = [
    pytest.param(_set("conversaton", {"reminder_minutes": 5}),
                 "conversaton: unknown key (did you mean 'conversation'?)", id="top-level-typo"),
    pytest.param(_set("agencies.0.telegram_chatid", -100),
                 "agencies[0].telegram_chatid: unknown key (did you mean 'telegram_chat_id'?)", id="nested-typo"),
    pytest.param(_delete("incident_types.0.agencies"),
                 "incident_types[0].agencies: is required", id="missing-incident-agencies"),
    pytest.param(_set("incident_types.0.agencies", []),
                 "incident_types[0].agencies: must name at least one agency when urgent is true (only a non-urgent "
                 "type may leave the choice to the operator)", id="empty-urgent-incident-agencies"),
    pytest.param(_set("cases", {"eta_choices": [5, 30, 60, 90, 120]}),
                 "cases.eta_choices: at most one choice above 60 minutes: it is shown as 'more than an hour' "
                 "(got [5, 30, 60, 90, 120])", id="two-eta-choices-over-an-hour"),
    pytest.param(_set("cases", {"eta_choices": [5, 10, 10]}),
                 "cases.eta_choices: a choice is listed twice (got [5, 10, 10])", id="eta-choice-twice"),
    pytest.param(_set("leadership", [{"role": "bupati", "name": "Bupati", "telegram_user_id": 2003,
                                      "notify": ["digest", "everything"]}]),
                 "leadership[0].notify[1]: must be 'new', 'urgent', 'major', 'breach' or 'digest' (got 'everything')",
                 id="unknown-leader-notice"),
    pytest.param(_set("incident_types.1.agencies", ["damkar", "xyz"]),
                 "incident_types[1].agencies[1]: unknown agency 'xyz'", id="unknown-agency"),
    pytest.param(_set("incident_types.1.agencies", ["damkr"]),
                 "incident_types[1].agencies[0]: unknown agency 'damkr' (did you mean 'damkar'?)", id="agency-typo"),
    pytest.param(_set("agencies.1.telegram_chat_id", 5),
                 "agencies[1].telegram_chat_id: must be a negative group chat id (got 5)", id="positive-agency-chat"),
    pytest.param(_set("operators.telegram_chat_id", 42),
                 "operators.telegram_chat_id: must be a negative group chat id (got 42)", id="positive-operators-chat"),
    pytest.param(_delete("incident_types.0.sla_minutes"),
                 "incident_types[0].sla_minutes: is required when urgent is true", id="urgent-without-sla"),
    pytest.param(_set("incident_types.0.sla_minutes", 0),
                 "incident_types[0].sla_minutes: must be greater than 0 (got 0)", id="zero-sla"),
    pytest.param(_set("region.timezone", "Asia/Jakart"),
                 "region.timezone: unknown time zone 'Asia/Jakart' "
                 "(use an IANA name: Asia/Jakarta, Asia/Makassar or Asia/Jayapura)", id="bad-timezone"),
    pytest.param(_set("region.default_language", "jv"),
                 "region.default_language: must be 'id' or 'en' (got 'jv')", id="bad-language"),
    pytest.param(_set("region.bounds", [-4.85, 113.5, -7.5, 116.35]),
                 "region.bounds: lat_min must be less than lat_max (got -4.85 >= -7.5)", id="bounds-swapped"),
    pytest.param(_set("region.bounds", [-7.5, 113.5, -4.85]),
                 "region.bounds: must be [lat_min, lon_min, lat_max, lon_max] (got [-7.5, 113.5, -4.85])",
                 id="bounds-three-numbers"),
    pytest.param(_set("region.bounds", [-7.5, 213.5, -4.85, 216.35]),
                 "region.bounds: lon_min must be between -180 and 180 (got 213.5)", id="bounds-out-of-range"),
    pytest.param(_set("region.ticket_prefix", "smp"),
                 "region.ticket_prefix: must be 2-4 capital letters (got 'smp')", id="bad-prefix"),
    pytest.param(_set("agencies.1.code", "damkar"),
                 "agencies[1].code: duplicate agency code 'damkar' (already used by agencies[0])",
                 id="duplicate-agency"),
    pytest.param(_set("incident_types.1.code", "fire"),
                 "incident_types[1].code: duplicate incident type code 'fire' (already used by incident_types[0])",
                 id="duplicate-incident-type"),
    pytest.param(_set("incident_types.1.agencies", ["damkar", "pdam", "damkar"]),
                 "incident_types[1].agencies[2]: 'damkar' is listed twice", id="agency-listed-twice"),
    pytest.param(_set("agencies.0.code", "Damkar"),
                 "agencies[0].code: must be 1-32 characters of a-z, 0-9 and _ (got 'Damkar')", id="bad-code"),
    pytest.param(_set("agencies.0.name", {"id": "Pemadam Kebakaran"}),
                 "agencies[0].name.en: is required", id="missing-english-name"),
    pytest.param(_set("agencies.0.name", {"id": "  ", "en": "Fire brigade"}),
                 "agencies[0].name.id: must not be empty", id="blank-name"),
    pytest.param(_set("incident_types.0.photo", "yes"),
                 "incident_types[0].photo: must be 'required', 'optional' or 'none' (got 'yes')", id="bad-photo"),
    pytest.param(_set("incident_types.0.urgent", "maybe"),
                 "incident_types[0].urgent: must be true or false (got 'maybe')", id="bad-bool"),
    pytest.param(_set("operators.members", []),
                 "operators.members: must not be empty", id="no-operators"),
    pytest.param(_set("operators.members.0", {"name": "Operator Satu"}),
                 "operators.members[0]: needs a telegram_user_id or a whatsapp number", id="person-without-ids"),
    pytest.param(_set("operators.members.0.whatsapp", "081200000001"),
                 "operators.members[0].whatsapp: must start with the country code 62, not 0 (got '081200000001')",
                 id="whatsapp-leading-zero"),
    pytest.param(_set("operators.members.0.whatsapp", "62-812"),
                 "operators.members[0].whatsapp: must be 8-15 digits with the country code, "
                 "e.g. \"6281234567890\" (got '62-812')", id="whatsapp-not-digits"),
    pytest.param(_set("operators.members.0.telegram_user_id", -1001),
                 "operators.members[0].telegram_user_id: must be a positive Telegram user id (got -1001)",
                 id="negative-user-id"),
    pytest.param(_set("operators.members.0.telegram_user_id", "abc"),
                 "operators.members[0].telegram_user_id: must be a whole number (got 'abc')", id="user-id-not-number"),
    pytest.param(_set("leadership", [{"name": "Bupati Sumenep", "telegram_user_id": 2003}]),
                 "leadership[0].role: is required", id="leader-without-role"),
    pytest.param(_set("conversation", {"reminder_minutes": 60, "expire_minutes": 30}),
                 "conversation.expire_minutes: must be greater than reminder_minutes (60) (got 30)",
                 id="expire-before-reminder"),
    pytest.param(_set("limits", {"max_photo_mb": -1}),
                 "limits.max_photo_mb: must be greater than 0 (got -1)", id="negative-photo-limit"),
    pytest.param(_set("incident_types", []), "incident_types: must not be empty", id="no-incident-types"),
    pytest.param(_delete("region"), "region: is required", id="missing-region"),
    pytest.param(_set("agencies", {"code": "damkar"}),
                 "agencies: must be a list (got {'code': 'damkar'})", id="agencies-not-a-list"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD_DOCUMENTS)
def test_bad_document_is_one_line_naming_the_key(tmp_path: Path, mutate, expected: str) -> None:
    data = copy.deepcopy(MINIMAL)
    mutate(data)
    path = tmp_path / "sumenep.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {expected}"
    assert "\n" not in str(caught.value)


def test_the_minimal_document_itself_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "sumenep.yaml"
    path.write_text(yaml.safe_dump(MINIMAL), encoding="utf-8")
    assert load_config(path).agency("pdam").telegram_chat_id == -1001000000102


BAD_FILES = [
    pytest.param("region:\n  name: Sumenep\n  bounds [1, 2, 3, 4]\noperators: {}\n",
                 "YAML syntax error at line 4, column 1: could not find expected ':' "
                 "(while scanning a simple key at line 3, column 3)", id="syntax-error"),
    pytest.param("region:\n  name: Sumenep\nagencies: []\nagencies: []\n",
                 "YAML syntax error at line 4, column 1: duplicate key 'agencies'", id="duplicate-yaml-key"),
    pytest.param("", "file is empty", id="empty"),
    pytest.param("# only comments\n", "file is empty", id="only-comments"),
    pytest.param("- region\n- agencies\n",
                 "must be a mapping of keys such as region: and agencies: (got list)", id="not-a-mapping"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sumenep.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {expected}"
    assert "\n" not in str(caught.value)


def test_yaml_error_carries_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sumenep.yaml"
    path.write_text("region:\n  name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line is not None and "line " in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found$"):
        load_config(path)


def test_error_parts_are_exposed() -> None:
    data = copy.deepcopy(MINIMAL)
    data["agencies"][1]["telegram_chat_id"] = 5
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "sumenep.yaml")
    err = caught.value
    assert str(err) == "sumenep.yaml: agencies[1].telegram_chat_id: must be a negative group chat id (got 5)"
    assert (err.source, err.key, err.message) == (
        "sumenep.yaml", "agencies[1].telegram_chat_id", "must be a negative group chat id (got 5)")


def test_parse_config_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^<config>: must be a mapping"):
        parse_config(["region"])  # type: ignore[arg-type]


# --- the public web chat's limits (issue 12) ------------------------------------------------------------


def test_example_documents_the_web_chat_limits(example: Deployment) -> None:
    web = example.web
    assert (web.window_minutes, web.reports_per_address) == (10, 10)  # at most 10 web reports per address per 10 min
    assert web.reports_overall >= web.reports_per_address and web.chats_overall >= web.chats_per_address
    assert example.privacy.staging_minutes == 120
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in web.model_dump():  # every key is in the file, with a comment
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{key}:"))
        assert "#" in line, key
    assert parse_config(MINIMAL, "x.yaml").web == example.web.__class__()  # all optional, same defaults


@pytest.mark.parametrize(("web", "expected"), [
    ({"reports_per_address": 0}, "web.reports_per_address: must be greater than 0 (got 0)"),
    ({"reports_per_address": 80}, "web.reports_per_address: must not be greater than reports_overall (60) (got 80)"),
    ({"chats_per_adress": 3}, "web.chats_per_adress: unknown key (did you mean 'chats_per_address'?)"),
])
def test_bad_web_limits_are_one_line_naming_the_key(web: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**copy.deepcopy(MINIMAL), "web": web}, "sumenep.yaml")
    assert str(caught.value) == f"sumenep.yaml: {expected}"
