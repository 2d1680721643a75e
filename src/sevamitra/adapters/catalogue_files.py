"""Reads the catalogue (departments, services) and the locale texts from their YAML files."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from sevamitra.core.catalogue import Catalogue, Department, Service
from sevamitra.core.texts import Texts

DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parents[3] / "catalogue"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DepartmentFile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    names: dict[str, str]
    descriptions: dict[str, str] = {}


class _DepartmentsFile(_Strict):
    departments: list[_DepartmentFile]


class _ServiceFile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    department: str
    names: dict[str, str]
    descriptions: dict[str, str] = {}
    sla_days: int | None = Field(default=None, ge=0)
    fee_rupees: int | None = Field(default=None, ge=0)


def _read(path: Path) -> object:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_catalogue(root: Path = DEFAULT_CATALOGUE_DIR) -> Catalogue:
    departments = _DepartmentsFile.model_validate(_read(root / "departments.yaml")).departments
    services = [_ServiceFile.model_validate(_read(path)) for path in sorted((root / "services").glob("*/*.yaml"))]
    return Catalogue(
        departments=tuple(Department(id=d.id, names=d.names, descriptions=d.descriptions) for d in departments),
        services=tuple(
            Service(
                id=s.id,
                department_id=s.department,
                names=s.names,
                descriptions=s.descriptions,
                sla_days=s.sla_days,
                fee_rupees=s.fee_rupees,
            )
            for s in services
        ),
    )


def load_texts(root: Path = DEFAULT_CATALOGUE_DIR) -> Texts:
    by_language: dict[str, dict[str, str]] = {}
    for path in sorted((root / "locales").glob("*/*.yaml")):
        data = _read(path)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of text keys")
        by_language.setdefault(path.parent.name, {}).update({str(k): str(v) for k, v in data.items()})
    return Texts(by_language=by_language)
