"""The alerts page over HTTP under uvicorn, on SQLite and PostgreSQL: a district administrator
broadcasts to their district and sees how many citizens it reached, is refused another district,
every form needs the session's CSRF token, officers who are not administrators send nothing, and
every broadcast and refusal is in the audit log."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.subscriptions import SqlSubscriptions
from sevamitra.adapters.sql.tables import outbox
from sevamitra.bootstrap import Platform, build
from sevamitra.bootstrap.officials_auth import OfficerAccess
from sevamitra.core.messages import Recipient
from sevamitra.settings import Settings
from sevamitra.testing.clock import FixedClock
from sevamitra.web.auth import auth_routes
from sevamitra.web.broadcasts import broadcast_routes
from sevamitra.web.templating import Templates
from tests.e2e.conftest import free_port, uvicorn_on

PASSWORD = "Krishna-barrage-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
RURAL = "ntr/vijayawada-rural"
PAGE = "/dashboard/broadcasts"


@dataclass
class Officer:
    username: str
    http: httpx.AsyncClient
    csrf: str = ""

    async def send(self, **form: str) -> httpx.Response:
        return await self.http.post(PAGE, data={"csrf": self.csrf, **form})


@dataclass
class Site:
    platform: Platform
    access: OfficerAccess
    url: str
    officers: dict[str, Officer] = field(default_factory=dict)

    async def add_officer(self, username: str, role: str, place: str, department_id: str | None = None) -> Officer:
        _, secret = await self.access.create_officer(
            username=username,
            display_name=f"Officer {username}",
            role=role,
            place=place,
            department_id=department_id,
            password=PASSWORD,
        )
        http = httpx.AsyncClient(base_url=self.url, timeout=20)
        login = await http.post("/dashboard/login", data={"username": username, "password": PASSWORD})
        assert (login.status_code, login.headers["location"]) == (303, "/dashboard/totp")
        found = CSRF_FIELD.search((await http.get("/dashboard/totp")).text)
        assert found is not None
        code = totp_code(secret, self.platform.clock.now())
        entered = await http.post("/dashboard/totp", data={"csrf": found.group(1), "code": code})
        assert entered.status_code == 303
        officer = Officer(username=username, http=http, csrf=found.group(1))  # the session's token
        self.officers[username] = officer
        return officer

    async def subscribe(self, address: str, topic: str, area: str, language: str = "en") -> None:
        store = SqlSubscriptions(self.platform.cases.engine)
        await store.subscribe(address, Recipient(wa_id=address), topic, area, language, self.platform.clock.now())

    async def queued(self) -> int:
        async with self.platform.cases.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(outbox)) or 0)

    async def audit(self) -> list[tuple[str, dict[str, object] | None]]:
        return [(row.action, row.detail) for row in reversed(await self.access.audit.recent(100))]


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    """The sign-in and alerts pages on the platform, with a district, a state and a mandal officer signed in."""
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
        routes=[*auth_routes(platform.access, templates), *broadcast_routes(platform, platform.access, templates)],
        lifespan=lifespan,
    )
    async with uvicorn_on(app, port):
        found = Site(platform=platform, access=platform.access, url=url)
        await found.add_officer("admin.ntr", "district_admin", "ntr")
        await found.add_officer("admin.state", "state_admin", "state")
        await found.add_officer("tahsildar.vjw", "tahsildar", RURAL)
        try:
            yield found
        finally:
            for officer in found.officers.values():
                await officer.http.aclose()


async def test_a_district_administrator_broadcasts_to_their_district_and_sees_the_count(site: Site) -> None:
    admin = site.officers["admin.ntr"]
    await site.subscribe("919000000001", "weather", RURAL, "te")
    await site.subscribe("919000000002", "weather", "ntr/vijayawada-rural/nunna")
    await site.subscribe("919000000003", "weather", "guntur")  # another district
    await site.subscribe("919000000004", "health", RURAL)  # another topic

    page = await admin.http.get(PAGE, params={"lang": "en"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'value="ntr"' in page.text and f'value="{RURAL}"' in page.text  # the district and its mandals
    assert 'value="guntur"' not in page.text and 'value="state"' not in page.text
    assert "Power outage" in page.text and "No alerts have been sent yet." in page.text

    sent = await admin.send(topic="weather", area=RURAL, text="Heavy rain tonight: stay away from the canal.")
    assert (sent.status_code, sent.headers["location"]) == (303, f"{PAGE}?sent=2")
    assert await site.queued() == 2

    listed = await admin.http.get(sent.headers["location"] + "&lang=en")
    assert listed.status_code == 200
    assert "The alert is queued for 2 citizens." in listed.text
    assert re.search(r'data-testid="recipients">2<', listed.text)
    assert "Heavy rain tonight: stay away from the canal." in listed.text
    assert "Vijayawada Rural, NTR" in listed.text

    (detail,) = [d for action, d in await site.audit() if action == "broadcast"]
    assert detail == {
        "topic": "weather",
        "area": RURAL,
        "emergency": False,
        "text": "Heavy rain tonight: stay away from the canal.",
        "recipients": 2,
    }


async def test_a_district_administrator_is_refused_another_district(site: Site) -> None:
    admin = site.officers["admin.ntr"]
    await site.subscribe("919000000003", "weather", "guntur")
    for area in ("guntur", "guntur/pedakakani", "state"):
        refused = await admin.send(topic="weather", area=area, text="Heavy rain")
        assert refused.status_code == 403, area
        assert site.platform.context.texts.get("te", "alerts.error.refused") in refused.text  # Telugu by default
    assert await site.queued() == 0
    refusals = [d for action, d in await site.audit() if action == "broadcast_refused"]
    assert [d["area"] for d in refusals if d] == ["guntur", "guntur/pedakakani", "state"]


async def test_every_broadcast_needs_the_sessions_csrf_token_and_a_session(site: Site) -> None:
    admin = site.officers["admin.ntr"]
    await site.subscribe("919000000001", "weather", RURAL)
    form = {"topic": "weather", "area": RURAL, "text": "Heavy rain"}
    missing = await admin.http.post(PAGE, data=form)
    assert missing.status_code == 403 and 'data-kind="expired"' in missing.text
    wrong = await admin.http.post(PAGE, data={**form, "csrf": "not-the-token"})
    assert wrong.status_code == 403
    other = await admin.http.post(PAGE, data={**form, "csrf": site.officers["admin.state"].csrf})
    assert other.status_code == 403  # another session's token will not do
    cross_site = await admin.http.post(
        PAGE, data={**form, "csrf": admin.csrf}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    async with httpx.AsyncClient(base_url=site.url) as stranger:
        assert (await stranger.post(PAGE, data={**form, "csrf": admin.csrf})).status_code == 401
        shown = await stranger.get(PAGE)
        assert (shown.status_code, shown.headers["location"]) == (303, "/dashboard/login")
    assert await site.queued() == 0
    assert "broadcast" not in [action for action, _ in await site.audit()]


async def test_officers_who_are_not_administrators_send_no_alerts(site: Site) -> None:
    tahsildar = site.officers["tahsildar.vjw"]
    await site.subscribe("919000000001", "weather", RURAL)
    page = await tahsildar.http.get(PAGE, params={"lang": "en"})
    assert page.status_code == 403
    assert "Only district, department and state administrators send alerts." in page.text
    assert 'name="text"' not in page.text
    sent = await tahsildar.send(topic="weather", area=RURAL, text="Heavy rain")
    assert sent.status_code == 403
    assert await site.queued() == 0
    assert ("broadcast_refused", {"role": "tahsildar"}) in await site.audit()


async def test_an_alert_that_will_not_do_is_shown_again_with_the_problem(site: Site) -> None:
    admin = site.officers["admin.ntr"]
    too_long = "వర్షం " * 150  # 900 characters
    answered = await admin.send(topic="weather", area=RURAL, text=too_long)
    assert answered.status_code == 422
    assert "700" in answered.text and too_long.strip() in answered.text  # the officer's words kept
    empty = await admin.send(topic="weather", area=RURAL, text="   ")
    assert empty.status_code == 422
    unknown = await admin.send(topic="earthquake", area=RURAL, text="Heavy rain")
    assert unknown.status_code == 422
    assert await site.queued() == 0


async def test_a_state_administrator_sends_an_emergency_that_reaches_non_subscribers_of_the_topic(site: Site) -> None:
    admin = site.officers["admin.state"]
    await site.subscribe("919000000005", "exams", "guntur/pedakakani", "te")  # another topic, inside Guntur
    await site.subscribe("919000000006", "exams", "ntr")
    page = await admin.http.get(PAGE)
    assert page.status_code == 200 and 'value="state"' in page.text and 'value="guntur"' in page.text
    sent = await admin.send(topic="weather", area="guntur", text="Cyclone: move to the shelters.", emergency="on")
    assert (sent.status_code, sent.headers["location"]) == (303, f"{PAGE}?sent=1")
    listed = await admin.http.get(sent.headers["location"] + "&lang=en")
    assert "Emergency" in listed.text and "Cyclone: move to the shelters." in listed.text
    async with site.platform.cases.engine.connect() as connection:
        (payload,) = (await connection.execute(select(outbox.c.payload))).scalars()
    assert payload["body"].startswith("⚠️ EMERGENCY · అత్యవసరం\n📢 వాతావరణం · గుంటూరు")
