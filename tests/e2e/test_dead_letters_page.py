"""Dead letters end to end, on SQLite and PostgreSQL: the platform under uvicorn sends to the emulator, which
refuses one message for good at once (131009), and reports others failed later by status webhook (131047
with nothing to replace it, 131026); a message with a template is replaced, not lost. The state
administrator lists them (the citizen's number masked) and queues one, then all, again: the retried one
reaches the citizen, and each retry is in the audit log. Other roles see and retry nothing, and a form
without the session's CSRF token queues nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.tables import dead_letters, outbox
from sevamitra.core.messages import TemplateOut, TextOut, outbound_to_dict
from tests.e2e.conftest import Running, platform_on_port

PASSWORD = "Krishna-barrage-2026"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
PAGE = "/dashboard/dead-letters"
RETRY = "/dashboard/dead-letters/retry"
OPEN, CLOSED, FALLBACK = "919000000501", "919000000502", "919000000503"  # window open; never wrote; never wrote


@dataclass
class Desk:
    running: Running
    officers: dict[str, tuple[httpx.AsyncClient, str]] = field(default_factory=dict)

    async def sign_in(self, username: str, role: str, place: str) -> tuple[httpx.AsyncClient, str]:
        access = self.running.platform.access
        _, secret = await access.create_officer(
            username=username, display_name=username, role=role, place=place, department_id=None, password=PASSWORD
        )
        http = httpx.AsyncClient(base_url=self.running.url, timeout=20)
        login = await http.post("/dashboard/login", data={"username": username, "password": PASSWORD})
        assert login.status_code == 303
        found = CSRF_FIELD.search((await http.get("/dashboard/totp")).text)
        assert found is not None
        code = totp_code(secret, self.running.platform.clock.now())
        assert (await http.post("/dashboard/totp", data={"csrf": found.group(1), "code": code})).status_code == 303
        self.officers[username] = (http, found.group(1))
        return http, found.group(1)

    async def queue(self, address: str, payload: dict[str, Any], **recipient: str | None) -> None:
        now = self.running.platform.clock.now()
        async with self.running.platform.cases.engine.begin() as connection:
            await connection.execute(
                insert(outbox).values(
                    address=address,
                    wa_id=recipient.get("wa_id", address),
                    user_id=recipient.get("user_id"),
                    payload=payload,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        self.running.platform.sending.set()

    async def dead(self) -> list[Any]:
        async with self.running.platform.cases.engine.connect() as connection:
            return list(await connection.execute(select(dead_letters).order_by(dead_letters.c.id)))

    async def queued_to(self, address: str) -> int:
        async with self.running.platform.cases.engine.connect() as connection:
            query = select(func.count()).select_from(outbox).where(outbox.c.address == address)
            return int(await connection.scalar(query) or 0)

    async def all_sent(self) -> bool:
        async with self.running.platform.cases.engine.connect() as connection:
            waiting = outbox.c.state.in_(("pending", "sending"))
            return not await connection.scalar(select(func.count()).select_from(outbox).where(waiting))


@pytest.fixture
async def desk(database_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    async with platform_on_port(database_url, tmp_path) as running:
        found = Desk(running=running)
        try:
            yield found
        finally:
            for http, _ in found.officers.values():
                await http.aclose()


async def wait_for(check: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_officers_list_and_retry_dead_letters_and_only_the_state_administrator_may(desk: Desk) -> None:
    running = desk.running
    await running.new_citizen(OPEN)
    await running.send(OPEN, type="text", text="hi")
    await running.replies(OPEN, 1)  # the window is open, the conversation under way
    await wait_for(desk.all_sent)

    faults = {"statuses": [400], "error_codes": {"400": 131009}}  # an invalid parameter: refused for good
    await running.http.post(f"{running.url}/emulator/_control/faults", json=faults)
    await desk.queue(OPEN, outbound_to_dict(TextOut(body="refused at once")))

    async def one_dead() -> bool:
        return len(await desk.dead()) == 1

    await wait_for(one_dead)
    await desk.queue(CLOSED, outbound_to_dict(TextOut(body="outside the window, nothing to replace it")))
    template = outbound_to_dict(TemplateOut(name="application_update", language="en"))
    await desk.queue(FALLBACK, {**outbound_to_dict(TextOut(body="has a template")), "fallback": template})
    await desk.queue("IN.unknown", outbound_to_dict(TextOut(body="nobody")), wa_id=None, user_id="IN.unknown")

    async def three_dead() -> bool:
        return len(await desk.dead()) >= 3

    await wait_for(three_dead)
    by_state = {row.state: row for row in await desk.dead()}
    assert set(by_state) == {"failed", "outside_window", "undeliverable"}
    assert (by_state["failed"].address, by_state["failed"].error_code, by_state["failed"].attempts) == (OPEN, 131009, 1)
    assert (by_state["outside_window"].address, by_state["outside_window"].error_code) == (CLOSED, 131047)
    assert by_state["undeliverable"].error_code == 131026

    async def template_sent() -> bool:
        return any(m.get("body", {}).get("type") == "template" for m in await running.chat(FALLBACK))

    await wait_for(template_sent)  # replaced by its template, so not a dead letter
    assert all(row.address != FALLBACK for row in await desk.dead())

    admin, csrf = await desk.sign_in("admin.state", "state_admin", "state")
    page = await admin.get(PAGE, params={"lang": "en"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "3 waiting" in page.text
    assert "91••••••0501" in page.text and OPEN not in page.text and CLOSED not in page.text
    assert "131009" in page.text and "outside the 24-hour window" in page.text and "not deliverable" in page.text
    assert "refused at once" not in page.text  # never a message's text

    district, district_csrf = await desk.sign_in("admin.ntr", "district_admin", "ntr")
    refused = await district.get(PAGE, params={"lang": "en"})
    assert refused.status_code == 403
    assert "Only the state administrator" in refused.text and "0501" not in refused.text
    assert (await district.post(RETRY, data={"csrf": district_csrf, "all": "1"})).status_code == 403

    queued = await desk.queued_to(OPEN)
    assert (await admin.post(RETRY, data={"id": str(by_state["failed"].id)})).status_code == 403  # no CSRF token
    assert await desk.queued_to(OPEN) == queued

    retried = await admin.post(RETRY, data={"csrf": csrf, "id": str(by_state["failed"].id)})
    assert (retried.status_code, retried.headers["location"]) == (303, f"{PAGE}?retried=1")
    assert "1 messages queued again." in (await admin.get(retried.headers["location"] + "&lang=en")).text

    async def delivered() -> bool:
        return any(m.get("body", {}).get("text", {}).get("body") == "refused at once" for m in await running.chat(OPEN))

    await wait_for(delivered)  # the fault is spent: the retried message reaches the citizen

    everything = await admin.post(RETRY, data={"csrf": csrf, "all": "1"})
    assert everything.headers["location"] == f"{PAGE}?retried=2"
    assert all(row.retried_at is not None for row in (await desk.dead())[:3])

    audit = [(row.action, row.detail) for row in reversed(await running.platform.access.audit.recent(50))]
    retries = [detail for action, detail in audit if action == "dead_letters_retried"]
    assert retries == [
        {"count": 1, "all": False, "dead_letters": [by_state["failed"].id]},
        {
            "count": 2,
            "all": True,
            "dead_letters": sorted([by_state["outside_window"].id, by_state["undeliverable"].id]),
        },
    ]
    assert ("dead_letters_refused", {"role": "district_admin"}) in audit
