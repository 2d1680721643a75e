"""Reads the jurisdiction registry from `catalogue/jurisdictions/`.

`districts.yaml` names all districts; each `<district-id>.yaml` beside it adds that district's
mandals and urban local bodies, with their villages and wards. Every file is checked against a
strict schema, and every error names its file.

`areas.geojson`, when present, gives villages and wards (and optionally mandals and ULBs) their
areas: a GeoJSON FeatureCollection (RFC 7946) as a state GIS exports it, of Polygon and
MultiPolygon features whose `properties.id` is a place id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sevamitra.core.areas import Area, AreaError
from sevamitra.core.jurisdictions import DISTRICT, MANDAL, VILLAGE, WARD, JurisdictionError, Jurisdictions, Place

DEFAULT_JURISDICTIONS_DIR = Path(__file__).resolve().parents[3] / "catalogue" / "jurisdictions"
DISTRICTS_FILE = "districts.yaml"
AREAS_FILE = "areas.geojson"
REQUIRED_LANGUAGES = ("te", "en", "hi")

_Model = TypeVar("_Model", bound=BaseModel)


class JurisdictionFileError(ValueError):
    """A jurisdiction file is unreadable, malformed, or contradicts the others."""


def _all_languages(names: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in REQUIRED_LANGUAGES if not names.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing names in {', '.join(missing)}")
    return names


Names = Annotated[dict[str, str], AfterValidator(_all_languages)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _District(_Strict):
    id: Slug
    names: Names
    headquarters: Names


class _DistrictsFile(_Strict):
    districts: list[_District] = Field(min_length=1)


class _Village(_Strict):
    id: Slug
    names: Names
    secretariat: str | None = Field(default=None, min_length=1)


class _Mandal(_Strict):
    id: Slug
    names: Names
    headquarters: Names | None = None
    villages: list[_Village] = []


class _UrbanLocalBody(_Strict):
    id: Slug
    kind: Literal["municipal_corporation", "municipality", "nagar_panchayat"]
    names: Names
    wards: int = Field(default=0, ge=0, le=500)


class _DistrictFile(_Strict):
    district: Slug
    mandals: list[_Mandal] = []
    urban_local_bodies: list[_UrbanLocalBody] = []


class _GeoJson(BaseModel):
    """GeoJSON objects may carry foreign members (names, codes, bbox); they are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# Range, closure and shape are checked by `core.areas`; here only the structure.
_Position = Annotated[list[Annotated[float, Field(strict=True)]], Field(min_length=2, max_length=3)]
_PolygonCoordinates = Annotated[list[list[_Position]], Field(min_length=1)]


class _Polygon(_GeoJson):
    type: Literal["Polygon"]
    coordinates: _PolygonCoordinates


class _MultiPolygon(_GeoJson):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[_PolygonCoordinates], Field(min_length=1)]


class _AreaProperties(_GeoJson):
    id: str = Field(min_length=1)


class _Feature(_GeoJson):
    type: Literal["Feature"]
    properties: _AreaProperties
    geometry: Annotated[_Polygon | _MultiPolygon, Field(discriminator="type")]


class _AreasFile(_GeoJson):
    type: Literal["FeatureCollection"]
    features: list[_Feature]


def _read(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise JurisdictionFileError(f"{path}: {exc}") from exc


def _read_json(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JurisdictionFileError(f"{path}: {exc}") from exc


def _parse(model: type[_Model], path: Path, read: Callable[[Path], object] = _read) -> _Model:
    try:
        return model.model_validate(read(path))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}" for error in exc.errors()
        )
        raise JurisdictionFileError(f"{path}: {problems}") from exc


def _ward_names(number: int) -> dict[str, str]:
    return {"te": f"వార్డు {number}", "en": f"Ward {number}", "hi": f"वार्ड {number}"}


def _district_places(data: _DistrictFile) -> Iterator[Place]:
    district = data.district
    for mandal in data.mandals:
        mandal_id = f"{district}/{mandal.id}"
        yield Place(
            id=mandal_id,
            kind=MANDAL,
            names=mandal.names,
            parent=district,
            headquarters=mandal.headquarters or {},
        )
        for village in mandal.villages:
            village_id = f"{mandal_id}/{village.id}"
            yield Place(
                id=village_id,
                kind=VILLAGE,
                names=village.names,
                parent=mandal_id,
                secretariat=village.secretariat or f"gs:{village_id}",
            )
    for body in data.urban_local_bodies:
        body_id = f"{district}/{body.id}"
        yield Place(id=body_id, kind=body.kind, names=body.names, parent=district)
        for number in range(1, body.wards + 1):
            ward_id = f"{body_id}/ward-{number}"
            yield Place(id=ward_id, kind=WARD, names=_ward_names(number), parent=body_id, secretariat=f"ws:{ward_id}")


def _areas(path: Path, known: set[str]) -> list[Area]:
    """The areas of `areas.geojson`, each feature's place known and its geometry sound."""
    areas: list[Area] = []
    seen: set[str] = set()
    for number, feature in enumerate(_parse(_AreasFile, path, _read_json).features):
        place_id = feature.properties.id
        where = f"{path}: features.{number} ({place_id!r})"
        if place_id not in known:
            raise JurisdictionFileError(f"{where}: not a known place")
        if place_id in seen:
            raise JurisdictionFileError(f"{where}: a second area for this place")
        seen.add(place_id)
        geometry = feature.geometry
        polygons = [geometry.coordinates] if isinstance(geometry, _Polygon) else geometry.coordinates
        try:
            areas.append(Area.from_geojson(place_id, polygons))
        except AreaError as exc:
            raise JurisdictionFileError(f"{where}: {exc}") from None
    return areas


def load_jurisdictions(root: Path = DEFAULT_JURISDICTIONS_DIR, *, with_areas: bool = True) -> Jurisdictions:
    """All districts from `districts.yaml`, the detail of every `<district-id>.yaml`, and the areas.

    Areas come from `areas.geojson` when it is there (and `with_areas`); without it the registry
    has none, and `Jurisdictions.locate` finds nothing.
    """
    districts_path = root / DISTRICTS_FILE
    districts = _parse(_DistrictsFile, districts_path).districts
    places = [Place(id=d.id, kind=DISTRICT, names=d.names, parent=None, headquarters=d.headquarters) for d in districts]
    source = dict.fromkeys((p.id for p in places), districts_path)
    known = set(source)
    for path in sorted(root.glob("*.yaml")):
        if path.name == DISTRICTS_FILE:
            continue
        data = _parse(_DistrictFile, path)
        if data.district != path.stem:
            raise JurisdictionFileError(
                f"{path}: names district {data.district!r}; the file must be {data.district}.yaml"
            )
        if data.district not in known:
            raise JurisdictionFileError(f"{path}: district {data.district!r} is not in {DISTRICTS_FILE}")
        for place in _district_places(data):
            places.append(place)
            source.setdefault(place.id, path)  # the first file to claim an id owns it; a duplicate is reported there
    areas_path = root / AREAS_FILE
    areas = _areas(areas_path, set(source)) if with_areas and areas_path.is_file() else []
    try:
        return Jurisdictions(places, areas)
    except JurisdictionError as exc:
        raise JurisdictionFileError(f"{source.get(exc.place_id, root)}: {exc}") from exc
