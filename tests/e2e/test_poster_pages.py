"""Posters on the dashboard and click-to-chat links on the public charter, over HTTP under uvicorn,
on SQLite and PostgreSQL: a signed-in officer downloads a service's poster whose QR scans to the
service's link, a department's administrator only their department's, nobody without a session,
and the charter links every service to WhatsApp."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import insert
from starlette.applications import Starlette

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.tables import arrivals
from sevamitra.bootstrap import Platform, build
from sevamitra.bootstrap.officials_auth import OfficerAccess
from sevamitra.core.catalogue import Service
from sevamitra.core.links import service_link
from sevamitra.settings import Settings
from sevamitra.testing.clock import FixedClock
from sevamitra.web.auth import auth_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes
from sevamitra.web.templating import Templates
from tests.e2e.conftest import free_port, uvicorn_on

PASSWORD = "Nagarjuna-sagar-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
INCOME = "revenue.income-certificate"
LABOUR = "labour.contract-labour-licence"


@dataclass
class Site:
    platform: Platform
    access: OfficerAccess
    url: str
    officers: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def service(self, service_id: str) -> Service:
        found = self.platform.context.catalogue.service(service_id)
        assert found is not None
        return found

    async def add_officer(self, username: str, role: str, place: str, department_id: str | None = None) -> None:
        _, secret = await self.access.create_officer(
            username=username,
            display_name=f"Officer {username}",
            role=role,
            place=place,
            department_id=department_id,
            password=PASSWORD,
        )
        http = httpx.AsyncClient(base_url=self.url, timeout=30)
        login = await http.post("/dashboard/login", data={"username": username, "password": PASSWORD})
        assert (login.status_code, login.headers["location"]) == (303, "/dashboard/totp")
        found = CSRF_FIELD.search((await http.get("/dashboard/totp")).text)
        assert found is not None
        code = totp_code(secret, self.platform.clock.now())
        entered = await http.post("/dashboard/totp", data={"csrf": found.group(1), "code": code})
        assert entered.status_code == 303
        self.officers[username] = http

    async def audit(self) -> list[tuple[str, dict[str, object] | None]]:
        return [(row.action, row.detail) for row in reversed(await self.access.audit.recent(100))]


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    """The sign-in pages, the dashboard and the charter, with a tahsildar and a labour department's
    administrator signed in."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="dev",
        database_url=database_url,
        graph_api_url=f"{url}/emulator",
        public_url=url,
        whatsapp_app_secret="e2e-secret",
        whatsapp_access_token="e2e-token",
        whatsapp_verify_token="e2e-verify",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    platform = build(settings, clock=FixedClock())
    templates = Templates(platform.context.texts)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.aclose()

    app = Starlette(
        routes=[
            *auth_routes(platform.access, templates),
            *dashboard_routes(platform, platform.access, templates=templates),
            *charter_routes(platform, templates=templates),
        ],
        lifespan=lifespan,
    )
    async with uvicorn_on(app, port):
        found = Site(platform=platform, access=platform.access, url=url)
        await found.add_officer("tahsildar.vjw", "tahsildar", "ntr/vijayawada-rural")
        await found.add_officer("admin.labour", "department_admin", "state", department_id="labour")
        try:
            yield found
        finally:
            for http in found.officers.values():
                await http.aclose()


def scanned(pdf: bytes) -> tuple[list[str], tuple[int, int]]:
    """The QR texts on page 1 at 150 dpi, and the page's size in millimetres."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        width, height = page.get_size()
        texts = [b.text for b in zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())]
        return texts, (round(width * 25.4 / 72), round(height * 25.4 / 72))
    finally:
        document.close()


async def test_a_signed_in_officer_downloads_a_poster_that_scans_to_the_services_link(site: Site) -> None:
    tahsildar = site.officers["tahsildar.vjw"]
    income = site.service(INCOME)
    number = site.platform.settings.whatsapp_display_phone_number

    poster = await tahsildar.get(f"/dashboard/posters/{INCOME}.pdf", params={"size": "A5", "source": "vjw-rural"})
    assert poster.status_code == 200
    assert poster.headers["content-type"] == "application/pdf"
    assert poster.headers["cache-control"] == "no-store"
    assert f'filename="{INCOME}-A5.pdf"' in poster.headers["content-disposition"]
    assert scanned(poster.content) == ([service_link(number, income, "te", "vjw-rural")], (148, 210))

    a4 = await tahsildar.get(f"/dashboard/posters/{LABOUR}.pdf")  # any department's service
    assert a4.status_code == 200
    assert scanned(a4.content) == ([service_link(number, site.service(LABOUR), "te")], (210, 297))

    exports = [detail for action, detail in await site.audit() if action == "export"]
    assert exports == [
        {"what": "poster", "service": INCOME, "size": "A5", "source": "vjw-rural"},
        {"what": "poster", "service": LABOUR, "size": "A4", "source": None},
    ]


async def test_no_poster_without_a_session_or_outside_a_departments_scope(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as anonymous:
        for path in (f"/dashboard/posters/{INCOME}.pdf", "/dashboard/posters"):
            refused = await anonymous.get(path)
            assert (refused.status_code, refused.headers["location"]) == (303, "/dashboard/login"), path
            assert not refused.content.startswith(b"%PDF")

    labour = site.officers["admin.labour"]
    assert (await labour.get(f"/dashboard/posters/{LABOUR}.pdf")).status_code == 200
    other = await labour.get(f"/dashboard/posters/{INCOME}.pdf")
    assert other.status_code == 403 and 'data-kind="forbidden"' in other.text
    assert ("view_refused", {"path": f"/dashboard/posters/{INCOME}.pdf"}) in await site.audit()
    assert (await labour.get("/dashboard/posters/revenue.no-such-service.pdf")).status_code == 404

    tahsildar = site.officers["tahsildar.vjw"]
    for params in ({"size": "A3"}, {"source": "not a tag"}):
        assert (await tahsildar.get(f"/dashboard/posters/{INCOME}.pdf", params=params)).status_code == 400, params


async def test_the_posters_page_lists_what_the_officer_may_print(site: Site) -> None:
    page = await site.officers["tahsildar.vjw"].get("/dashboard/posters", params={"lang": "en", "source": "ward-7"})
    assert page.status_code == 200
    listed = set(re.findall(r'data-testid="poster-service" data-service="([^"]+)"', page.text))
    assert listed == {s.id for s in site.platform.context.catalogue.services}
    assert f'href="/dashboard/posters/{INCOME}.pdf?size=A5&amp;source=ward-7"' in page.text
    assert "#REV-INC" in page.text and "Service posters" in page.text

    labour = await site.officers["admin.labour"].get("/dashboard/posters")
    listed = set(re.findall(r'data-testid="poster-service" data-service="([^"]+)"', labour.text))
    assert listed == {s.id for s in site.platform.context.catalogue.services_of("labour")}
    inbox = await site.officers["admin.labour"].get("/dashboard")
    assert 'href="/dashboard/posters"' in inbox.text  # the dashboard's tabs lead to it


async def test_the_charter_links_every_service_to_whatsapp(site: Site) -> None:
    number = site.platform.settings.whatsapp_display_phone_number
    catalogue = site.platform.context.catalogue
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as public:
        data = (await public.get("/charter.json")).json()
        by_id = {entry["id"]: entry for entry in data["services"]}
        assert set(by_id) == {s.id for s in catalogue.services}
        for service in catalogue.services:
            assert by_id[service.id]["link"] == service_link(number, service, "te"), service.id
            assert by_id[service.id]["code"] == service.code

        page = await public.get("/charter", params={"lang": "en"})
        links = re.findall(r'<a class="chat" href="([^"]+)" data-testid="chat"', page.text)
        assert [html.unescape(link) for link in links] == [
            service_link(number, s, "te") for d in catalogue.departments for s in catalogue.services_of(d.id)
        ]
        assert "Open in WhatsApp (#REV-INC)" in page.text
        assert "వాట్సాప్‌లో తెరవండి (#REV-INC)" in (await public.get("/charter")).text


async def test_the_posters_page_counts_who_came_through_each_tag(site: Site) -> None:
    now = site.platform.clock.now()
    rows = [
        {"service_id": INCOME, "source": "ward-7", "language": "te", "first_contact": True, "arrived_at": now},
        {"service_id": INCOME, "source": "ward-7", "language": "en", "first_contact": False, "arrived_at": now},
        {"service_id": INCOME, "source": None, "language": "te", "first_contact": True, "arrived_at": now},
    ]
    async with site.platform.arrivals.engine.begin() as connection:
        await connection.execute(insert(arrivals), rows)
    page = await site.officers["tahsildar.vjw"].get("/dashboard/posters", params={"lang": "en"})
    row = r'data-testid="arrival" data-source="([^"]*)">\s*<td[^>]*>[^<]*</td>'
    row += r"\s*<td>([^<]*)</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>"
    shown = re.findall(row, page.text)
    assert shown == [("ward-7", "Income certificate", "2", "1"), ("", "Income certificate", "1", "1")]
    labour = await site.officers["admin.labour"].get("/dashboard/posters", params={"lang": "en"})
    assert 'data-testid="arrival"' not in labour.text  # another department's posters are not theirs to see
