"""Every route that changes anything, enumerated from the app itself, against forged requests (SQLite and
PostgreSQL): an officer's form without the session's CSRF token is refused, any form sent from another
site's page is refused, and what remains (webhooks, the public verification API) is a machine API that
proves itself by signature or changes nothing. A new POST route fails here until it is classified."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from sevamitra.adapters.officer_auth import totp_code
from tests.support.served import Served, served

PASSWORD = "Krishna-delta-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OURS = {"Sec-Fetch-Site": "same-origin"}  # what the browser sends with a form of our own pages
REFERENCE = "AP-LAB-2026-000001"  # well formed; the token is checked before the application is looked up

# An officer's forms: each carries the session's CSRF token (web.auth.check_csrf).
SESSION_FORMS = {
    "/dashboard/totp": {"code": "123456"},
    "/dashboard/logout": {},
    "/dashboard/bulk-approve": {"reference": REFERENCE},
    "/dashboard/applications/{reference}/{action}": {"reason": "duplicate"},
    "/dashboard/broadcasts": {"topic": "weather", "area": "ntr", "text": "Heavy rain tonight"},
    "/dashboard/dead-letters/retry": {"all": "1"},
}
# Forms without a session to tie a token to: refused when another site's page sends them (CrossSiteGuard).
SESSIONLESS_FORMS = {
    "/dashboard/login": "a forged sign-in ends at the code page, which needs the session's token",
    "/verify": "checks a certificate's QR: changes nothing, reads no cookie",
    "/pay/sim/{provider_ref}": "the simulated gateway's own page: development only, refused in production",
}
# Machine APIs: called by servers, not browsers; they carry no one's cookies.
MACHINE_APIS = {
    "/webhooks/whatsapp": "Meta's X-Hub-Signature-256 over the raw body",
    "/webhooks/payments/{provider}": "the payment provider's signature over the raw body",
    "/api/verify": "public JSON: what a certificate says; changes nothing, reads no cookie",
}
EMULATOR = "/emulator"  # development only: settings refuse it in production


def unsafe_routes(routes: list[BaseRoute], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= unsafe_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and UNSAFE & set(route.methods or ()):
            found.add(prefix + route.path)
    return found


def concrete(path: str) -> str:
    return path.replace("{reference}", REFERENCE).replace("{action}", "reject").replace("{provider}", "simulated")


@dataclass
class Officer:
    http: httpx.AsyncClient
    csrf: str


async def signed_in(site: Served, username: str, *, second_factor: bool = True) -> Officer:
    access = site.platform.access
    _, secret = await access.create_officer(
        username=username,
        display_name="Officer",
        role="district_admin",
        place="ntr",
        department_id=None,
        password=PASSWORD,
    )
    http = httpx.AsyncClient(base_url=site.url, timeout=10, headers=OURS)
    login = await http.post("/dashboard/login", data={"username": username, "password": PASSWORD})
    assert login.status_code == 303
    code_page = await http.get("/dashboard/totp")
    token = CSRF_FIELD.search(code_page.text)
    assert token is not None
    if not second_factor:
        return Officer(http=http, csrf=token.group(1))
    code = totp_code(secret, site.platform.clock.now())
    assert (await http.post("/dashboard/totp", data={"csrf": token.group(1), "code": code})).status_code == 303
    inbox = await http.get("/dashboard")
    found = CSRF_FIELD.search(inbox.text)
    assert found is not None
    return Officer(http=http, csrf=found.group(1))


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    async with served(database_url, tmp_path) as started:
        yield started


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the routes are the same on any database
async def test_every_route_that_changes_anything_is_classified_and_machine_apis_prove_themselves(
    site: Served,
) -> None:
    found = unsafe_routes(list(site.app.routes))
    emulator = {path for path in found if path.startswith(EMULATOR + "/")}
    assert emulator  # mounted in development, so enumerated too
    unclassified = found - emulator - set(SESSION_FORMS) - set(SESSIONLESS_FORMS) - set(MACHINE_APIS)
    assert unclassified == set()
    assert {"/dashboard/logout", "/dashboard/login", "/webhooks/whatsapp"} <= found
    unsigned = await site.http.post("/webhooks/whatsapp", content=b'{"object": "whatsapp_business_account"}')
    assert unsigned.status_code == 401
    payment = await site.http.post("/webhooks/payments/simulated", content=b"{}")
    assert payment.status_code == 401
    checked = await site.http.post("/api/verify", json={"qr_text": "hello"})
    assert checked.status_code == 200 and "set-cookie" not in checked.headers


async def test_forged_forms_are_refused_and_change_nothing(site: Served) -> None:
    officer, half = await signed_in(site, "admin.ntr"), await signed_in(site, "admin.half", second_factor=False)
    routes = unsafe_routes(list(site.app.routes))
    # an officer's form without the session's token (or with another's, or a forged one) is refused
    for path, fields in SESSION_FORMS.items():
        if path not in routes:
            continue
        client = half if path == "/dashboard/totp" else officer
        for token in (None, "", "forged-" + officer.csrf[7:], half.csrf if client is officer else officer.csrf):
            form = fields if token is None else {**fields, "csrf": token}
            refused = await client.http.post(concrete(path), data=form)
            assert refused.status_code == 403, (path, token)
    # any form sent from another site's page is refused, even with the token itself
    browser_only = (set(SESSION_FORMS) | set(SESSIONLESS_FORMS)) & routes
    emulator = {path for path in routes if path.startswith(EMULATOR + "/")}
    foreign = ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"})
    async with httpx.AsyncClient(base_url=site.url, timeout=10, cookies=officer.http.cookies) as forged:
        for headers in foreign:
            for path in sorted(browser_only | emulator):
                fields = {**SESSION_FORMS.get(path, {}), "csrf": officer.csrf}
                refused = await forged.post(concrete(path), data=fields, headers=headers)
                assert (refused.status_code, refused.text) == (403, "cross-site request refused"), (path, headers)
    assert (await officer.http.get("/dashboard")).status_code == 200  # still signed in: the sign-out was refused
    assert (await half.http.get("/dashboard/totp")).status_code == 200  # the code was never tried
    done = {row.action for row in await site.platform.access.audit.recent(500)}
    assert not done & {
        "broadcast",
        "broadcast_refused",
        "reject",
        "approve",
        "approve_refused",
        "sign_out",
        "totp_failed",
    }
    signed_out = await officer.http.post("/dashboard/logout", data={"csrf": officer.csrf})
    assert signed_out.status_code == 303  # the same form with its token is taken
    for client in (officer, half):
        await client.http.aclose()
