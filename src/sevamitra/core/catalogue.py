"""The service catalogue as the conversation sees it: departments and their services.

Loaded from the YAML files under `catalogue/` by an adapter; here only frozen, validated types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LANGUAGES = ("te", "en", "hi")
FALLBACK_LANGUAGE = "en"


def localised(names: Mapping[str, str], language: str) -> str:
    """The text in `language`, else English, else any."""
    return names.get(language) or names.get(FALLBACK_LANGUAGE) or next(iter(names.values()), "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    id: str
    department_id: str
    names: Mapping[str, str]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    sla_days: int | None = None
    fee_rupees: int | None = None  # None: free

    def name(self, language: str) -> str:
        return localised(self.names, language)

    def description(self, language: str) -> str:
        return localised(self.descriptions, language) if self.descriptions else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Department:
    id: str
    names: Mapping[str, str]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def name(self, language: str) -> str:
        return localised(self.names, language)

    def description(self, language: str) -> str:
        return localised(self.descriptions, language) if self.descriptions else ""


class CatalogueError(ValueError):
    """The catalogue data contradicts itself."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    departments: tuple[Department, ...]
    services: tuple[Service, ...]

    def __post_init__(self) -> None:
        department_ids = [d.id for d in self.departments]
        if len(set(department_ids)) != len(department_ids):
            raise CatalogueError("duplicate department id")
        service_ids = [s.id for s in self.services]
        if len(set(service_ids)) != len(service_ids):
            raise CatalogueError("duplicate service id")
        for service in self.services:
            if service.department_id not in department_ids:
                raise CatalogueError(f"service {service.id} names unknown department {service.department_id}")

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def services_of(self, department_id: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.department_id == department_id)
