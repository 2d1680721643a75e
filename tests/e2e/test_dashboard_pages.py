"""The dashboard's pages and the citizen charter over HTTP under uvicorn, on SQLite and PostgreSQL:
the inbox, one application and its documents, decisions with CSRF, refusals that show nothing,
the audit log, bulk approval, analytics and the public charter."""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.bootstrap import Platform, build, build_emulator, load_texts
from sevamitra.bootstrap.officials_auth import OfficerAccess, build_officer_access
from sevamitra.core.applications import Status, reference_prefix
from sevamitra.core.messages import Recipient
from sevamitra.settings import Settings
from sevamitra.testing.applications import submitted
from sevamitra.web.auth import auth_routes
from sevamitra.web.charter import charter_routes
from sevamitra.web.dashboard import dashboard_routes
from sevamitra.web.templating import Templates
from tests.e2e.conftest import free_port, uvicorn_on

SERVICE = "labour.contract-labour-licence"  # reviewed by one assistant labour officer: approving issues it
PASSWORD = "Godavari-delta-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CONTRACTOR = "Sri Test Constructions"  # what the form says: personal data a refusal must not show
PAN = "ABCDE1234F"
MOBILE = "9876543210"
PDF = b"%PDF-1.4\n% form V for the test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Officer:
    username: str
    secret: str
    http: httpx.AsyncClient
    csrf: str = ""

    async def sign_in(self, now: datetime) -> None:
        login = await self.http.post("/dashboard/login", data={"username": self.username, "password": PASSWORD})
        assert (login.status_code, login.headers["location"]) == (303, "/dashboard/totp")
        page = await self.http.get("/dashboard/totp")
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        entered = await self.http.post(
            "/dashboard/totp", data={"csrf": found.group(1), "code": totp_code(self.secret, now)}
        )
        assert (entered.status_code, entered.headers["location"]) == (303, "/dashboard")
        inbox = await self.http.get("/dashboard")
        assert inbox.status_code == 200
        found = CSRF_FIELD.search(inbox.text)
        assert found is not None
        self.csrf = found.group(1)

    async def act(self, reference: str, action: str, **form: Any) -> httpx.Response:
        return await self.http.post(f"/dashboard/applications/{reference}/{action}", data={"csrf": self.csrf, **form})


@dataclass
class Site:
    url: str
    platform: Platform
    access: OfficerAccess
    officers: dict[str, Officer] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    media_id: str = ""

    async def add_officer(self, username: str, role: str, place: str) -> Officer:
        _, secret = await self.access.create_officer(
            username=username,
            display_name=f"Officer {username}",
            role=role,
            place=place,
            department_id=None,
            password=PASSWORD,
        )
        officer = Officer(username=username, secret=secret, http=httpx.AsyncClient(base_url=self.url, timeout=20))
        await officer.sign_in(self.platform.clock.now())
        self.officers[username] = officer
        return officer

    async def submit(self, name: str, district: str, mandal: str, *, age: timedelta = timedelta(0)) -> str:
        """A contract labour licence application, as the chat would store it, at its first desk."""
        platform = self.platform
        service = platform.context.catalogue.service(SERVICE)
        assert service is not None
        now = platform.clock.now() - age
        answers: dict[str, Any] = {
            "contractor_name": CONTRACTOR,
            "pan": PAN,
            "principal_employer": "Test Principal Employer Works",
            "address": {"district": district, "mandal": f"{district}/{mandal}", "village": ""},
            "workers": 20,
            "form_v": {
                "media_id": self.media_id,
                "mime_type": "application/pdf",
                "size_bytes": len(PDF),
                "filename": "form-v.pdf",
            },
            "mobile": MOBILE,
        }
        reference = f"{reference_prefix(service)}-{now.year:04d}-{len(self.references) + 1:06d}"
        application = submitted(service, answers, now, Recipient(wa_id=f"91900000{len(self.references):04d}"))
        async with platform.cases.engine.begin() as connection:
            await insert_application(connection, platform.cases.sealer, f"wa:{reference}", application, reference)
        self.references[name] = reference
        return reference

    async def audit(self, reference: str | None = None) -> list[tuple[str, str | None]]:
        rows = await (self.access.audit.for_reference(reference) if reference else self.access.audit.recent(500))
        return [(row.action, row.reference) for row in rows]


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    """Our routes on the platform (the emulator mounted for media), three officers signed in,
    four applications in NTR's Vijayawada Rural (one long overdue) and one in Guntur."""
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
    emulator = build_emulator(settings, webhook_url=f"{url}/webhooks/whatsapp")
    platform = build(settings)
    access = build_officer_access(platform.cases.engine, platform.cases.sealer, platform.clock)
    templates = Templates(platform.context.texts)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await emulator.state.emulator.aclose()
            await platform.aclose()

    app = Starlette(
        routes=[
            *auth_routes(access, templates),
            *dashboard_routes(platform, access, templates=templates),
            *charter_routes(platform, templates=templates),
            Mount("/emulator", app=emulator),
        ],
        lifespan=lifespan,
    )
    async with uvicorn_on(app, port):
        found = Site(url=url, platform=platform, access=access)
        found.media_id = await platform.messenger.upload_media(PDF, "application/pdf", "form-v.pdf")
        for name in ("approve", "return", "reject", "bulk"):
            await found.submit(name, "ntr", "vijayawada-rural")
        await found.submit("late", "ntr", "vijayawada-rural", age=timedelta(days=40))
        await found.submit("guntur", "guntur", "pedakakani")
        await found.add_officer("alo.vjw", "assistant_labour_officer", "ntr/vijayawada-rural")
        await found.add_officer("alo.gnt", "assistant_labour_officer", "guntur/pedakakani")
        await found.add_officer("admin.ntr", "district_admin", "ntr")
        try:
            yield found
        finally:
            for officer in found.officers.values():
                await officer.http.aclose()


def references(page: str) -> set[str]:
    return set(re.findall(r'data-reference="([^"]+)"', page))


async def test_the_inbox_lists_only_the_officers_desk_soonest_due_first(site: Site) -> None:
    ntr, guntur = site.officers["alo.vjw"], site.officers["alo.gnt"]
    page = await ntr.http.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    mine = {site.references[n] for n in ("approve", "return", "reject", "bulk", "late")}
    assert references(page.text) == mine
    assert page.text.index(site.references["late"]) < page.text.index(site.references["approve"])  # soonest due
    assert page.text.count('data-testid="overdue"') == 1  # the one forty days old
    service = site.platform.context.catalogue.service(SERVICE)
    assert service is not None and service.name("te") in page.text  # the service by its Telugu name
    assert CONTRACTOR not in page.text  # the inbox holds no personal data
    assert references((await guntur.http.get("/dashboard")).text) == {site.references["guntur"]}

    tomorrow = (site.platform.clock.now() + timedelta(days=1)).date().isoformat()
    due_soon = await ntr.http.get("/dashboard", params={"due": tomorrow, "lang": "en"})
    assert references(due_soon.text) == {site.references["late"]}
    assert "Overdue" in due_soon.text
    nothing = await ntr.http.get("/dashboard", params={"status": "rejected"})
    assert references(nothing.text) == set()
    by_service = await ntr.http.get("/dashboard", params={"service": SERVICE, "status": "all"})
    assert references(by_service.text) == mine


async def test_another_districts_officer_gets_403_and_no_personal_data(site: Site) -> None:
    guntur = site.officers["alo.gnt"]
    reference = site.references["approve"]
    answers = (CONTRACTOR, PAN, MOBILE, "form-v.pdf", "Test Principal Employer")
    for path in ("", "/documents/form_v", "/attachments/1"):
        refused = await guntur.http.get(f"/dashboard/applications/{reference}{path}")
        assert refused.status_code == 403, path
        assert 'data-kind="forbidden"' in refused.text
        assert not any(secret in refused.text for secret in answers), path
        assert refused.content != PDF
    for action, form in (("approve", {}), ("reject", {"reason": "duplicate"}), ("return", {"fields": "pan"})):
        acted = await guntur.act(reference, action, **form)
        assert acted.status_code == 403, action
        assert not any(secret in acted.text for secret in answers)
    record = await site.platform.cases.get(reference)
    assert record is not None and record.status is Status.SUBMITTED  # nothing happened
    actions = [a for a, _ in await site.audit(reference)]
    assert actions.count("view_refused") == 3 and actions.count("action_refused") == 3
    assert "view" not in actions


async def test_viewing_an_application_and_its_documents_is_audited(site: Site) -> None:
    ntr = site.officers["alo.vjw"]
    reference = site.references["approve"]
    page = await ntr.http.get(f"/dashboard/applications/{reference}", params={"lang": "en"})
    assert page.status_code == 200
    assert CONTRACTOR in page.text and PAN in page.text
    assert "Contract" in page.text  # the service's English name
    assert f'/dashboard/applications/{reference}/documents/form_v"' in page.text
    assert 'data-testid="approve"' in page.text and 'name="csrf"' in page.text
    assert "Submitted" in page.text  # the history
    document = await ntr.http.get(f"/dashboard/applications/{reference}/documents/form_v")
    assert document.status_code == 200
    assert document.content == PDF
    assert document.headers["content-type"] == "application/pdf"
    assert "sandbox" in document.headers["content-security-policy"]
    assert (await ntr.http.get(f"/dashboard/applications/{reference}/documents/pan")).status_code == 404
    assert (await site.audit(reference)) == [("view", reference), ("view_document", reference)]
    admin = site.officers["admin.ntr"]  # the district's administrator may look, not decide
    looked = await admin.http.get(f"/dashboard/applications/{reference}")
    assert looked.status_code == 200 and 'data-testid="view-only"' in looked.text
    assert (await admin.act(reference, "approve")).status_code == 403


async def test_decisions_over_http_need_the_csrf_token(site: Site) -> None:
    ntr = site.officers["alo.vjw"]
    approve, returned, rejected = (site.references[n] for n in ("approve", "return", "reject"))
    no_token = await ntr.http.post(f"/dashboard/applications/{approve}/approve", data={})
    assert no_token.status_code == 403 and 'data-kind="expired"' in no_token.text
    wrong = await ntr.http.post(f"/dashboard/applications/{approve}/approve", data={"csrf": "x" * 43})
    assert wrong.status_code == 403
    async with httpx.AsyncClient(base_url=site.url) as stranger:
        assert (await stranger.post(f"/dashboard/applications/{approve}/approve")).status_code == 401
        assert (await stranger.get(f"/dashboard/applications/{approve}")).headers["location"] == "/dashboard/login"

    done = await ntr.act(approve, "approve")
    assert (done.status_code, done.headers["location"]) == (303, f"/dashboard/applications/{approve}?done=approve")
    assert (await site.platform.cases.get(approve)).status in (Status.ISSUED, Status.APPROVED)  # type: ignore[union-attr]

    back = await ntr.act(returned, "return", fields=["pan", "form_v"], message="Please send a clear copy")
    assert back.status_code == 303
    assert (await site.platform.cases.get(returned)).status is Status.RETURNED  # type: ignore[union-attr]

    unreasoned = await ntr.act(rejected, "reject", reason="", message="no")
    assert unreasoned.status_code == 422
    assert 'data-testid="error"' in unreasoned.text
    no = await ntr.act(rejected, "reject", reason="not_eligible", message="More than the licensed workers")
    assert no.status_code == 303
    assert (await site.platform.cases.get(rejected)).status is Status.REJECTED  # type: ignore[union-attr]
    page = await ntr.http.get(f"/dashboard/applications/{rejected}", params={"lang": "en", "done": "reject"})
    assert "Not eligible for this service" in page.text  # the reason, in the history
    assert 'data-testid="approve"' not in page.text  # decided: no more decisions
    again = await ntr.act(rejected, "approve")
    assert again.status_code == 422

    noted = await ntr.http.post(
        f"/dashboard/applications/{site.references['bulk']}/note",
        data={"csrf": ntr.csrf, "message": "Visited the site; the workers' register is kept"},
        files={"photo": ("site.png", PNG, "image/png")},
    )
    assert noted.status_code == 303
    attachments = await site.platform.cases.attachments_of(site.references["bulk"])
    assert len(attachments) == 1
    photo = await ntr.http.get(f"/dashboard/applications/{site.references['bulk']}/attachments/{attachments[0][0]}")
    assert (photo.status_code, photo.headers["content-type"], photo.content) == (200, "image/png", PNG)

    for reference, action in ((approve, "approve"), (returned, "return"), (rejected, "reject")):
        assert (action, reference) in await site.audit(reference)


async def test_bulk_approval_reports_how_many_it_approved(site: Site) -> None:
    ntr = site.officers["alo.vjw"]
    chosen = [site.references["bulk"], site.references["late"], site.references["guntur"]]
    done = await ntr.http.post("/dashboard/bulk-approve", data={"csrf": ntr.csrf, "reference": chosen})
    assert (done.status_code, done.headers["location"]) == (303, "/dashboard?approved=2&failed=1")
    page = await ntr.http.get(done.headers["location"] + "&lang=en")
    assert "2 approved; 1 could not be approved." in page.text
    record = await site.platform.cases.get(site.references["guntur"])
    assert record is not None and record.status is Status.SUBMITTED
    assert ("approve_refused", site.references["guntur"]) in await site.audit(site.references["guntur"])
    refused = await ntr.http.post("/dashboard/bulk-approve", data={"reference": chosen})
    assert refused.status_code == 403


async def test_analytics_page_and_csv_export(site: Site) -> None:
    ntr = site.officers["alo.vjw"]
    assert (await ntr.act(site.references["approve"], "approve")).status_code == 303
    page = await ntr.http.get("/dashboard/analytics", params={"lang": "en"})
    assert page.status_code == 200
    assert page.text.count("<svg") == 7
    for chart in ("weekly", "services", "districts", "sla", "median", "backlog", "satisfaction"):
        assert f'data-testid="chart-{chart}"' in page.text
    assert "District: NTR" in page.text or "District: " in page.text
    assert "1 of 1" in page.text  # decided within the promised time
    exported = await ntr.http.get("/dashboard/analytics.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "metric,dimension,key,name,week,value"
    assert f"decided,service,{SERVICE}," in exported.text
    assert "backlog,age_days,>30,,,1" in lines
    assert ("export", None) in await site.audit()


async def test_the_public_charter_lists_every_service_with_its_figures(site: Site) -> None:
    ntr = site.officers["alo.vjw"]
    assert (await ntr.act(site.references["approve"], "approve")).status_code == 303
    async with httpx.AsyncClient(base_url=site.url, timeout=20) as public:
        answer = await public.get("/charter.json")
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=60"
        services = answer.json()["services"]
        assert len(services) >= 360
        for service in services:
            assert {"id", "name", "department", "fee", "districts", "median_days", "within_sla_share"} <= set(service)
            assert ("sla_days" in service) != ("promised_minutes" in service)
            assert set(service["name"]) == {"te", "en"}
        by_id: Mapping[str, Any] = {s["id"]: s for s in services}
        licence = by_id[SERVICE]
        assert licence["fee"]["amount_inr"] == 750 and licence["sla_days"] == 15
        assert (licence["decided"], licence["within_sla_share"]) == (1, 1.0)
        assert licence["median_days"] is not None and licence["median_days"] < 1
        assert licence["districts"][0]["district"] == "ntr" and licence["districts"][0]["decided"] == 1
        untouched = by_id["revenue.income-certificate"]
        assert (untouched["decided"], untouched["median_days"], untouched["districts"]) == (0, None, [])

        telugu = await public.get("/charter")
        assert telugu.status_code == 200
        assert telugu.text.count('data-testid="service"') == len(services)
        assert "ఇంకా నిర్ణయాలు లేవు" in telugu.text
        english = await public.get("/charter", params={"lang": "en"})
        assert "No decisions yet" in english.text and "Contract" in english.text
        assert "sevamitra_session" not in english.headers.get("set-cookie", "")


def test_every_page_text_is_in_telugu_english_and_hindi_with_the_same_placeholders() -> None:
    by_language = load_texts().by_language
    keys = {lang: {k for k in by_language[lang] if k.startswith("pages.")} for lang in ("te", "en", "hi")}
    assert keys["te"] == keys["en"] == keys["hi"]

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key in keys["en"]:
        assert fields(by_language["te"][key]) == fields(by_language["en"][key]) == fields(by_language["hi"][key]), key
    web = Path(__file__).resolve().parents[2] / "src" / "sevamitra" / "web"
    sources = [*web.glob("templates/*.html"), web / "dashboard.py", web / "charter.py"]
    used = {key for path in sources for key in re.findall(r"[\"'](pages\.[a-z0-9_.]+)[\"']", path.read_text())}
    assert used and used <= keys["en"], used - keys["en"]
