"""Where the emergency is, in the regency's own names: a pin named by its desa, a typed place confirmed.

The gazetteer (core/gazetteer.py, given to the step as `Context.places`) answers two questions: which desa a
typed text names (`match`) and which desa a pin falls in or is nearest to (`name_pin`). A typed place that
matches is confirmed with the citizen ("Maksud Anda: Desa Pabian, Kec. Kota Sumenep?"); "Bukan" or no match keeps
the text as typed and flags it for the operator (`typed_unmatched`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Protocol, cast

from core import gazetteer
from core.i18n import t
from core.messages import Choice, GeoPoint
from workflows.context import Context
from workflows.conversation_state import Draft


class Place(Protocol):
    @property
    def desa(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def desa_code(self) -> str: ...
    @property
    def kecamatan_code(self) -> str: ...
    @property
    def kind(self) -> str: ...


class Match(Protocol):
    @property
    def place(self) -> Place: ...


class Named(Protocol):
    @property
    def place(self) -> Place: ...
    @property
    def inside(self) -> bool: ...
    @property
    def distance_m(self) -> float | None: ...


class Places(Protocol):
    """What the flow needs of core.gazetteer.Gazetteer."""

    def match(self, text: str) -> Match | None: ...
    def name_pin(self, lat: float, lon: float) -> Named | None: ...


def places(ctx: Context) -> Places | None:
    return cast("Places | None", ctx.places)


def label(lang: str, place: Place) -> str:
    """"Desa Pabian, Kec. Kota Sumenep", "Kel. …" or "Kec. Kalianget" (a kecamatan named alone)."""
    return gazetteer.label(lang, place.desa or None, place.kind, place.kecamatan)


def typed(d: Draft, text: str, lang: str, ctx: Context) -> Draft:
    """Keep a typed location; when the gazetteer knows it, hold its desa for the citizen to confirm
    (`place_match` None until then)."""
    found = g.match(text) if (g := places(ctx)) is not None else None
    d = replace(d, address=text, desa_code=None, kecamatan_code=None, place_label=None, place_distance_m=None)
    if found is None:
        return replace(d, place_match="typed_unmatched") if d.latitude is None else d
    p = found.place
    return replace(d, desa_code=p.desa_code or None, kecamatan_code=p.kecamatan_code, place_label=label(lang, p),
                   place_match=None)


def pinned(d: Draft, point: GeoPoint, lang: str, ctx: Context) -> Draft:
    """Keep a pin and the desa it falls in (or the nearest one, with the distance)."""
    d = replace(d, latitude=point.latitude, longitude=point.longitude, accuracy_m=point.accuracy_m)
    named = g.name_pin(point.latitude, point.longitude) if (g := places(ctx)) is not None else None
    if named is None:
        return replace(d, desa_code=None, kecamatan_code=None, place_label=None, place_match=None,
                       place_distance_m=None)
    p = named.place
    return replace(d, desa_code=p.desa_code or None, kecamatan_code=p.kecamatan_code, place_label=label(lang, p),
                   place_match="pin_inside" if named.inside else "pin_nearest",
                   place_distance_m=None if named.inside else named.distance_m)


def pending(d: Draft) -> bool:
    """A typed place was found in the gazetteer and the citizen has not said yes or no yet."""
    return d.latitude is None and d.address is not None and d.kecamatan_code is not None and d.place_match is None


def confirmed(d: Draft, yes: bool) -> Draft:
    """"Ya": the desa is the place; "Bukan": the text stays as typed, for the operator to place."""
    if yes:
        return replace(d, place_match="typed_confirmed")
    return replace(d, desa_code=None, kecamatan_code=None, place_label=None, place_match="typed_unmatched")


def place_choices(lang: str) -> tuple[Choice, ...]:
    return (Choice("place:yes", t(lang, "talk.button_yes")), Choice("place:no", t(lang, "talk.button_not_it")))


def question(lang: str, d: Draft) -> str:
    return t(lang, "talk.place_confirm", place=d.place_label or "")


def summary_line(lang: str, d: Draft) -> str:
    """The location as the summary shows it: never raw coordinates."""
    if d.latitude is not None:
        pin = t(lang, "talk.summary_pin")
        return f"{pin} ({pin_place(lang, d)})" if d.place_label else pin
    text = d.address or "-"
    return f"{text} ({d.place_label})" if d.place_label and d.place_match == "typed_confirmed" else text


def received_line(lang: str, d: Draft) -> str:
    """Said when a pin arrives: where we think it is."""
    if d.place_label:
        return t(lang, "talk.pin_named", place=pin_place(lang, d))
    return t(lang, "talk.pin_received")


def pin_place(lang: str, d: Draft) -> str:
    """The pin's desa, "near" it when the pin is only closest to its centre."""
    label = d.place_label or ""
    return t(lang, "talk.place_near", place=label) if d.place_match == "pin_nearest" else label
