"""Writes SYNTHETIC village and ward boundaries to `catalogue/jurisdictions/areas.geojson`.

The shipped registry has no real geometry, so each mandal or urban local body with villages or
wards gets a box near the real location of its headquarters (a hand-made table of rough centres
below), cut into a grid of cells, one per village or ward; the inner grid corners are nudged by a
hash of their position so the cells look less regular. Neighbouring cells share their corners
exactly, so no two areas overlap. Boxes that would overlap an earlier one are moved aside.

The output depends only on the registry and this file: run it again after editing the YAML files.

    .venv/bin/python scripts/make_synthetic_areas.py           # rewrite areas.geojson
    .venv/bin/python scripts/make_synthetic_areas.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sevamitra.adapters.jurisdiction_files import AREAS_FILE, DEFAULT_JURISDICTIONS_DIR, load_jurisdictions
from sevamitra.core.jurisdictions import Jurisdictions, Place

# Rough real centres (latitude, longitude) of each mandal's or ULB's headquarters, and the side of
# one village or ward cell in degrees (0.01° is about 1.1 km).
CENTRES: dict[str, tuple[float, float, float]] = {
    "ntr/vijayawada-corporation": (16.5062, 80.6480, 0.009),
    "ntr/vijayawada-rural": (16.5700, 80.6800, 0.025),
    "ntr/ibrahimpatnam": (16.5850, 80.5200, 0.025),
    "ntr/kondapalli-municipality": (16.6200, 80.5400, 0.005),
    "ntr/g-konduru": (16.6700, 80.5500, 0.03),
    "ntr/mylavaram": (16.7600, 80.6400, 0.03),
    "ntr/kanchikacherla": (16.6800, 80.3900, 0.03),
    "ntr/nandigama": (16.7700, 80.2900, 0.03),
    "ntr/nandigama-nagar-panchayat": (16.7720, 80.2870, 0.005),
    "ntr/chandarlapadu": (16.7000, 80.2000, 0.03),
    "ntr/veerullapadu": (16.8700, 80.3800, 0.03),
    "ntr/jaggayyapeta": (16.8900, 80.1000, 0.03),
    "ntr/jaggayyapeta-municipality": (16.8920, 80.0980, 0.005),
    "ntr/vatsavai": (16.9700, 80.2500, 0.03),
    "ntr/penuganchiprolu": (16.9000, 80.2400, 0.03),
    "ntr/a-konduru": (16.9700, 80.6300, 0.03),
    "ntr/gampalagudem": (17.0300, 80.5000, 0.03),
    "ntr/vissannapeta": (16.9400, 80.7800, 0.03),
    "ntr/reddigudem": (16.8800, 80.7000, 0.03),
    "ntr/tiruvuru-nagar-panchayat": (17.1000, 80.6100, 0.005),
    "guntur/guntur-corporation": (16.3067, 80.4365, 0.014),
    "guntur/pedakakani": (16.3400, 80.4900, 0.025),
    "guntur/prathipadu": (16.1800, 80.3300, 0.03),
    "guntur/vatticherukuru": (16.2100, 80.4100, 0.03),
    "guntur/pedanandipadu": (16.0600, 80.3200, 0.03),
    "guntur/kakumanu": (15.9900, 80.4100, 0.03),
    "guntur/medikonduru": (16.3700, 80.3300, 0.03),
    "guntur/phirangipuram": (16.2900, 80.2600, 0.03),
    "guntur/tadikonda": (16.4200, 80.4500, 0.025),
    "guntur/thullur": (16.5200, 80.4600, 0.02),
    "guntur/mangalagiri": (16.4300, 80.5600, 0.025),
    "guntur/tadepalli": (16.4800, 80.6000, 0.02),
    "guntur/tenali": (16.2400, 80.6400, 0.025),
    "guntur/tenali-municipality": (16.2430, 80.6400, 0.005),
    "guntur/duggirala": (16.3300, 80.6300, 0.03),
    "guntur/kollipara": (16.2800, 80.7500, 0.03),
    "guntur/chebrolu": (16.2000, 80.5300, 0.025),
    "visakhapatnam/greater-visakhapatnam-corporation": (17.6868, 83.2185, 0.025),
    "visakhapatnam/anandapuram": (17.9000, 83.3700, 0.03),
    "visakhapatnam/padmanabham": (17.9800, 83.3900, 0.03),
}
JITTER = 0.25  # inner corners move up to this fraction of a cell: cells stay simple quadrilaterals
GAP = 0.002  # degrees kept clear between the boxes of two units
STEP = 0.01  # degrees a box is moved at a time when it overlaps another
DECIMALS = 6  # about 0.1 m


@dataclass(frozen=True, slots=True)
class Box:
    south: float
    west: float
    rows: int
    columns: int
    cell: float

    @property
    def north(self) -> float:
        return self.south + self.rows * self.cell

    @property
    def east(self) -> float:
        return self.west + self.columns * self.cell

    def overlaps(self, other: Box) -> bool:
        return not (
            self.east + GAP <= other.west
            or other.east + GAP <= self.west
            or self.north + GAP <= other.south
            or other.north + GAP <= self.south
        )

    def moved(self, rows: int, columns: int) -> Box:
        return Box(self.south + rows * STEP, self.west + columns * STEP, self.rows, self.columns, self.cell)


def _nudge(unit_id: str, row: int, column: int) -> tuple[float, float]:
    """A reproducible offset in [-1, 1) for each axis of one grid corner."""
    digest = hashlib.sha256(f"{unit_id}:{row}:{column}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**31 - 1, int.from_bytes(digest[4:8], "big") / 2**31 - 1


def _corners(unit_id: str, box: Box) -> list[list[tuple[float, float]]]:
    """Grid corners as [row][column] -> (longitude, latitude); the box's edges stay straight."""
    grid = []
    for row in range(box.rows + 1):
        line = []
        for column in range(box.columns + 1):
            dx, dy = _nudge(unit_id, row, column)
            inner_x = 0 < column < box.columns
            inner_y = 0 < row < box.rows
            x = box.west + (column + (dx * JITTER if inner_x else 0)) * box.cell
            y = box.south + (row + (dy * JITTER if inner_y else 0)) * box.cell
            line.append((round(x, DECIMALS), round(y, DECIMALS)))
        grid.append(line)
    return grid


def _cells(count: int, box: Box) -> Iterator[tuple[int, int, int]]:
    """(row, first column, end column) of each cell, north-west first; the last cell takes the rest of its row."""
    for index in range(count):
        row, column = divmod(index, box.columns)
        end = box.columns if index == count - 1 else column + 1
        yield box.rows - 1 - row, column, end


def _ring(grid: list[list[tuple[float, float]]], row: int, start: int, end: int) -> list[tuple[float, float]]:
    """Anticlockwise: along the southern line eastwards, then the northern line back west."""
    south = grid[row][start : end + 1]
    north = list(reversed(grid[row + 1][start : end + 1]))
    return [*south, *north, south[0]]


def _boxes(registry: Jurisdictions, units: Sequence[Place]) -> dict[str, Box]:
    """A box per unit near its centre, moved aside (nearest first) until it overlaps no earlier box."""
    placed: dict[str, Box] = {}
    offsets = sorted(
        ((r, c) for r in range(-30, 31) for c in range(-30, 31)), key=lambda rc: (rc[0] ** 2 + rc[1] ** 2, rc)
    )
    missing = [unit.id for unit in units if unit.id not in CENTRES]
    if missing:
        raise SystemExit(f"no centre for {', '.join(missing)}: add it to CENTRES")
    for unit in sorted(units, key=lambda u: (-len(registry.children(u.id)), u.id)):
        latitude, longitude, cell = CENTRES[unit.id]
        count = len(registry.children(unit.id))
        columns = math.ceil(math.sqrt(count))
        rows = math.ceil(count / columns)
        home = Box(latitude - rows * cell / 2, longitude - columns * cell / 2, rows, columns, cell)
        placed[unit.id] = next(
            box
            for box in (home.moved(*offset) for offset in offsets)
            if not any(box.overlaps(o) for o in placed.values())
        )
    return placed


def features(registry: Jurisdictions) -> Iterator[dict[str, object]]:
    """One Polygon feature per village and ward, in id order."""
    units = [p for p in registry if p.level == "mandal" and registry.children(p.id)]
    boxes = _boxes(registry, units)
    rings: dict[str, list[tuple[float, float]]] = {}
    for unit in units:
        box, children = boxes[unit.id], registry.children(unit.id)
        grid = _corners(unit.id, box)
        for child, (row, start, end) in zip(children, _cells(len(children), box), strict=True):
            rings[child.id] = _ring(grid, row, start, end)
    for place_id in sorted(rings):
        geometry = {"type": "Polygon", "coordinates": [[list(position) for position in rings[place_id]]]}
        yield {"type": "Feature", "properties": {"id": place_id}, "geometry": geometry}


def render(registry: Jurisdictions) -> str:
    """The whole file: one feature a line, so that a change shows as a small diff."""
    head = {
        "type": "FeatureCollection",
        "synthetic": True,
        "note": "SYNTHETIC boundaries for development and tests, not real ones: scripts/make_synthetic_areas.py",
    }
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features(registry)]
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    return opening + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=DEFAULT_JURISDICTIONS_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from what would be written")
    args = parser.parse_args(argv)
    text = render(load_jurisdictions(args.root, with_areas=False))
    path = args.root / AREAS_FILE
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            sys.stderr.write(f"{path} is out of date: run scripts/make_synthetic_areas.py\n")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
