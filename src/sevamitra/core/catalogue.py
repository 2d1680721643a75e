"""The service catalogue: departments and services as frozen, validated values.

Loaded from the YAML files under `catalogue/` by an adapter; everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sevamitra.core.fields import FieldSpec

LANGUAGES = ("te", "en", "hi")
FALLBACK_LANGUAGE = "en"

Jurisdiction = Literal["state", "district", "mandal", "secretariat"]
OutputKind = Literal["certificate", "receipt", "booking_pass", "information", "grievance_ticket"]
FeeKind = Literal["free", "fixed", "per_unit", "rule"]
FaqTopic = Literal["fee", "documents", "time", "office", "eligibility"]


def localised(texts: Mapping[str, str], language: str) -> str:
    """The text in `language`, else English, else any."""
    return texts.get(language) or texts.get(FALLBACK_LANGUAGE) or next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rebate:
    """Money off a rule fee for paying early: `percent` of the record's figure `of`.

    It applies from 1 April, the start of the financial year, to `until` (inclusive), when the
    payment covers the whole of `of` and the record's figure `unless` (arrears, say) is nil.
    """

    percent: int  # whole percent, 1 to 100
    until: str  # "MM-DD": the window's last day, in the financial year that holds the day of payment
    of: str  # the record figure the rebate is a percentage of (the year's demand)
    unless: str | None = None  # a record figure that must be 0 for the rebate (arrears)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fee:
    kind: FeeKind
    amount_inr: int | None = None  # fixed: the fee; per_unit: the price of one unit
    unit: Mapping[str, str] = field(default_factory=dict)  # per_unit: what is counted ("page", "ticket")
    per_field: str | None = None  # per_unit: the form field holding the count
    rule: str | None = None  # rule: the name of a fee rule (core.fees)
    rebate: Rebate | None = None  # rule: money off for paying early (core.fees.rebate_inr)
    refundable: bool = False  # paid back when the application is rejected

    @property
    def is_free(self) -> bool:
        return self.kind == "free" or (self.kind == "fixed" and not self.amount_inr)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    days: int | None = None
    minutes: int | None = None
    deemed_approval: bool = False  # the law deems it approved when the last officer lets the time pass

    @property
    def total_minutes(self) -> int:
        return (self.days or 0) * 24 * 60 + (self.minutes or 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    kind: Literal["instant", "reviewed"]
    approvers: tuple[str, ...] = ()  # reviewed: roles in order
    registry: str | None = None  # instant: the registry that decides


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    kind: OutputKind
    template: str | None = None
    validity_months: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    id: str
    department_id: str
    names: Mapping[str, str]
    summaries: Mapping[str, str] = field(default_factory=dict)
    code: str = ""
    version: int = 1
    spec_version: int = 2
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    eligibility: Mapping[str, str] = field(default_factory=dict)
    jurisdiction: Jurisdiction = "mandal"
    delivery: Delivery = Delivery(kind="reviewed")
    sla: Sla = Sla(days=7)
    fee: Fee = Fee(kind="free")
    fields: tuple[FieldSpec, ...] = ()
    documents: tuple[Mapping[str, str], ...] = ()
    output: Output = Output(kind="information")
    faq: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = "assumed"
    definition_hash: str = ""  # sha256 of the definition as loaded: applications record it

    def name(self, language: str) -> str:
        return localised(self.names, language)

    def description(self, language: str) -> str:
        return localised(self.summaries, language) if self.summaries else ""

    def form_field(self, field_id: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def sla_days(self) -> int | None:
        return self.sla.days

    @property
    def fee_rupees(self) -> int | None:
        return self.fee.amount_inr if self.fee.kind == "fixed" else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Department:
    id: str
    names: Mapping[str, str]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    code: str = ""  # short code in reference numbers, e.g. REV

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
    _departments: dict[str, Department] = field(init=False, repr=False, compare=False)
    _services: dict[str, Service] = field(init=False, repr=False, compare=False)
    _by_department: dict[str, tuple[Service, ...]] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, Service] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        departments = {d.id: d for d in self.departments}
        services = {s.id: s for s in self.services}
        if len(departments) != len(self.departments):
            raise CatalogueError("duplicate department id")
        if len(services) != len(self.services):
            raise CatalogueError("duplicate service id")
        grouped: dict[str, list[Service]] = {d: [] for d in departments}
        for service in self.services:
            if service.department_id not in departments:
                raise CatalogueError(f"service {service.id} names unknown department {service.department_id}")
            grouped[service.department_id].append(service)
        object.__setattr__(self, "_departments", departments)
        object.__setattr__(self, "_services", services)
        object.__setattr__(self, "_by_department", {d: tuple(s) for d, s in grouped.items()})
        by_code: dict[str, Service] = {}
        for service in self.services:  # the lint refuses a code used twice; the first keeps it meanwhile
            if service.code:
                by_code.setdefault(service.code.upper(), service)
        object.__setattr__(self, "_by_code", by_code)

    def department(self, department_id: str) -> Department | None:
        return self._departments.get(department_id)

    def service(self, service_id: str) -> Service | None:
        return self._services.get(service_id)

    def service_by_code(self, code: str) -> Service | None:
        """The service whose short code this is ("INC", "PTAX-PAY"), in any case."""
        return self._by_code.get(code.upper())

    def services_of(self, department_id: str) -> tuple[Service, ...]:
        return self._by_department.get(department_id, ())
