"""The public citizen charter: every service's fee and promised time beside what was measured.

`GET /charter` (Telugu or English, `?lang=`) and `GET /charter.json` list all the catalogue's
services, each with its department, fee and promised time, and, over the last 90 days, how many
applications were decided, the median days to a decision and the share decided within the
promised time: state-wide and per district. Each service carries its click-to-chat link (Telugu),
which opens WhatsApp with the service chosen. The figures are the analytics module's, the same as
officers see on their dashboard. They are public and the same for everyone, so one computation
serves every request for a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.adapters.sql.analytics import CHARTER_WINDOW, CharterRow, SqlAnalytics
from sevamitra.bootstrap import Platform
from sevamitra.core.amounts import format_inr
from sevamitra.core.catalogue import Catalogue, Service
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.links import service_link
from sevamitra.core.localtime import local_time
from sevamitra.core.texts import Texts
from sevamitra.web.templating import Templates

CACHE_SECONDS = 60.0
LANGUAGES = ("te", "en")
LINK_LANGUAGE = "te"  # the chat a service's link opens starts in Telugu; the citizen can switch
PUBLIC_HEADERS = {"Cache-Control": f"public, max-age={int(CACHE_SECONDS)}"}

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class DistrictFigures:
    district: str
    names: Mapping[str, str]
    decided: int
    median_days: float | None
    within_sla_share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceEntry:
    """One service as the charter shows it."""

    service: Service
    department: Mapping[str, str]  # its name by language
    fee: Mapping[str, str]  # as printed, by language
    promised: Mapping[str, str]  # likewise
    decided: int
    median_days: float | None
    within_sla_share: float | None
    districts: tuple[DistrictFigures, ...]
    link: str | None = None  # click-to-chat; None for a service without a short code


@dataclass(frozen=True, slots=True, kw_only=True)
class Charter:
    generated_at: datetime
    since: datetime
    departments: tuple[tuple[str, Mapping[str, str], tuple[ServiceEntry, ...]], ...]  # (id, names, services)
    document: dict[str, Any]  # /charter.json

    @property
    def services(self) -> int:
        return sum(len(entries) for _, _, entries in self.departments)


class Kept(Generic[_T]):
    """One value, made at most once per `seconds` in this process (concurrent requests wait for it)."""

    def __init__(self, make: Callable[[], Awaitable[_T]], seconds: float = CACHE_SECONDS) -> None:
        self.make = make
        self.seconds = seconds
        self._value: _T | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> _T:
        if self._value is not None and time.monotonic() < self._until:
            return self._value
        async with self._lock:
            if self._value is None or time.monotonic() >= self._until:
                self._value = await self.make()
                self._until = time.monotonic() + self.seconds
            return self._value


def fee_json(service: Service) -> dict[str, Any]:
    fee = service.fee
    return {
        "kind": fee.kind,
        "amount_inr": fee.amount_inr,
        "unit": {lang: fee.unit[lang] for lang in LANGUAGES if lang in fee.unit} or None,
        "rule": fee.rule,
    }


def fee_text(texts: Texts, service: Service, language: str) -> str:
    fee = service.fee
    if fee.is_free:
        return texts.get(language, "pages.fee.free")
    if fee.kind == "fixed" and fee.amount_inr is not None:
        return format_inr(fee.amount_inr)
    if fee.kind == "per_unit" and fee.amount_inr is not None:
        unit = fee.unit.get(language) or fee.unit.get("en") or ""
        return texts.get(language, "pages.fee.per_unit", amount=format_inr(fee.amount_inr), unit=unit)
    return texts.get(language, "pages.fee.rule")


def promised(service: Service) -> dict[str, int]:
    """`{"sla_days": n}` for a promise in whole days, else `{"promised_minutes": n}`."""
    minutes = service.sla.total_minutes
    if minutes and minutes % (24 * 60) == 0:
        return {"sla_days": minutes // (24 * 60)}
    return {"promised_minutes": minutes}


def promised_text(texts: Texts, service: Service, language: str) -> str:
    found = promised(service)
    if "sla_days" in found:
        days = found["sla_days"]
        said = (
            texts.get(language, "pages.sla.one_day") if days == 1 else texts.get(language, "pages.sla.days", days=days)
        )
    else:
        said = texts.get(language, "pages.sla.minutes", minutes=found["promised_minutes"])
    if service.sla.deemed_approval:
        said += " · " + texts.get(language, "pages.sla.deemed")
    return said


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def build_charter(
    catalogue: Catalogue,
    places: Jurisdictions | None,
    texts: Texts,
    rows: list[CharterRow],
    now: datetime,
    since: datetime,
    *,
    number: str,
) -> Charter:
    """Every service of the catalogue, with the measured figures where there are any and its
    click-to-chat link to the WhatsApp `number`."""
    state_wide = {r.service_id: r for r in rows if r.district is None}
    per_district: dict[str, list[CharterRow]] = {}
    for row in rows:
        if row.district is not None:
            per_district.setdefault(row.service_id, []).append(row)

    def names(place_id: str) -> dict[str, str]:
        place = places.get(place_id) if places is not None else None
        return {lang: place.name(lang) if place else place_id for lang in LANGUAGES}

    departments = []
    listed: list[dict[str, Any]] = []
    for department in catalogue.departments:
        department_names = {lang: department.name(lang) for lang in LANGUAGES}
        entries = []
        for service in catalogue.services_of(department.id):
            total = state_wide.get(service.id)
            districts = tuple(
                DistrictFigures(
                    district=r.district or "",
                    names=names(r.district or ""),
                    decided=r.decided,
                    median_days=r.median_days,
                    within_sla_share=_share(r.within_sla_share),
                )
                for r in sorted(per_district.get(service.id, []), key=lambda r: names(r.district or "")["en"])
            )
            entry = ServiceEntry(
                service=service,
                department=department_names,
                fee={lang: fee_text(texts, service, lang) for lang in LANGUAGES},
                promised={lang: promised_text(texts, service, lang) for lang in LANGUAGES},
                decided=total.decided if total else 0,
                median_days=total.median_days if total else None,
                within_sla_share=_share(total.within_sla_share) if total else None,
                districts=districts,
                link=service_link(number, service, LINK_LANGUAGE) if service.code else None,
            )
            entries.append(entry)
            listed.append(
                {
                    "id": service.id,
                    "name": {lang: service.name(lang) for lang in LANGUAGES},
                    "code": service.code or None,
                    "department": {"id": department.id, "name": department_names},
                    "delivery": service.delivery.kind,
                    "fee": fee_json(service) | {"text": dict(entry.fee)},
                    **promised(service),
                    "deemed_approval": service.sla.deemed_approval,
                    "decided": entry.decided,
                    "median_days": entry.median_days,
                    "within_sla_share": entry.within_sla_share,
                    "link": entry.link,
                    "districts": [
                        {
                            "district": d.district,
                            "name": dict(d.names),
                            "decided": d.decided,
                            "median_days": d.median_days,
                            "within_sla_share": d.within_sla_share,
                        }
                        for d in districts
                    ],
                }
            )
        departments.append((department.id, department_names, tuple(entries)))
    document = {
        "generated_at": now.isoformat(),
        "since": since.isoformat(),
        "window_days": (now - since).days,
        "services": listed,
    }
    return Charter(generated_at=now, since=since, departments=tuple(departments), document=document)


def charter_routes(
    platform: Platform,
    *,
    templates: Templates | None = None,
    analytics: SqlAnalytics | None = None,
    cache_seconds: float = CACHE_SECONDS,
) -> list[BaseRoute]:
    """`GET /charter` and `GET /charter.json`: public, computed at most once a minute."""
    pages = templates or Templates(platform.context.texts)
    figures = analytics or SqlAnalytics(platform.reads)  # the read replica where there is one
    context = platform.context
    number = platform.settings.whatsapp_display_phone_number

    async def make() -> Charter:
        now = platform.clock.now()
        since = now - CHARTER_WINDOW
        rows = await figures.charter(since)
        return build_charter(context.catalogue, context.places, context.texts, rows, now, since, number=number)

    kept = Kept(make, cache_seconds)

    async def page(request: Request) -> Response:
        charter = await kept.get()
        return pages.render(
            "charter.html",
            request,
            headers=PUBLIC_HEADERS,
            charter=charter,
            updated=local_time(charter.generated_at),
            window_days=(charter.generated_at - charter.since).days,
        )

    async def as_json(_: Request) -> Response:
        charter = await kept.get()
        return JSONResponse(charter.document, headers=PUBLIC_HEADERS)

    return [Route("/charter", page, methods=["GET"]), Route("/charter.json", as_json, methods=["GET"])]
