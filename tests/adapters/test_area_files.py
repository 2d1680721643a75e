"""`catalogue/jurisdictions/areas.geojson`: the shipped synthetic areas, and how the loader checks the file."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from sevamitra.adapters.jurisdiction_files import (
    AREAS_FILE,
    DEFAULT_JURISDICTIONS_DIR,
    JurisdictionFileError,
    load_jurisdictions,
)
from sevamitra.core.areas import Area, AreaIndex
from sevamitra.core.jurisdictions import Chain, Jurisdictions, Place

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_synthetic_areas.py"


@pytest.fixture(scope="module")
def registry() -> Jurisdictions:
    return load_jurisdictions()


def villages_and_wards(registry: Jurisdictions) -> list[Place]:
    return [p for p in registry if p.level == "village"]


def area_of(registry: Jurisdictions, place_id: str) -> Area:
    found = registry.area(place_id)
    assert found is not None, place_id
    return found


# The shipped data


def test_every_shipped_village_and_ward_has_an_area(registry: Jurisdictions) -> None:
    assert len(villages_and_wards(registry)) > 400
    assert registry.without_area() == ()


def test_the_shipped_areas_are_marked_synthetic() -> None:
    head = json.loads((DEFAULT_JURISDICTIONS_DIR / AREAS_FILE).read_text(encoding="utf-8"))
    assert head["synthetic"] is True
    assert "SYNTHETIC" in head["note"]


def test_the_centre_of_every_shipped_village_and_ward_locates_to_it(registry: Jurisdictions) -> None:
    for place in villages_and_wards(registry):
        centre = registry.centre(place.id)
        assert centre is not None
        assert registry.locate(*centre) == place, place.id


def test_no_two_shipped_areas_overlap(registry: Jurisdictions) -> None:
    areas = [area_of(registry, p.id) for p in villages_and_wards(registry)]
    index = AreaIndex(areas)
    for a in areas:
        box, steps = a.box, range(1, 6)
        samples = [
            (box.south + (box.north - box.south) * i / 6, box.west + (box.east - box.west) * j / 6)
            for i in steps
            for j in steps
        ]
        corners = [(latitude, longitude) for p in a.polygons for longitude, latitude in p.exterior]
        for latitude, longitude in samples + corners:
            assert len(index.containing(latitude, longitude)) <= 1, (a.place_id, latitude, longitude)


def test_a_point_on_an_edge_between_shipped_areas_goes_to_exactly_one(registry: Jurisdictions) -> None:
    areas = [area_of(registry, p.id) for p in villages_and_wards(registry)]
    index = AreaIndex(areas)
    edges = {edge for a in areas for p in a.polygons for edge in pairwise(p.exterior)}
    shared = [(start, end) for start, end in edges if (end, start) in edges]
    assert len(shared) > 400
    for (x1, y1), (x2, y2) in shared:
        for fraction in (0.25, 0.5):
            latitude, longitude = y1 + (y2 - y1) * fraction, x1 + (x2 - x1) * fraction
            assert len(index.containing(latitude, longitude)) == 1, ((x1, y1), (x2, y2), fraction)


def test_the_shipped_areas_lie_in_andhra_pradesh(registry: Jurisdictions) -> None:
    for place in villages_and_wards(registry):
        box = area_of(registry, place.id).box
        assert 12.5 < box.south < box.north < 19.5 and 76.5 < box.west < box.east < 85, place.id


def test_a_location_in_vijayawada_routes_to_a_ward_of_its_corporation(registry: Jurisdictions) -> None:
    ward = registry.locate(16.5062, 80.6480)
    assert ward is not None and ward.kind == "ward"
    assert registry.chain(ward.id) == Chain("ntr", "ntr/vijayawada-corporation", ward.id)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (28.6139, 77.2090),
        (13.0827, 80.2707),
        (16.5, 82.5),
        (0.0, 0.0),
    ],  # Delhi, Chennai, the Bay of Bengal, null island
)
def test_a_point_far_from_the_shipped_areas_is_located_nowhere(
    registry: Jurisdictions, latitude: float, longitude: float
) -> None:
    assert registry.locate(latitude, longitude) is None


def _script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_synthetic_areas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_shipped_file_is_what_the_generator_script_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _script(monkeypatch).main(["--check"]) == 0


# The loader


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "jurisdictions"
    shutil.copytree(DEFAULT_JURISDICTIONS_DIR, root)
    return root


def feature(place_id: str, geometry: dict[str, object]) -> dict[str, object]:
    return {"type": "Feature", "properties": {"id": place_id, "name": "as a GIS exports it"}, "geometry": geometry}


def polygon(west: float, south: float, side: float = 0.01) -> dict[str, object]:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south + side], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_areas(root: Path, *features: dict[str, object]) -> None:
    collection = {"type": "FeatureCollection", "features": list(features)}
    (root / AREAS_FILE).write_text(json.dumps(collection), encoding="utf-8")


def test_without_the_areas_file_the_registry_loads_as_before(data_dir: Path) -> None:
    (data_dir / AREAS_FILE).unlink()
    bare = load_jurisdictions(data_dir)
    assert bare.locate(16.5062, 80.6480) is None
    assert bare.centre("ntr/vijayawada-rural/nunna") is None
    assert len(bare.without_area()) > 400


def test_areas_can_be_left_out_on_request() -> None:
    assert load_jurisdictions(with_areas=False).locate(16.5062, 80.6480) is None


def test_polygons_and_multipolygons_load_and_locate(data_dir: Path) -> None:
    two_parts = {
        "type": "MultiPolygon",
        "coordinates": [polygon(80.0, 16.0)["coordinates"], polygon(80.1, 16.0)["coordinates"]],
    }
    write_areas(
        data_dir,
        feature("ntr/vijayawada-rural/nunna", polygon(80.6, 16.6)),
        feature("ntr/vijayawada-rural/gollapudi", two_parts),
        feature("ntr/vijayawada-rural", polygon(80.5, 16.5, 0.5)),  # a mandal's area is accepted, not located
    )
    registry = load_jurisdictions(data_dir)
    assert registry.locate(16.605, 80.605) == registry.get("ntr/vijayawada-rural/nunna")
    assert registry.locate(16.005, 80.105) == registry.get("ntr/vijayawada-rural/gollapudi")
    assert registry.locate(16.9, 80.9) is None
    assert registry.centre("ntr/vijayawada-rural") is not None
    assert "ntr/vijayawada-rural/nunna" not in {p.id for p in registry.without_area()}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"areas\.geojson: Expecting property name"),
        ('{"type": "Feature"}', r"areas\.geojson: type: Input should be 'FeatureCollection'"),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [feature("ntr", {"type": "Point", "coordinates": [80, 16]})]}
            ),
            r"areas\.geojson: features\.0\.geometry: Input tag 'Point' found using 'type' does not match",
        ),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": None}]}
            ),
            r"features\.0\.properties\.id: Field required; features\.0\.geometry: Input should be",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [feature("ntr", {"type": "Polygon", "coordinates": [[["80", "16"]]]})],
                }
            ),
            r"features\.0\.geometry\.Polygon\.coordinates\.0\.0\.0: Input should be a valid number",
        ),
    ],
)
def test_a_malformed_areas_file_is_refused_with_its_name_and_where(data_dir: Path, content: str, message: str) -> None:
    (data_dir / AREAS_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match=message):
        load_jurisdictions(data_dir)


def test_an_area_of_an_unknown_place_is_refused(data_dir: Path) -> None:
    write_areas(
        data_dir, feature("ntr/vijayawada-rural/nunna", polygon(80, 16)), feature("ntr/atlantis", polygon(81, 16))
    )
    with pytest.raises(
        JurisdictionFileError, match=r"areas\.geojson: features\.1 \('ntr/atlantis'\): not a known place"
    ):
        load_jurisdictions(data_dir)


def test_two_areas_for_one_place_are_refused(data_dir: Path) -> None:
    write_areas(
        data_dir,
        feature("ntr/vijayawada-rural/nunna", polygon(80, 16)),
        feature("ntr/vijayawada-rural/nunna", polygon(81, 16)),
    )
    with pytest.raises(JurisdictionFileError, match=r"features\.1 \('ntr/vijayawada-rural/nunna'\): a second area"):
        load_jurisdictions(data_dir)


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        ([[80, 16], [80.1, 16], [80.1, 16.1], [80, 16.1]], "is not closed: its first and last positions differ"),
        (
            [[80, 16], [80.1, 16], [80.1, 96], [80, 16]],
            r"has position \[80\.1, 96\.0\] outside \[-180\.\.180, -90\.\.90\]",
        ),
        ([[80, 16], [80.1, 16], [80, 16]], "has 3 positions; a ring needs at least 4"),
    ],
)
def test_unsound_geometry_is_refused_naming_the_feature(data_dir: Path, ring: list[list[float]], message: str) -> None:
    write_areas(data_dir, feature("ntr/vijayawada-rural/nunna", {"type": "Polygon", "coordinates": [ring]}))
    with pytest.raises(
        JurisdictionFileError,
        match=r"areas\.geojson: features\.0 \('ntr/vijayawada-rural/nunna'\): polygon 0, ring 0 \(the exterior\) "
        + message,
    ):
        load_jurisdictions(data_dir)
