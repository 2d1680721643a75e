"""Areas on the map: where a village or ward lies, and which one holds a shared location.

Positions are stored in GeoJSON order, `(longitude, latitude)` in degrees (WGS 84), but every
method here takes `latitude, longitude`, the order in which WhatsApp sends a location. The geometry
is planar (degrees as if flat): right at the size of a village, wrong only across the antimeridian.

A point on an edge shared by two areas belongs to exactly one of them. The crossing test is
half-open (an edge counts when it spans the point's latitude from its lower end inclusive to its
upper end exclusive, and lies strictly east of the point), and every edge is computed from its
lower end whichever way its ring runs, so two neighbours sharing an edge agree to the bit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median
from typing import Final, NamedTuple

Position = tuple[float, float]  # (longitude, latitude): GeoJSON order
Ring = tuple[Position, ...]  # closed: the first position repeats as the last

_MIN_RING: Final = 4  # a triangle and its closing position
_MIN_CELL: Final = 1e-4  # degrees (about 11 m): the finest grid the index will use
_SCAN_FRACTIONS: Final = (0.5, 0.25, 0.75, 0.375, 0.625, 0.125, 0.875)


class AreaError(ValueError):
    """The geometry of an area is unusable; the message says where and why."""


class Coordinates(NamedTuple):
    """A point as a citizen shares it: latitude first."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Box:
    """A bounding box in degrees."""

    west: float
    south: float
    east: float
    north: float

    def holds(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east

    @classmethod
    def around(cls, positions: Iterable[Position]) -> Box:
        longitudes, latitudes = zip(*positions, strict=True)
        return cls(min(longitudes), min(latitudes), max(longitudes), max(latitudes))


def _ring_problem(ring: Ring) -> str | None:
    """Why `ring` is unusable, or None."""
    if len(ring) < _MIN_RING:
        return f"has {len(ring)} positions; a ring needs at least {_MIN_RING}"
    if ring[0] != ring[-1]:
        return "is not closed: its first and last positions differ"
    for longitude, latitude in ring:
        if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):  # also refuses NaN
            return f"has position [{longitude}, {latitude}] outside [-180..180, -90..90]"
    if _signed_area(ring) == 0:
        return "encloses no area"
    return None


def _signed_area(ring: Ring) -> float:
    """Twice the shoelace area: positive when the ring runs anticlockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring))


def _inside_ring(ring: Ring, x: float, y: float) -> bool:
    """Ray casting eastwards from (x, y), half-open as the module docstring describes."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y):
            if y1 > y2:  # from the lower end, so a neighbour running the other way agrees exactly
                x1, y1, x2, y2 = x2, y2, x1, y1
            if x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _crossings(ring: Ring, y: float) -> Iterator[float]:
    """The longitudes where the parallel at latitude `y` crosses `ring`, by the same half-open rule."""
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y):
            if y1 > y2:
                x1, y1, x2, y2 = x2, y2, x1, y1
            yield x1 + (y - y1) * (x2 - x1) / (y2 - y1)


@dataclass(frozen=True, slots=True)
class Polygon:
    """An outer ring and the holes cut out of it."""

    exterior: Ring
    holes: tuple[Ring, ...] = ()
    box: Box = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for number, ring in enumerate((self.exterior, *self.holes)):
            problem = _ring_problem(ring)
            if problem:
                which = "the exterior" if number == 0 else f"hole {number}"
                raise AreaError(f"ring {number} ({which}) {problem}")
        object.__setattr__(self, "box", Box.around(self.exterior))

    def holds(self, latitude: float, longitude: float) -> bool:
        """Whether the point lies inside the exterior and inside no hole."""
        return (
            self.box.holds(latitude, longitude)
            and _inside_ring(self.exterior, longitude, latitude)
            and not any(_inside_ring(hole, longitude, latitude) for hole in self.holes)
        )

    def size(self) -> float:
        """The planar area in square degrees, holes taken out."""
        return (abs(_signed_area(self.exterior)) - sum(abs(_signed_area(h)) for h in self.holes)) / 2

    def widest_span(self, latitude: float) -> tuple[float, float]:
        """The widest stretch of the parallel at `latitude` inside the polygon, as (west, east)."""
        xs = sorted(x for ring in (self.exterior, *self.holes) for x in _crossings(ring, latitude))
        spans = list(zip(xs[::2], xs[1::2], strict=True))
        return max(spans, key=lambda span: span[1] - span[0], default=(0.0, 0.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Area:
    """The land of one place: one polygon or several (a GeoJSON Polygon or MultiPolygon)."""

    place_id: str
    polygons: tuple[Polygon, ...]
    box: Box = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.polygons:
            raise AreaError("has no polygons")
        boxes = [p.box for p in self.polygons]
        corners = [*((b.west, b.south) for b in boxes), *((b.east, b.north) for b in boxes)]
        object.__setattr__(self, "box", Box.around(corners))

    @classmethod
    def from_geojson(cls, place_id: str, polygons: Sequence[Sequence[Sequence[Sequence[float]]]]) -> Area:
        """An area from MultiPolygon coordinates (polygon → ring → [longitude, latitude, altitude?])."""
        built = []
        for number, rings in enumerate(polygons):
            if not rings:
                raise AreaError(f"polygon {number} has no rings")
            try:
                exterior, *holes = (_ring(ring) for ring in rings)
                built.append(Polygon(exterior, tuple(holes)))
            except AreaError as exc:
                raise AreaError(f"polygon {number}, {exc}") from None
        return cls(place_id=place_id, polygons=tuple(built))

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether the point lies in the area (on a shared edge: see the module docstring)."""
        return self.box.holds(latitude, longitude) and any(p.holds(latitude, longitude) for p in self.polygons)

    def centre(self) -> Coordinates:
        """A representative point: well inside the largest polygon, never in a hole or on an edge.

        The middle of the widest stretch inside it along a few parallels across its box (the
        middle parallel wins ties); for a convex area that is close to the centroid.
        """
        largest = max(self.polygons, key=Polygon.size)
        box = largest.box
        best = (0.0, Coordinates(box.south, box.west))
        for fraction in _SCAN_FRACTIONS:
            latitude = box.south + (box.north - box.south) * fraction
            west, east = largest.widest_span(latitude)
            if east - west > best[0]:
                best = (east - west, Coordinates(latitude, (west + east) / 2))
        return best[1]


def _ring(positions: Sequence[Sequence[float]]) -> Ring:
    """Positions as (longitude, latitude) pairs, any altitude dropped."""
    if any(len(p) < 2 for p in positions):
        raise AreaError("a ring has a position with fewer than two coordinates")
    return tuple((float(p[0]), float(p[1])) for p in positions)


class AreaIndex:
    """Areas on a uniform grid, so that a lookup tests only the few whose box shares the point's cell.

    Where areas overlap (they should not), a point goes to the first by place id.
    """

    __slots__ = ("_cell", "_cells")

    def __init__(self, areas: Iterable[Area]) -> None:
        ordered = sorted(areas, key=lambda a: a.place_id)
        self._cell = _cell_size(ordered)
        cells: defaultdict[tuple[int, int], list[Area]] = defaultdict(list)
        for area in ordered:
            for key in self._keys(area.box):
                cells[key].append(area)
        self._cells = {key: tuple(found) for key, found in cells.items()}

    def _key(self, longitude: float, latitude: float) -> tuple[int, int]:
        return math.floor(longitude / self._cell), math.floor(latitude / self._cell)

    def _keys(self, box: Box) -> Iterator[tuple[int, int]]:
        west, south = self._key(box.west, box.south)
        east, north = self._key(box.east, box.north)
        for column in range(west, east + 1):
            for row in range(south, north + 1):
                yield column, row

    def containing(self, latitude: float, longitude: float) -> tuple[Area, ...]:
        """Every area holding the point, by place id: one at most when areas do not overlap."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # also refuses NaN
            return ()
        candidates = self._cells.get(self._key(longitude, latitude), ())
        return tuple(area for area in candidates if area.contains(latitude, longitude))

    def locate(self, latitude: float, longitude: float) -> Area | None:
        """The area holding the point, or None."""
        found = self.containing(latitude, longitude)
        return found[0] if found else None


def _cell_size(areas: Sequence[Area]) -> float:
    """A grid cell about the size of a typical area: few areas per cell, few cells per area."""
    if not areas:
        return 1.0
    typical = median(max(a.box.east - a.box.west, a.box.north - a.box.south) for a in areas)
    return max(typical, _MIN_CELL)
