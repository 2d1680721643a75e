"""Areas on the map: point in polygon, the grid index, and the registry's `locate`."""

from __future__ import annotations

import math

import pytest

from sevamitra.core.areas import Area, AreaError, AreaIndex, Coordinates
from sevamitra.core.jurisdictions import Chain, JurisdictionError, Jurisdictions, Place

Rings = list[list[list[float]]]


def square(west: float, south: float, side: float = 1.0) -> list[list[float]]:
    """An anticlockwise closed ring, [longitude, latitude] as in GeoJSON."""
    east, north = west + side, south + side
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def area(place_id: str, *polygons: Rings) -> Area:
    return Area.from_geojson(place_id, polygons)


def holders(areas: list[Area], latitude: float, longitude: float) -> list[str]:
    return [a.place_id for a in AreaIndex(areas).containing(latitude, longitude)]


# Point in polygon


def test_a_point_inside_a_square_is_contained_and_one_outside_is_not() -> None:
    cell = area("a", [square(80, 16)])
    assert cell.contains(16.5, 80.5)
    assert not cell.contains(17.5, 80.5)
    assert not cell.contains(16.5, 81.5)


def test_coordinates_are_taken_latitude_first_though_stored_longitude_first() -> None:
    tall = area("a", [[[0, 0], [1, 0], [1, 10], [0, 10], [0, 0]]])
    assert tall.contains(latitude=5, longitude=0.5)
    assert not tall.contains(latitude=0.5, longitude=5)


def test_a_point_in_the_box_but_outside_a_concave_polygon_is_not_contained() -> None:
    ell = area("a", [[[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]])
    assert ell.contains(0.5, 1.5)
    assert ell.contains(1.5, 0.5)
    assert not ell.contains(1.5, 1.5)


def test_a_point_in_a_hole_is_not_contained() -> None:
    ring_road = area("a", [square(0, 0, 3), square(1, 1, 1)])
    assert ring_road.contains(0.5, 0.5)
    assert not ring_road.contains(1.5, 1.5)


def test_a_multipolygon_contains_points_in_each_of_its_parts_only() -> None:
    islands = area("a", [square(0, 0)], [square(5, 5)])
    assert islands.contains(0.5, 0.5)
    assert islands.contains(5.5, 5.5)
    assert not islands.contains(3, 3)


def test_an_island_in_a_hole_belongs_to_the_island() -> None:
    islands = area("a", [square(0, 0, 5), square(1, 1, 3)], [square(2, 2, 1)])
    assert islands.contains(2.5, 2.5)
    assert not islands.contains(1.5, 1.5)
    assert islands.contains(0.5, 0.5)


def test_altitudes_in_positions_are_ignored() -> None:
    hill = Area.from_geojson("a", [[[[0, 0, 100], [1, 0, 90], [1, 1, 80], [0, 1, 70], [0, 0, 100]]]])
    assert hill.contains(0.5, 0.5)


# Shared edges


def test_a_point_on_an_edge_shared_by_two_areas_belongs_to_exactly_one() -> None:
    west, east = area("west", [square(0, 0)]), area("east", [square(1, 0)])
    for latitude in (0.0, 0.25, 0.5, 0.999):
        assert len(holders([west, east], latitude, 1.0)) == 1
    assert holders([west, east], 0.5, 1.0) == holders([east, west], 0.5, 1.0)


def test_a_shared_corner_of_four_areas_belongs_to_exactly_one() -> None:
    cells = [area(f"{x}{y}", [square(x, y)]) for x in (0, 1) for y in (0, 1)]
    assert len(holders(cells, 1.0, 1.0)) == 1


def test_neighbours_agree_on_a_slanted_edge_whichever_way_their_rings_run() -> None:
    # The shared edge runs from (0.1, 0) to (0.7, 1); the eastern ring walks it the other way, from another start.
    western = area("w", [[[0, 0], [0.1, 0], [0.7, 1], [0, 1], [0, 0]]])
    eastern = area("e", [[[0.7, 1], [0.1, 0], [1, 0], [1, 1], [0.7, 1]]])
    for step in range(1, 50):
        latitude = step / 50
        on_edge = 0.1 + 0.6 * latitude
        for longitude in (on_edge, math.nextafter(on_edge, 0), math.nextafter(on_edge, 1)):
            assert len(holders([western, eastern], latitude, longitude)) == 1, (latitude, longitude)


def test_the_edge_of_a_hole_belongs_to_exactly_one_of_the_hole_and_the_area_filling_it() -> None:
    around, inside = area("around", [square(0, 0, 3), square(1, 1, 1)]), area("inside", [square(1, 1, 1)])
    for latitude, longitude in ((1.0, 1.5), (2.0, 1.5), (1.5, 1.0), (1.5, 2.0), (1.0, 1.0), (2.0, 2.0)):
        assert len(holders([around, inside], latitude, longitude)) == 1, (latitude, longitude)


# The index


def test_the_index_finds_each_of_many_cells_and_nothing_outside_them() -> None:
    cells = [
        area(f"{row}-{column}", [square(column * 0.01, row * 0.01, 0.01)]) for row in range(40) for column in range(40)
    ]
    index = AreaIndex(cells)
    for row in range(0, 40, 7):
        for column in range(0, 40, 3):
            found = index.locate(row * 0.01 + 0.005, column * 0.01 + 0.005)
            assert found is not None and found.place_id == f"{row}-{column}"
    assert index.locate(-0.005, 0.2) is None
    assert index.locate(0.2, 0.405) is None


@pytest.mark.parametrize(("latitude", "longitude"), [(math.nan, 0.5), (0.5, math.inf), (95, 0.5), (0.5, -200)])
def test_the_index_finds_nothing_for_impossible_coordinates(latitude: float, longitude: float) -> None:
    assert AreaIndex([area("a", [square(0, 0)])]).locate(latitude, longitude) is None


def test_an_empty_index_finds_nothing() -> None:
    assert AreaIndex([]).locate(16.5, 80.6) is None


def test_overlapping_areas_resolve_to_the_first_by_place_id() -> None:
    index = AreaIndex([area("b", [square(0, 0, 2)]), area("a", [square(1, 1, 2)])])
    found = index.locate(1.5, 1.5)
    assert found is not None and found.place_id == "a"
    assert [a.place_id for a in index.containing(1.5, 1.5)] == ["a", "b"]


# Centres


@pytest.mark.parametrize(
    "polygons",
    [
        [[square(80, 16)]],
        [
            [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]]
        ],  # a U: its box's centre is outside
        [[square(0, 0, 3), square(1, 1, 1)]],  # the middle is a hole
        [[square(0, 0, 0.1)], [square(5, 5, 2)]],
    ],
)
def test_the_centre_lies_inside_the_area(polygons: list[Rings]) -> None:
    shape = Area.from_geojson("a", polygons)
    centre = shape.centre()
    assert isinstance(centre, Coordinates)
    assert shape.contains(*centre)


def test_the_centre_of_a_square_is_its_middle_and_of_a_multipolygon_in_its_largest_part() -> None:
    assert area("a", [square(80, 16)]).centre() == Coordinates(16.5, 80.5)
    assert area("a", [square(0, 0, 0.1)], [square(5, 5, 2)]).centre() == Coordinates(6.0, 6.0)


# Validation


@pytest.mark.parametrize(
    ("polygons", "message"),
    [
        ([], "has no polygons"),
        ([[]], "polygon 0 has no rings"),
        ([[[[0, 0], [1, 0], [1, 1], [0, 1]]]], r"polygon 0, ring 0 \(the exterior\) is not closed"),
        ([[[[0, 0], [1, 1], [0, 0]]]], "has 3 positions; a ring needs at least 4"),
        ([[[[0, 0], [1, 0], [2, 0], [0, 0]]]], "encloses no area"),
        ([[square(0, 0)], [square(0, 0, 3), [[1, 1], [2, 1], [2, 2], [1, 1.5]]]], r"polygon 1, ring 1 \(hole 1\)"),
        ([[square(179.5, 0)]], r"has position \[180.5, 0.0\] outside"),
        ([[square(0, 89.5)]], "outside"),
        ([[[[0, 0], [math.nan, 0], [1, 1], [0, 0]]]], "outside"),
        ([[[[0, 0], [1], [1, 1], [0, 0]]]], "fewer than two coordinates"),
    ],
)
def test_unusable_geometry_is_refused_with_where_and_why(polygons: list[Rings], message: str) -> None:
    with pytest.raises(AreaError, match=message):
        Area.from_geojson("a", polygons)


# The registry


def names(en: str) -> dict[str, str]:
    return {"te": f"te {en}", "en": en, "hi": f"hi {en}"}


PLACES = [
    Place(id="ntr", kind="district", names=names("NTR"), parent=None),
    Place(id="ntr/rural", kind="mandal", names=names("Rural"), parent="ntr"),
    Place(id="ntr/rural/nunna", kind="village", names=names("Nunna"), parent="ntr/rural", secretariat="gs:1"),
    Place(id="ntr/rural/enikepadu", kind="village", names=names("Enikepadu"), parent="ntr/rural", secretariat="gs:2"),
    Place(id="ntr/city", kind="municipal_corporation", names=names("City"), parent="ntr"),
    Place(id="ntr/city/ward-1", kind="ward", names=names("Ward 1"), parent="ntr/city", secretariat="ws:1"),
]
AREAS = [
    area("ntr/rural/nunna", [square(80.60, 16.60, 0.05)]),
    area("ntr/rural/enikepadu", [square(80.65, 16.60, 0.05)]),
    area("ntr/city/ward-1", [square(80.60, 16.50, 0.01)]),
    area("ntr/rural", [square(80.60, 16.55, 0.15)]),  # the mandal's own area, larger than its villages'
]


@pytest.fixture(scope="module")
def registry() -> Jurisdictions:
    return Jurisdictions(PLACES, AREAS)


def test_a_shared_location_is_located_to_its_village_or_ward(registry: Jurisdictions) -> None:
    assert registry.locate(16.62, 80.62) == PLACES[2]
    assert registry.locate(16.62, 80.67) == PLACES[3]
    assert registry.locate(16.505, 80.605) == PLACES[5]


def test_a_point_outside_every_village_and_ward_is_located_nowhere(registry: Jurisdictions) -> None:
    assert registry.locate(28.61, 77.21) is None  # Delhi
    assert registry.locate(16.57, 80.62) is None  # in the mandal's area, but in none of its villages'


def test_a_point_on_the_border_of_two_villages_goes_to_one_of_them(registry: Jurisdictions) -> None:
    on_border = registry.locate(16.62, 80.65)
    assert on_border is not None and on_border.id in {"ntr/rural/nunna", "ntr/rural/enikepadu"}
    assert registry.locate(16.62, 80.65) == on_border


def test_the_chain_of_a_village_or_ward_names_its_district_and_mandal_or_ulb(registry: Jurisdictions) -> None:
    assert registry.chain("ntr/rural/nunna") == Chain("ntr", "ntr/rural", "ntr/rural/nunna")
    assert registry.chain("ntr/city/ward-1").mandal == "ntr/city"
    with pytest.raises(ValueError, match="is a municipal_corporation, not a village or ward"):
        registry.chain("ntr/city")
    with pytest.raises(KeyError, match="no place 'ntr/nowhere'"):
        registry.chain("ntr/nowhere")


def test_a_centre_is_a_point_that_locates_back_to_its_place(registry: Jurisdictions) -> None:
    centre = registry.centre("ntr/rural/nunna")
    assert centre is not None and registry.locate(*centre) == PLACES[2]
    assert registry.centre("ntr/rural") is not None
    assert registry.centre("ntr") is None
    with pytest.raises(KeyError):
        registry.centre("ntr/nowhere")


def test_areas_are_optional(registry: Jurisdictions) -> None:
    bare = Jurisdictions(PLACES)
    assert bare.locate(16.62, 80.62) is None
    assert bare.area("ntr/rural/nunna") is None
    assert [p.id for p in bare.without_area()] == ["ntr/city/ward-1", "ntr/rural/enikepadu", "ntr/rural/nunna"]
    assert registry.without_area() == ()


def test_an_area_for_an_unknown_place_or_a_second_area_is_refused() -> None:
    with pytest.raises(JurisdictionError, match="place 'ntr/x': has an area but is not a known place"):
        Jurisdictions(PLACES, [area("ntr/x", [square(0, 0)])])
    with pytest.raises(JurisdictionError, match="place 'ntr/rural/nunna': has two areas"):
        Jurisdictions(PLACES, [AREAS[0], AREAS[0]])
