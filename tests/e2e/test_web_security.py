"""The web app's answers under uvicorn (SQLite and PostgreSQL): security headers on every page and API answer,
a CSP whose hashes are exactly the page's own inline styles, cookies that scripts and other sites cannot use,
and no phone or Aadhaar number in any URL an officer's pages link to or redirect through."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.core.applications import reference_prefix
from sevamitra.core.messages import Recipient
from sevamitra.testing.applications import submitted
from tests.support.served import Served, served

PASSWORD = "Krishna-delta-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
PHONE = "919876543210"
AADHAAR = "234567890124"
SERVICE = "labour.shops-establishments-registration"


class InlineBlocks(HTMLParser):
    """The text of each inline <style> and <script> as a browser's parser reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: str | None = None
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.attributes: list[str] = []  # style="..." values
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("style") is not None:
            self.attributes.append(str(found["style"]))
        if tag in ("style", "script") and not found.get("src"):
            self.open = tag
            (self.styles if tag == "style" else self.scripts).append("")
        for name in ("href", "src", "action"):
            if found.get(name):
                self.links.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == self.open:
            self.open = None

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            blocks = self.styles if self.open == "style" else self.scripts
            blocks[-1] += data


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_common_headers(response: httpx.Response, *, https: bool = False, api: bool = False) -> None:
    """The security headers; an API answer (the webhook's) carries those that mean anything to it."""
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path}"
    assert headers["x-content-type-options"] == "nosniff", where
    assert "frame-ancestors 'none'" in headers["content-security-policy"], where
    assert ("strict-transport-security" in headers) is https, where
    if not api:
        assert headers["referrer-policy"] == "no-referrer", where
        assert headers["x-frame-options"] == "DENY", where


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    async with served(database_url, tmp_path) as started:
        yield started


ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the same on any database


@ONE_DATABASE
async def test_every_answer_carries_the_security_headers_and_cookies_stay_out_of_reach(site: Served) -> None:
    for path in ("/", "/verify", "/V/NOTAQR", "/verifier.html", "/charter", "/dashboard/login", "/emulator/"):
        # each page's inline <style> and <script> blocks and style attributes, found by a real HTML parser
        page = await site.http.get(path)
        assert page.headers["content-type"].startswith("text/html"), path
        assert_common_headers(page)
        policy = directives(page.headers["content-security-policy"])
        assert "'unsafe-inline'" not in page.headers["content-security-policy"], path
        blocks = InlineBlocks()
        blocks.feed(page.text)
        assert {sha256(style) for style in blocks.styles} <= set(policy["style-src"]), path
        assert {sha256(script) for script in blocks.scripts} <= set(policy["script-src"]), path
        assert bool(blocks.attributes) is (path == "/V/NOTAQR"), path  # only the verdict has a style="..."
        if blocks.attributes:  # the verdict's colour: allowed by its hash, never by 'unsafe-inline'
            assert {"'unsafe-hashes'", *map(sha256, blocks.attributes)} <= set(policy["style-src"]), path
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    for path in ("/health", "/log/checkpoint", "/.well-known/sevamitra/keys.json", "/dashboard/nowhere"):
        answer = await site.http.get(path)
        assert_common_headers(answer)
        assert "sandbox" in answer.headers["content-security-policy"], path  # not a page: nothing in it runs
    webhook = await site.http.post("/webhooks/whatsapp", content=b"{}")  # the fast path, before any middleware
    assert webhook.status_code == 401
    assert_common_headers(webhook, api=True)
    assert "sandbox" in webhook.headers["content-security-policy"]
    refused = await site.http.post("/verify", content=b"x", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    assert_common_headers(refused)
    # a policy hash allows exactly the page's own style, and nothing else
    page = await site.http.get("/dashboard/login")
    policy = directives(page.headers["content-security-policy"])
    blocks = InlineBlocks()
    blocks.feed(page.text)
    assert blocks.styles and policy["style-src"] == ["'self'", *dict.fromkeys(map(sha256, blocks.styles))]
    assert sha256(blocks.styles[0] + " ") not in policy["style-src"]  # a changed style would not be applied
    # the session cookie: out of scripts' and other sites' reach
    await site.platform.access.create_officer(
        username="admin.ntr",
        display_name="Officer",
        role="district_admin",
        place="ntr",
        department_id=None,
        password=PASSWORD,
    )
    login = await site.http.post("/dashboard/login", data={"username": "admin.ntr", "password": PASSWORD})
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
    assert "secure" not in cookie  # plain http on loopback in development
    proxied = await site.http.post(
        "/dashboard/login",
        data={"username": "admin.ntr", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},  # a TLS-terminating proxy on this host
    )
    assert "secure" in proxied.headers["set-cookie"].lower()


@ONE_DATABASE
async def test_an_https_deployment_sends_hsts_and_only_secure_cookies(database_url: str, tmp_path: Path) -> None:
    async with served(database_url, tmp_path, public_url="https://seva.example.gov.in") as site:
        await site.platform.access.create_officer(
            username="admin.ntr",
            display_name="Officer",
            role="district_admin",
            place="ntr",
            department_id=None,
            password=PASSWORD,
        )
        for path in ("/health", "/verify"):
            assert_common_headers(await site.http.get(path), https=True)
        assert_common_headers(await site.http.post("/webhooks/whatsapp", content=b"{}"), https=True, api=True)
        # the proxy in front did not say https (no X-Forwarded-Proto): the cookie is Secure all the same
        login = await site.http.post("/dashboard/login", data={"username": "admin.ntr", "password": PASSWORD})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert "path=/dashboard" in cookie


async def test_no_phone_or_aadhaar_number_in_any_url_of_the_officers_pages(site: Served) -> None:
    platform = site.platform
    service = platform.context.catalogue.service(SERVICE)
    assert service is not None
    now = platform.clock.now()
    answers = {
        "establishment_name": "Sri Lakshmi Stores",
        "applicant_name": "Venkata Rao",
        "aadhaar": AADHAAR,
        "establishment_address": {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": ""},
        "category": "shop",
        "employees": 3,
        "start_date": "2025-12-01",
    }
    reference = f"{reference_prefix(service)}-{now.year:04d}-000001"
    async with platform.cases.engine.begin() as connection:
        application = submitted(service, answers, now, Recipient(wa_id=PHONE))
        await insert_application(connection, platform.cases.sealer, PHONE, application, reference)
    _, secret = await platform.access.create_officer(
        username="alo.vjw",
        display_name="Officer",
        role="assistant_labour_officer",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )
    async with httpx.AsyncClient(base_url=site.url, timeout=10, headers={"Sec-Fetch-Site": "same-origin"}) as http:
        visited = await walk(http, secret, platform.clock.now())
    urls = visited["urls"]
    assert f"/dashboard/applications/{reference}" in urls  # the walk reached the application itself
    assert len(urls) > 10
    numbers = (PHONE, PHONE[2:], AADHAAR, AADHAAR[:4] + " " + AADHAAR[4:8])
    leaked = [url for url in urls if any(number in url for number in numbers)]
    assert leaked == []


async def walk(http: httpx.AsyncClient, secret: str, now: datetime) -> dict[str, set[str]]:
    """Sign in, then follow every same-site link, form and redirect of the dashboard's pages (GET only)."""
    login = await http.post("/dashboard/login", data={"username": "alo.vjw", "password": PASSWORD})
    page = await http.get("/dashboard/totp")
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    code = totp_code(secret, now)
    entered = await http.post("/dashboard/totp", data={"csrf": token.group(1), "code": code})
    urls: set[str] = {str(login.headers["location"]), str(entered.headers["location"])}
    queue, seen = ["/dashboard"], set[str]()
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen or path.split("?")[0].endswith((".pdf", ".csv")):  # files: their links are enough
            urls.add(path)
            continue
        seen.add(path)
        answer = await http.get(path)
        urls.add(str(answer.request.url))
        if "location" in answer.headers:
            urls.add(answer.headers["location"])
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        blocks = InlineBlocks()
        blocks.feed(answer.text)
        for link in blocks.links:
            urls.add(link)
            target = urlsplit(urljoin(str(answer.request.url), link))
            ours = target.netloc == http.base_url.netloc and target.path.startswith(("/dashboard", "/charter"))
            if ours and not target.path.endswith("/logout"):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return {"urls": urls}
