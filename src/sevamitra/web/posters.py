"""Service posters on the officers' dashboard: the list of services to print, and each one's PDF.

`GET /dashboard/posters` lists the services an officer may print posters of (a department's
administrator: their department's; every other officer: every service), and
`GET /dashboard/posters/{service_id}.pdf?size=A5&source=...` answers the same poster as
`sevamitra qr poster`. The list page also counts who came through each source tag (a poster or a
place) and service in the last 30 days: which posters bring citizens in. Posters hold nothing
personal, but every download goes to the audit log as an export, like the analytics CSV.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.adapters.pdf.poster import PosterSize, render_poster
from sevamitra.bootstrap import Platform
from sevamitra.bootstrap.officials_auth import OfficerAccess
from sevamitra.core.catalogue import Service
from sevamitra.core.links import SOURCE
from sevamitra.core.officers import Officer
from sevamitra.web.auth import client_ip, officer_or_redirect
from sevamitra.web.templating import DASHBOARD_PATH, SECURITY_HEADERS, Templates

POSTERS_PATH = f"{DASHBOARD_PATH}/posters"
SIZES: Mapping[str, PosterSize] = {"A4": "A4", "A5": "A5"}
ARRIVALS_DAYS = 30  # how far back the page counts who came through posters and links


def may_print(officer: Officer, service: Service) -> bool:
    """A department's administrator prints their department's posters; other officers any service's."""
    if not officer.active or not service.code:
        return False
    return officer.role != "department_admin" or service.department_id == officer.department_id


def source_of(request: Request) -> str | None:
    """The `?source=` tag when it is one a link can carry, else None."""
    source = request.query_params.get("source", "").strip()
    return source if SOURCE.match(source) else None


def poster_routes(platform: Platform, access: OfficerAccess, *, templates: Templates | None = None) -> list[BaseRoute]:
    pages = templates or Templates(platform.context.texts)
    catalogue = platform.context.catalogue
    number = platform.settings.whatsapp_display_phone_number

    async def listing(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        departments = []
        for department in catalogue.departments:
            services = [s for s in catalogue.services_of(department.id) if may_print(officer, s)]
            if services:
                departments.append((department, services))
        source = source_of(request)
        since = platform.clock.now() - timedelta(days=ARRIVALS_DAYS)
        printable = {s.id for _, services in departments for s in services}
        arrived = [a for a in await platform.arrivals.counts(since) if a.service_id in printable]
        return pages.render(
            "posters.html",
            request,
            officer=officer,
            session=session,
            arrivals=[(a, catalogue.service(a.service_id)) for a in arrived],
            arrivals_days=ARRIVALS_DAYS,
            departments=departments,
            sizes=tuple(SIZES),
            source=source or "",
            query=f"&source={source}" if source else "",
        )

    async def download(request: Request) -> Response:
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        frame: dict[str, Any] = {"officer": officer, "session": session}
        service = catalogue.service(request.path_params["service_id"])
        if service is None or not service.code:
            return pages.render("forbidden.html", request, status_code=404, kind="not_found", **frame)
        if not may_print(officer, service):
            await access.record(officer, "view_refused", None, {"path": request.url.path}, client_ip(request))
            return pages.render("forbidden.html", request, status_code=403, kind="forbidden", **frame)
        size = SIZES.get(request.query_params.get("size", "A4").upper())
        source = source_of(request)
        if size is None or (request.query_params.get("source") and source is None):
            problem = "size is A4 or A5; a source tag is 1-40 letters, digits, '-' or '_'"
            return PlainTextResponse(problem, status_code=400, headers=SECURITY_HEADERS)
        pdf = await asyncio.to_thread(render_poster, service, number=number, size=size, source=source)
        detail = {"what": "poster", "service": service.id, "size": size, "source": source}
        await access.record(officer, "export", None, detail, client_ip(request))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="{service.id}-{size}.pdf"',
            },
        )

    return [
        Route(POSTERS_PATH, listing, methods=["GET"]),
        Route(f"{POSTERS_PATH}/{{service_id}}.pdf", download, methods=["GET"]),
    ]
