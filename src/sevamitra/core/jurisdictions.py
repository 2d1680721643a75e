"""Where a citizen lives and which office serves them.

Three levels under the state: district → mandal (rural) or urban local body (ULB) → village (rural)
or ward (urban). Every village and ward is served by a village or ward secretariat. Ids are
hierarchical (`ntr`, `ntr/vijayawada-rural`, `ntr/vijayawada-rural/nunna`), so a child's id is its
parent's id plus one slug and ids stay unique across districts.

Villages and wards may carry an area (see `core.areas`), so that a shared location finds the
place it lies in. Loaded from `catalogue/jurisdictions/` by an adapter; here only frozen, validated
types.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

from sevamitra.core.areas import Area, AreaIndex, Coordinates

Level = Literal["district", "mandal", "village"]

DISTRICT: Final = "district"
MANDAL: Final = "mandal"
VILLAGE: Final = "village"
WARD: Final = "ward"
URBAN_LOCAL_BODY_KINDS: Final = frozenset({"municipal_corporation", "municipality", "nagar_panchayat"})

KIND_LEVELS: Final[Mapping[str, Level]] = {
    DISTRICT: "district",
    MANDAL: "mandal",
    **dict.fromkeys(sorted(URBAN_LOCAL_BODY_KINDS), "mandal"),
    VILLAGE: "village",
    WARD: "village",
}
# The kinds a place of each kind may sit under (None: a district sits under the state itself).
_PARENT_KINDS: Final[Mapping[str, frozenset[str | None]]] = {
    DISTRICT: frozenset({None}),
    MANDAL: frozenset({DISTRICT}),
    **dict.fromkeys(sorted(URBAN_LOCAL_BODY_KINDS), frozenset({DISTRICT})),
    VILLAGE: frozenset({MANDAL}),
    WARD: frozenset(URBAN_LOCAL_BODY_KINDS),
}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """A district, mandal, urban local body, village or ward."""

    id: str
    kind: str
    names: Mapping[str, str]
    parent: str | None
    secretariat: str | None = None  # the village or ward secretariat serving a village or ward
    headquarters: Mapping[str, str] = field(default_factory=dict)

    def name(self, language: str) -> str:
        """The name in `language`, else English, else any."""
        return self.names.get(language) or self.names.get(_FALLBACK_LANGUAGE) or next(iter(self.names.values()), "")

    @property
    def level(self) -> Level:
        return KIND_LEVELS[self.kind]


class Chain(NamedTuple):
    """The ids from a district down to one village or ward: where a grievance from there is routed."""

    district: str
    mandal: str  # a mandal or an urban local body
    village: str  # a village or a ward


class JurisdictionError(ValueError):
    """The jurisdiction data contradicts itself; `place_id` names the offending place."""

    def __init__(self, place_id: str, problem: str) -> None:
        super().__init__(f"place {place_id!r}: {problem}")
        self.place_id = place_id


def normalise(text: str) -> str:
    """A name as typed, reduced for matching: NFC, casefolded, without spaces, dots, hyphens and the like."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LMN")


_ASPIRATE = re.compile(r"([bcdgkpst])h")
_LONG_VOWEL = re.compile(r"(aa|ee|ii|oo|uu)")
_REPEAT = re.compile(r"([a-z])\1+")


def romanised_key(text: str) -> str:
    """A loose key for Telugu names in Latin letters: `Tirupathi`, `Thirupati` and `Tirupati` agree."""
    key = normalise(text)
    if not key.isascii():
        return key
    key = _ASPIRATE.sub(r"\1", key.replace("w", "v"))
    key = _LONG_VOWEL.sub(lambda m: "i" if m.group(1) == "ee" else m.group(1)[0], key)
    key = _REPEAT.sub(r"\1", key)
    return key[:-1] if len(key) > 4 and key.endswith("u") else key  # Gunturu → Guntur


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts `Ward 2` before `Ward 10`."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text.casefold()) if part
    )


_Keys = tuple[frozenset[str], frozenset[str]]  # names as typed (normalised), and their loose romanised keys
_HEADQUARTERS: Final = 6  # a match on a place's headquarters ranks after every match on its own name
_NO_MATCH: Final = 12


def _keys(names: Mapping[str, str]) -> _Keys:
    return (
        frozenset(normalise(name) for name in names.values()) - {""},
        frozenset(romanised_key(name) for name in names.values()) - {""},
    )


def _score(query: str, loose: str, keys: _Keys) -> int:
    """0 exact, 2 prefix, 4 substring; one more for a match of the loose keys only; `_NO_MATCH` otherwise."""
    if not keys[0]:
        return _NO_MATCH
    best = _NO_MATCH
    for rank, (needle, haystack) in enumerate(((query, keys[0]), (loose, keys[1]))):
        if needle in haystack:
            return rank
        if any(key.startswith(needle) for key in haystack):
            best = min(best, 2 + rank)
        elif any(needle in key for key in haystack):
            best = min(best, 4 + rank)
    return best


def _validate(place: Place, by_id: Mapping[str, Place]) -> None:
    if place.kind not in KIND_LEVELS:
        raise JurisdictionError(place.id, f"unknown kind {place.kind!r}; expected one of {', '.join(KIND_LEVELS)}")
    if not place.names.get("en"):
        raise JurisdictionError(place.id, "needs an English name")
    parent = None if place.parent is None else by_id.get(place.parent)
    if place.parent is not None and parent is None:
        raise JurisdictionError(place.id, f"parent {place.parent!r} does not exist")
    parent_kind = None if parent is None else parent.kind
    if parent_kind not in _PARENT_KINDS[place.kind]:
        where = "the state" if parent is None else f"a {parent_kind} ({parent.id!r})"
        raise JurisdictionError(place.id, f"a {place.kind} cannot sit under {where}")
    prefix = "" if place.parent is None else place.parent + "/"
    slug = place.id.removeprefix(prefix)
    if not place.id.startswith(prefix) or not _SLUG.fullmatch(slug):
        raise JurisdictionError(place.id, f"id must be {prefix}<slug> with a lowercase kebab-case slug")
    needs_secretariat = KIND_LEVELS[place.kind] == "village"
    if needs_secretariat and not place.secretariat:
        raise JurisdictionError(place.id, f"a {place.kind} needs the id of the secretariat serving it")
    if not needs_secretariat and place.secretariat is not None:
        raise JurisdictionError(place.id, f"a {place.kind} has no secretariat of its own")


class Jurisdictions:
    """The registry of places: validated once, indexed once, then read only."""

    __slots__ = ("_area_index", "_areas", "_by_id", "_children", "_districts", "_index")

    def __init__(self, places: Iterable[Place], areas: Iterable[Area] = ()) -> None:
        by_id: dict[str, Place] = {}
        for place in places:
            if place.id in by_id:
                raise JurisdictionError(place.id, "duplicate id")
            by_id[place.id] = place
        children: dict[str, list[Place]] = {place_id: [] for place_id in by_id}
        districts: list[Place] = []
        for place in by_id.values():
            _validate(place, by_id)
            (districts if place.parent is None else children[place.parent]).append(place)

        def order(p: Place) -> tuple[tuple[tuple[int, int | str], ...], str]:
            return _natural(p.names["en"]), p.id

        self._by_id: Mapping[str, Place] = by_id
        self._districts = tuple(sorted(districts, key=order))
        self._children: Mapping[str, tuple[Place, ...]] = {k: tuple(sorted(v, key=order)) for k, v in children.items()}
        self._index = tuple(
            (place, _keys(place.names), _keys(place.headquarters), place.id.count("/"), order(place))
            for place in by_id.values()
        )
        self._areas = _areas_by_place(areas, by_id)
        self._area_index = AreaIndex(a for a in self._areas.values() if by_id[a.place_id].level == "village")

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._by_id

    def __iter__(self) -> Iterator[Place]:
        return iter(self._by_id.values())

    def get(self, place_id: str) -> Place | None:
        return self._by_id.get(place_id)

    def _require(self, place_id: str) -> Place:
        try:
            return self._by_id[place_id]
        except KeyError:
            raise KeyError(f"no place {place_id!r}") from None

    def districts(self) -> tuple[Place, ...]:
        """All districts, by English name."""
        return self._districts

    def children(self, place_id: str) -> tuple[Place, ...]:
        """The places directly under `place_id`, by English name (wards in number order)."""
        self._require(place_id)
        return self._children[place_id]

    def path(self, place_id: str) -> tuple[Place, ...]:
        """The district, then each place down to `place_id` itself."""
        chain = [self._require(place_id)]
        while chain[-1].parent is not None:
            chain.append(self._by_id[chain[-1].parent])
        return tuple(reversed(chain))

    def level_of(self, place_id: str) -> Level:
        """`district`, `mandal` (ULBs too) or `village` (wards too)."""
        return self._require(place_id).level

    def is_complete(self, district_id: str) -> bool:
        """Whether the district's mandals and ULBs are loaded (not only its name)."""
        return self._require(district_id).kind == DISTRICT and bool(self._children[district_id])

    def find(self, text: str, *, within: str | None = None, limit: int = 5) -> list[Place]:
        """Places whose name in any language matches `text`: exact, then prefix, then substring.

        Latin spellings of Telugu names match loosely (`Tirupathi`, `Gunturu`). `within` keeps only
        places under that place; ties go to the higher level, then to the English name.
        """
        query = normalise(text)
        if not query or limit <= 0:
            return []
        loose = romanised_key(text)
        if within is not None:
            self._require(within)
        prefix = None if within is None else within + "/"
        ranked = []
        for place, own, headquarters, depth, order in self._index:
            if prefix is not None and not place.id.startswith(prefix):
                continue
            score = _score(query, loose, own)
            if score == _NO_MATCH:
                score = min(_NO_MATCH, _HEADQUARTERS + _score(query, loose, headquarters))
            if score < _NO_MATCH:
                ranked.append(((score, depth, order), place))
        ranked.sort(key=lambda r: r[0])
        return [p for _, p in ranked[:limit]]

    def chain(self, place_id: str) -> Chain:
        """The (district, mandal or ULB, village or ward) ids of a village or ward."""
        path = self.path(place_id)
        if len(path) != len(Chain._fields):
            raise ValueError(f"{place_id!r} is a {path[-1].kind}, not a village or ward")
        district, mandal, village = (place.id for place in path)
        return Chain(district, mandal, village)

    def area(self, place_id: str) -> Area | None:
        """The place's area, if the geometry gives one."""
        self._require(place_id)
        return self._areas.get(place_id)

    def centre(self, place_id: str) -> Coordinates | None:
        """A point well inside the place's area (`Area.centre`), or None without an area."""
        area = self.area(place_id)
        return None if area is None else area.centre()

    def locate(self, latitude: float, longitude: float) -> Place | None:
        """The village or ward whose area holds the point; None outside every one.

        A point on the edge between two villages goes to exactly one of them, always the same.
        """
        area = self._area_index.locate(latitude, longitude)
        return None if area is None else self._by_id[area.place_id]

    def without_area(self) -> tuple[Place, ...]:
        """The villages and wards that have no area, by id: empty once the geometry covers them all."""
        return tuple(sorted((p for p in self if p.level == "village" and p.id not in self._areas), key=lambda p: p.id))


def _areas_by_place(areas: Iterable[Area], by_id: Mapping[str, Place]) -> Mapping[str, Area]:
    found: dict[str, Area] = {}
    for area in areas:
        if area.place_id not in by_id:
            raise JurisdictionError(area.place_id, "has an area but is not a known place")
        if area.place_id in found:
            raise JurisdictionError(area.place_id, "has two areas")
        found[area.place_id] = area
    return found
