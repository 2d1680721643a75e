"""Officer sign-in over HTTP under uvicorn, on SQLite and PostgreSQL: password, code, guard, sign-out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.bootstrap import load_texts
from sevamitra.bootstrap.officials_auth import OfficerAccess, build_officer_access
from sevamitra.testing.clock import FixedClock
from sevamitra.web.auth import SESSION_COOKIE, auth_routes, check_csrf, officer_or_redirect
from sevamitra.web.templating import Templates
from tests.adapters.test_sql_spine import SEALER
from tests.e2e.conftest import free_port, uvicorn_on

PASSWORD = "Krishna-river-2026"
USERNAME = "tahsildar.vjw"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Dashboard:
    http: httpx.AsyncClient
    access: OfficerAccess
    clock: FixedClock
    secret: str

    async def sign_in(self, password: str = PASSWORD, **headers: str) -> httpx.Response:
        return await self.http.post(
            "/dashboard/login", data={"username": USERNAME, "password": password}, headers=headers
        )

    async def code_page_token(self) -> str:
        page = await self.http.get("/dashboard/totp")
        assert page.status_code == 200
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        return found.group(1)

    async def enter_code(self, code: str | None = None) -> httpx.Response:
        csrf = await self.code_page_token()
        return await self.http.post(
            "/dashboard/totp", data={"csrf": csrf, "code": code or totp_code(self.secret, self.clock.now())}
        )

    async def fully_signed_in(self) -> str:
        """Sign in with both factors; the CSRF token of the session, as the page shows it."""
        assert (await self.sign_in()).status_code == 303
        assert (await self.enter_code()).headers["location"] == "/dashboard"
        page = await self.http.get("/dashboard/probe")
        assert page.status_code == 200
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        return found.group(1)


@pytest.fixture
async def dashboard(database_url: str) -> AsyncIterator[Dashboard]:
    engine = create_engine(database_url)
    clock = FixedClock()
    access = build_officer_access(engine, SEALER, clock)
    _, secret = await access.create_officer(
        username=USERNAME,
        display_name="K. Lakshmi Prasanna",
        role="tahsildar",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )
    templates = Templates(load_texts())

    async def probe(request: Request) -> Response:
        """A protected page: the officer's name in the page frame, and a form that checks CSRF."""
        found = await officer_or_redirect(request, access)
        if isinstance(found, Response):
            return found
        officer, session = found
        if request.method == "POST":
            async with request.form() as form:
                submitted = form.get("csrf")
            if not check_csrf(session, submitted if isinstance(submitted, str) else None):
                return PlainTextResponse("form expired", status_code=403)
            return PlainTextResponse(f"saved by {officer.username}")
        return templates.render("base.html", request, officer=officer, session=session)

    app = Starlette(routes=[*auth_routes(access, templates), Route("/dashboard/probe", probe, methods=["GET", "POST"])])
    port = free_port()
    async with (
        uvicorn_on(app, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        yield Dashboard(http=http, access=access, clock=clock, secret=secret)
    await engine.dispose()


async def test_password_then_code_then_the_dashboard(dashboard: Dashboard) -> None:
    login = await dashboard.http.get("/dashboard/login")
    assert login.status_code == 200
    assert "అధికారి ప్రవేశం" in login.text and 'lang="te"' in login.text  # Telugu first
    assert login.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]

    signed = await dashboard.sign_in()
    assert (signed.status_code, signed.headers["location"]) == (303, "/dashboard/totp")
    assert (await dashboard.http.get("/dashboard/probe")).headers["location"] == "/dashboard/totp"
    assert (await dashboard.http.post("/dashboard/probe", data={})).status_code == 403

    entered = await dashboard.enter_code()
    assert (entered.status_code, entered.headers["location"]) == (303, "/dashboard")
    page = await dashboard.http.get("/dashboard/probe")
    assert page.status_code == 200
    assert "K. Lakshmi Prasanna" in page.text and "తహసీల్దార్" in page.text
    csrf = CSRF_FIELD.search(page.text)
    assert csrf is not None
    saved = await dashboard.http.post("/dashboard/probe", data={"csrf": csrf.group(1)})
    assert (saved.status_code, saved.text) == (200, f"saved by {USERNAME}")
    assert (await dashboard.http.post("/dashboard/probe", data={"csrf": "forged"})).status_code == 403

    out = await dashboard.http.post("/dashboard/logout", data={"csrf": csrf.group(1)})
    assert (out.status_code, out.headers["location"]) == (303, "/dashboard/login?notice=signed_out")
    assert (await dashboard.http.get("/dashboard/probe")).headers["location"] == "/dashboard/login"
    assert (await dashboard.http.post("/dashboard/probe", data={"csrf": csrf.group(1)})).status_code == 401
    actions = [row.action for row in reversed(await dashboard.access.audit.recent(10))]
    assert actions == ["officer_created", "sign_in_first_factor", "sign_in", "sign_out"]


async def test_without_a_session_pages_redirect_and_posts_are_refused(dashboard: Dashboard) -> None:
    assert (await dashboard.http.get("/dashboard/probe")).headers["location"] == "/dashboard/login"
    refused = await dashboard.http.post("/dashboard/probe", data={"csrf": "x"})
    assert (refused.status_code, refused.text) == (401, "sign in first")
    dashboard.http.cookies.set(SESSION_COOKIE, "made-up", domain="127.0.0.1", path="/dashboard")
    assert (await dashboard.http.get("/dashboard/totp")).headers["location"] == "/dashboard/login?notice=ended"


async def test_the_session_cookie_is_httponly_strict_and_scoped(dashboard: Dashboard) -> None:
    plain = (await dashboard.sign_in()).headers["set-cookie"]
    assert plain.startswith(f"{SESSION_COOKIE}=")
    flags = {part.strip().split("=")[0].lower() for part in plain.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= flags and "secure" not in flags
    assert "samesite=strict" in plain.lower() and "path=/dashboard" in plain.lower()
    # Behind a TLS-terminating proxy (uvicorn trusts X-Forwarded-Proto from the loopback): Secure.
    proxied = await dashboard.sign_in(**{"x-forwarded-proto": "https"})
    assert "secure" in {part.strip().lower() for part in proxied.headers["set-cookie"].split(";")}


async def test_sign_out_with_a_bad_csrf_token_is_refused(dashboard: Dashboard) -> None:
    await dashboard.fully_signed_in()
    for data in ({"csrf": "forged"}, {}):
        refused = await dashboard.http.post("/dashboard/logout", data=data)
        assert refused.status_code == 403
    assert (await dashboard.http.get("/dashboard/probe")).status_code == 200  # still signed in


async def test_five_bad_passwords_lock_the_account(dashboard: Dashboard) -> None:
    pages = [await dashboard.sign_in("Wrong-password-1") for _ in range(5)]
    assert {page.status_code for page in pages} == {403}
    assert all("set-cookie" not in page.headers for page in pages)
    locked = await dashboard.sign_in()
    assert locked.status_code == 403
    assert locked.text == pages[0].text  # the same page: nothing says the account is locked
    dashboard.clock.advance(minutes=15)
    assert (await dashboard.sign_in()).status_code == 303


async def test_wrong_codes_show_an_error_and_five_end_the_session(dashboard: Dashboard) -> None:
    await dashboard.sign_in()
    right = totp_code(dashboard.secret, dashboard.clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        page = await dashboard.enter_code(wrong)
        assert page.status_code == 403 and 'data-testid="error"' in page.text
    last = await dashboard.enter_code(wrong)
    assert last.status_code == 403 and "చాలాసార్లు తప్పు కోడ్" in last.text
    assert (await dashboard.http.get("/dashboard/totp")).headers["location"].startswith("/dashboard/login")


async def test_the_code_form_checks_its_csrf_token(dashboard: Dashboard) -> None:
    await dashboard.sign_in()
    code = totp_code(dashboard.secret, dashboard.clock.now())
    refused = await dashboard.http.post("/dashboard/totp", data={"csrf": "forged", "code": code})
    assert refused.status_code == 403
    assert (await dashboard.enter_code(code)).headers["location"] == "/dashboard"


async def test_requests_from_other_sites_are_refused(dashboard: Dashboard) -> None:
    for headers in (
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
    ):
        refused = await dashboard.sign_in(**headers)
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    csrf = await dashboard.fully_signed_in()
    forged = await dashboard.http.post(
        "/dashboard/probe", data={"csrf": csrf}, headers={"sec-fetch-site": "cross-site"}
    )
    assert forged.status_code == 403
    ours = await dashboard.http.post("/dashboard/probe", data={"csrf": csrf}, headers={"sec-fetch-site": "same-origin"})
    assert ours.status_code == 200


async def test_the_language_switch_is_remembered(dashboard: Dashboard) -> None:
    english = await dashboard.http.get("/dashboard/login", params={"lang": "en"})
    assert "Officer sign-in" in english.text and 'lang="en"' in english.text
    assert "lang=en" in english.headers["set-cookie"]
    again = await dashboard.http.get("/dashboard/login")
    assert "Officer sign-in" in again.text
    assert 'href="/dashboard/login?lang=te"' in again.text
