"""No raw Aadhaar number anywhere at rest or on show, after a whole real run: a citizen applies in chat
for an e-Shram card (the number typed in groups) and checks a pension (typed whole) and writes a number
in free text; an officer opens the application in the dashboard and approves it; the certificate is
issued and sent. Then every column of every table, the log lines (INFO and above, as in production),
the dashboard's and the verification portal's pages and the PDFs' text are searched for those numbers,
whole, in groups of four or hyphenated. The emulator's own chat log (the phone's copy, not ours) must
hold them, which shows the search finds what is there."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from sqlalchemy import MetaData, func, select

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.adapters.sql.tables import applications, certificates, conversations, inbox, outbox, privacy_marks
from sevamitra.core.idnumbers import verhoeff_digit
from tests.e2e.conftest import Running, platform_on_port

WA = "919800000707"
ESHRAM, PENSION = "labour.e-shram-registration", "social-welfare.pension-status"
NUMBERS = {  # what the citizen typed, and how
    "form": "52345678901" + verhoeff_digit("52345678901"),
    "pension": "63456789012" + verhoeff_digit("63456789012"),
    "free_text": "74567890123" + verhoeff_digit("74567890123"),
}
PASSWORD = "Godavari-delta-2026"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ANSWERS = {"person_name": "Lakshmi Devi", "date_of_birth": "15-08-1985", "mobile": "9876543210"}


def grouped(number: str, separator: str = " ") -> str:
    return separator.join((number[:4], number[4:8], number[8:]))


def forms(number: str) -> tuple[str, ...]:
    return number, grouped(number), grouped(number, "-")


def found_in(text: str) -> list[str]:
    return [form for number in NUMBERS.values() for form in forms(number) if form in text]


@pytest.fixture
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with platform_on_port(database_url, tmp_path, log_interval_seconds=0.2) as started:
        yield started


class Chat:
    """The citizen at the emulator's chat page: each message, and the replies it brought."""

    def __init__(self, running: Running) -> None:
        self.running = running

    async def send(self, **message: str) -> list[dict[str, Any]]:
        before = len(await self.running.replies(WA, 0, timeout=0))
        await self.running.send(WA, **message)
        out = await self.running.replies(WA, before + 1, timeout=20)
        while True:
            await asyncio.sleep(0.3)
            now = await self.running.replies(WA, 0, timeout=0)
            if len(now) == len(out):
                replies: list[dict[str, Any]] = [m["body"] for m in out[before:]]  # type: ignore[misc]
                return await self.consent(replies) or replies
            out = now

    async def consent(self, replies: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Accept a consent notice where one is shown, and carry on."""
        for button in (b for body in replies for b in _buttons(body)):
            if button["id"].startswith("privacy:accept"):
                return await self.send(type="button_reply", id=button["id"], title=button["title"])
        return None

    async def state(self) -> dict[str, Any]:
        platform = self.running.platform
        async with platform.cases.engine.connect() as connection:
            sealed = await connection.scalar(select(conversations.c.state).where(conversations.c.address == WA))
        state: dict[str, Any] = json.loads(platform.cases.sealer.open(str(sealed)))
        return state

    async def apply(self, service_id: str, aadhaar: str) -> None:
        """Open the service, answer each question by its field's type, and submit."""
        service = self.running.platform.context.catalogue.service(service_id)
        assert service is not None
        await self.send(type="button_reply", id=f"svc:{service_id}", title="service")
        replies = await self.send(type="button_reply", id="form:start", title="Apply")
        for _ in range(30):
            state = await self.state()
            if state["screen"] == "confirm":
                await self.send(type="button_reply", id="form:submit", title="Submit")
                return
            spec = service.fields[state["draft"]["index"]]
            choices = [c for body in replies for c in _buttons(body) + _rows(body)]
            if spec.type in ("choice_one", "address_ap") and not choices:  # a numbered list in the text
                replies = await self.send(type="text", text="1")
            elif spec.type == "aadhaar":
                replies = await self.send(type="text", text=aadhaar)
            elif spec.type in ANSWERS:
                replies = await self.send(type="text", text=ANSWERS[spec.type])
            elif spec.type == "text":
                replies = await self.send(type="text", text=str(spec.rules.get("example", "Construction work")))
            elif any(c["id"].startswith("place:") and "/" not in c["id"] for c in choices):  # the district list
                replies = await self.send(type="list_reply", id="place:ntr", title="NTR")  # a district with villages
            else:  # a choice, a mandal or a village: the first offered
                choice = choices[0]
                kind = "list_reply" if choice in [c for body in replies for c in _rows(body)] else "button_reply"
                replies = await self.send(type=kind, id=choice["id"], title=choice["title"])
        raise AssertionError(f"{service_id}: the form did not reach its summary")


def _buttons(body: dict[str, Any]) -> list[dict[str, str]]:
    interactive = body.get("interactive") or {}
    return [b["reply"] for b in interactive.get("action", {}).get("buttons", [])]


def _rows(body: dict[str, Any]) -> list[dict[str, str]]:
    interactive = body.get("interactive") or {}
    return [r for s in interactive.get("action", {}).get("sections", []) for r in s["rows"]]


async def officer_signs_in(running: Running, desk: str) -> tuple[httpx.AsyncClient, str]:
    role, _, place = desk.partition("@")
    _, secret = await running.platform.access.create_officer(
        username="desk.officer",
        display_name="Desk Officer",
        role=role,
        place=place,
        department_id=None,
        password=PASSWORD,
    )
    http = httpx.AsyncClient(base_url=running.url, timeout=20)
    await http.post("/dashboard/login", data={"username": "desk.officer", "password": PASSWORD})
    page = await http.get("/dashboard/totp")
    found = CSRF.search(page.text)
    assert found is not None
    code = totp_code(secret, running.platform.clock.now())
    assert (await http.post("/dashboard/totp", data={"csrf": found.group(1), "code": code})).status_code == 303
    inbox_page = await http.get("/dashboard", params={"lang": "en"})
    csrf = CSRF.search(inbox_page.text)
    assert inbox_page.status_code == 200 and csrf is not None
    return http, csrf.group(1)


async def settled(running: Running) -> None:
    """Every message answered, every reply sent, and the masking chore past every processed message."""
    engine = running.platform.cases.engine
    for _ in range(200):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count()).where(inbox.c.state == "pending", inbox.c.kind == "message")
            )
            unsent = await connection.scalar(select(func.count()).where(outbox.c.state.in_(("pending", "sending"))))
            last = await connection.scalar(select(func.max(inbox.c.id)).where(inbox.c.kind == "message"))
            mark = await connection.scalar(select(privacy_marks.c.position))
        if not waiting and not unsent and (mark or 0) >= (last or 0):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not settled: {waiting} waiting, {unsent} unsent, mark {mark} of {last}")


def _text_of(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")  # every byte as one character: digits stay digits
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def every_value(running: Running) -> dict[str, str]:
    """Every column of every table, as text, by table."""
    async with running.platform.cases.engine.connect() as connection:
        reflected = MetaData()
        await connection.run_sync(reflected.reflect)
        return {
            table.name: "\n".join(_text_of(v) for row in await connection.execute(select(table)) for v in row)
            for table in reflected.sorted_tables
        }


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf))


async def test_no_raw_aadhaar_in_any_table_log_page_or_pdf_after_a_whole_run(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    platform = running.platform
    chat = Chat(running)
    await running.new_citizen(WA)
    await chat.send(type="text", text="hi")
    await chat.send(type="button_reply", id="lang:en", title="English")
    await chat.send(type="text", text=f"my aadhaar number is {grouped(NUMBERS['free_text'])}")
    await chat.apply(ESHRAM, grouped(NUMBERS["form"]))
    await chat.apply(PENSION, NUMBERS["pension"])

    async with platform.cases.engine.connect() as connection:
        reference, desk = (
            await connection.execute(
                select(applications.c.reference, applications.c.desk).where(applications.c.service_id == ESHRAM)
            )
        ).one()
        answers = [
            platform.cases.sealer.open(a) for a in (await connection.execute(select(applications.c.answers))).scalars()
        ]
    assert any(NUMBERS["form"].encode() in a for a in answers)  # stored whole, sealed
    assert any(NUMBERS["pension"].encode() in a for a in answers)

    http, csrf = await officer_signs_in(running, desk)
    pages: dict[str, str] = {}
    try:
        pages["application"] = (await http.get(f"/dashboard/applications/{reference}", params={"lang": "en"})).text
        assert f"XXXX XXXX {NUMBERS['form'][-4:]}" in pages["application"]  # shown masked
        approved = await http.post(f"/dashboard/applications/{reference}/approve", data={"csrf": csrf})
        assert approved.status_code == 303
        for name, path in (("decided", f"/dashboard/applications/{reference}"), ("inbox", "/dashboard")):
            pages[name] = (await http.get(path, params={"lang": "en"})).text
        pages["analytics"] = (await http.get("/dashboard/analytics")).text
        pages["analytics.csv"] = (await http.get("/dashboard/analytics.csv")).text
    finally:
        await http.aclose()
    await settled(running)
    await platform.transparency.publish_all()

    async with platform.cases.engine.connect() as connection:
        (certificate,) = (await connection.execute(select(certificates))).all()
    qr = platform.certifier.qr_text(certificate.cose)
    pages["verified"] = (await running.http.get(f"{running.url}/V/{qr.rpartition('/V/')[2]}")).text
    assert 'data-verdict="valid"' in pages["verified"]
    pages["verify api"] = (await running.http.post(f"{running.url}/api/verify", json={"qr_text": qr})).text
    download = await running.http.get(f"{running.url}/c/{certificate.download_token}.pdf")
    texts = {"certificate pdf": pdf_text(certificate.pdf), "downloaded pdf": pdf_text(download.content)}
    assert f"XXXX XXXX {NUMBERS['form'][-4:]}" in texts["certificate pdf"]  # printed masked

    leaks = {
        **{f"table {name}": found_in(values) for name, values in (await every_value(running)).items()},
        **{f"page {name}": found_in(page) for name, page in pages.items()},
        **{name: found_in(text) for name, text in texts.items()},
        "log lines": found_in("\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)),
    }
    assert {where: forms_ for where, forms_ in leaks.items() if forms_} == {}
    assert len(caplog.records) > 0
    phone_copy = json.dumps(await running.chat(WA), ensure_ascii=False)  # the citizen's phone keeps what they typed
    assert {grouped(NUMBERS["form"]), NUMBERS["pension"], grouped(NUMBERS["free_text"])} <= set(found_in(phone_copy))
