"""Property tax paid inside WhatsApp, end to end on a real port: the decision sends an `order_details`
message, the emulator's Pay and Fail post Meta's signed `payment` statuses to `/webhooks/whatsapp`,
which settles them in the request, and the receipt PDF reaches the chat exactly once, whatever the
redeliveries, failures, late statuses and forged signatures."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from sevamitra.adapters.sql.payments import SqlPayments
from sevamitra.adapters.whatsapp.signature import sign
from sevamitra.bootstrap import build, build_emulator
from sevamitra.core.payments import Applied, OnChange, PaymentEvent, PaymentRecord, PaymentStatus
from sevamitra.emulator import Emulator, EmulatorConfig, payloads
from sevamitra.settings import Settings
from sevamitra.web.app import create_app
from tests.e2e.conftest import Running, free_port, uvicorn_on

CITIZEN = "919000000778"
APP_SECRET = "e2e-secret"
STEPS = [
    ("text", "hi"),
    ("button_reply", "lang:en"),
    ("list_reply", "svc:municipal.property-tax-payment"),
    ("button_reply", "form:start"),
    ("text", "1073506411"),
    ("button_reply", "form:submit"),
]
RECEIPT = r"/c/[A-Za-z0-9_-]+\.pdf"
FAILED = "did not go through"
database_urls = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@dataclass
class Paying:
    """The platform with WhatsApp payments, and the emulator playing Meta (and the citizen's phone)."""

    running: Running
    emulator: Emulator

    @property
    def webhook(self) -> str:
        return f"{self.running.url}/webhooks/whatsapp"

    async def chat_text(self) -> str:
        return json.dumps([m["body"] for m in await self.running.replies(CITIZEN, 0, timeout=0)], ensure_ascii=False)

    async def until(self, pattern: str, count: int = 1, timeout: float = 20.0) -> None:
        """Wait until the chat shows `pattern` `count` times."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(re.findall(pattern, seen := await self.chat_text())) < count:
            assert asyncio.get_running_loop().time() < deadline, f"no {pattern!r} x{count} in {seen[-800:]}"
            await asyncio.sleep(0.1)

    async def order(self) -> tuple[str, dict[str, Any]]:
        """Walk the property tax form; the id and parameters of the order the decision asks to pay."""
        running = self.running
        await running.new_citizen(CITIZEN)
        for kind, value in STEPS:
            count = len(await running.replies(CITIZEN, 0, timeout=0))
            if kind == "text":
                await running.send(CITIZEN, type="text", text=value)
            else:
                await running.send(CITIZEN, type=kind, id=value, title=value)
            await running.replies(CITIZEN, count + 1)
        await self.until('"order_details"')
        (entry,) = [m for m in await running.replies(CITIZEN, 0, timeout=0) if "order_details" in json.dumps(m)]
        return str(entry["id"]), entry["body"]["interactive"]["action"]["parameters"]  # type: ignore[index]

    async def press(self, message_id: str, outcome: str) -> None:
        """The citizen pays (or fails to pay) in WhatsApp; Meta's signed status is delivered at once."""
        url = f"{self.running.url}/emulator/_chat/{CITIZEN}/pay/{message_id}"
        (await self.running.http.post(url, json={"outcome": outcome})).raise_for_status()
        await self.emulator.wait_idle()

    async def post(self, body: bytes, signature: str | None = None) -> int:
        """A webhook POST as Meta makes it, signed with the app secret unless another signature is given."""
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature or sign(body, APP_SECRET)}
        return (await self.running.http.post(self.webhook, content=body, headers=headers)).status_code

    async def payment(self, reference_id: str) -> PaymentRecord:
        found = await self.running.platform.payments.payments.by_provider_ref(reference_id)
        assert found is not None
        return found

    def status_body(self, message_id: str, parameters: dict[str, Any], *, paid: bool, transaction: str) -> bytes:
        """A `payment` status update shaped, encoded and (by `post`) signed as the emulator and Meta do."""
        item = payloads.payment_status(
            message_id, parameters, paid=paid, recipient_id=CITIZEN, timestamp=1796018400, transaction_id=transaction
        )
        return payloads.encode(payloads.status_update(self.emulator.config, item))

    def last_payment_delivery(self) -> bytes:
        delivery = [d for d in self.emulator.webhooks.history if d.kind == "payment"][-1]
        assert delivery.state == "delivered" and delivery.last_status == 200
        return delivery.body


@pytest.fixture
async def paying(database_url: str, tmp_path: Path) -> AsyncIterator[Paying]:
    async with whatsapp_payments(database_url, tmp_path) as started:
        yield started


@asynccontextmanager
async def whatsapp_payments(database_url: str, tmp_path: Path) -> AsyncIterator[Paying]:
    """The platform under uvicorn with `PAYMENT_PROVIDER=whatsapp`, its worker, and the emulator."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="dev",
        database_url=database_url,
        graph_api_url=f"{url}/emulator",
        public_url=url,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_access_token="e2e-token",
        whatsapp_verify_token="e2e-verify",
        payment_provider="whatsapp",
        whatsapp_payment_configuration="ap-upi",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    emulator = build_emulator(settings, webhook_url=f"{url}/webhooks/whatsapp")
    platform = build(settings)
    app = create_app(platform, run_worker=True, emulator=emulator)
    async with uvicorn_on(app, port), httpx.AsyncClient(timeout=10) as http:
        running = Running(url=url, settings=settings, http=http, platform=platform)
        yield Paying(running=running, emulator=emulator.state.emulator)


@database_urls
async def test_an_order_paid_in_whatsapp_brings_one_receipt_and_a_redelivery_none_more(paying: Paying) -> None:
    message_id, parameters = await paying.order()
    assert parameters["payment_configuration"] == "ap-upi" and parameters["currency"] == "INR"
    reference_id = parameters["reference_id"]
    created = await paying.payment(reference_id)  # stored with the turn that sent the order
    assert created.status is PaymentStatus.CREATED and created.provider == "whatsapp"
    assert parameters["total_amount"] == {"value": created.amount_paise, "offset": 100}
    assert reference_id.startswith(created.reference) and len(reference_id) <= 35
    assert "/pay/" not in await paying.chat_text() and not re.search(RECEIPT, await paying.chat_text())

    await paying.press(message_id, "paid")
    await paying.until(RECEIPT)
    receipt = re.findall(RECEIPT, await paying.chat_text())[0]
    pdf = await paying.running.http.get(f"{paying.running.url}{receipt}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    paid = await paying.payment(reference_id)
    assert paid.status is PaymentStatus.PAID and paid.transaction_id and paid.transaction_id.startswith("pg_")

    assert await paying.post(paying.last_payment_delivery()) == 200  # Meta redelivers the same bytes
    await asyncio.sleep(1.0)  # time for anything it wrongly caused to reach the chat
    assert len(re.findall(RECEIPT, await paying.chat_text())) == 1
    assert (await paying.chat_text()).count("Payment received") == 1


@database_urls
async def test_a_failed_payment_then_a_successful_one_brings_one_receipt(paying: Paying) -> None:
    message_id, parameters = await paying.order()
    await paying.press(message_id, "failed")
    await paying.until(FAILED)
    assert (await paying.payment(parameters["reference_id"])).status is PaymentStatus.FAILED
    await paying.press(message_id, "paid")  # tried again on the same order
    await paying.until(RECEIPT)
    await asyncio.sleep(0.5)
    assert len(re.findall(RECEIPT, await paying.chat_text())) == 1
    assert (await paying.payment(parameters["reference_id"])).status is PaymentStatus.PAID


@database_urls
async def test_a_payment_status_without_a_good_signature_is_refused_and_changes_nothing(paying: Paying) -> None:
    message_id, parameters = await paying.order()
    body = paying.status_body(message_id, parameters, paid=True, transaction="forged")
    assert await paying.post(body, signature=sign(body, "not-the-app-secret")) == 403
    assert await paying.post(body, signature="sha256=" + "0" * 64) == 403
    headers = {"Content-Type": "application/json"}
    assert (await paying.running.http.post(paying.webhook, content=body, headers=headers)).status_code == 401
    await asyncio.sleep(0.5)
    assert (await paying.payment(parameters["reference_id"])).status is PaymentStatus.CREATED
    assert not re.search(RECEIPT, await paying.chat_text())
    assert await paying.post(body) == 200  # the same body, signed by Meta's app secret, is settled
    await paying.until(RECEIPT)


@database_urls
async def test_late_pending_and_failed_statuses_after_the_payment_leave_it_paid(paying: Paying) -> None:
    message_id, parameters = await paying.order()
    await paying.press(message_id, "paid")
    await paying.until(RECEIPT)
    pending = json.loads(paying.status_body(message_id, parameters, paid=False, transaction="late-1"))
    transaction = pending["entry"][0]["changes"][0]["value"]["statuses"][0]["payment"]["transaction"]
    transaction["status"] = "pending"  # an attempt still in flight: no event at all
    assert await paying.post(payloads.encode(pending)) == 200
    failed = paying.status_body(message_id, parameters, paid=False, transaction="late-2")
    assert await paying.post(failed) == 200
    await asyncio.sleep(1.0)
    assert (await paying.payment(parameters["reference_id"])).status is PaymentStatus.PAID
    chat = await paying.chat_text()
    assert len(re.findall(RECEIPT, chat)) == 1 and FAILED not in chat


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_chat_pages_pay_button_pays_the_order(paying: Paying, browser: Browser, tmp_path: Path) -> None:
    await paying.order()
    page = await browser.new_page(viewport={"width": 1100, "height": 860})
    await page.goto(f"{paying.running.url}/emulator/")
    await page.get_by_test_id("citizen-item").first.click()
    await expect(page.get_by_test_id("order-fail").last).to_be_visible(timeout=15_000)
    await page.get_by_test_id("order-pay").last.click()
    await expect(page.get_by_test_id("document-card").last).to_be_visible(timeout=20_000)
    await page.screenshot(path=str(tmp_path / "paid.png"), full_page=True)
    assert len(re.findall(RECEIPT, await paying.chat_text())) == 1


class UnavailablePayments(SqlPayments):
    async def apply(self, event: PaymentEvent, now: datetime, on_change: OnChange) -> Applied:
        raise ConnectionError("the database is gone")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_payment_status_that_cannot_be_settled_is_answered_503_so_meta_redelivers(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        env="dev",
        database_url=database_url,
        whatsapp_app_secret=APP_SECRET,
        payment_provider="whatsapp",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    platform = build(settings)
    store = platform.payments.payments
    assert isinstance(store, SqlPayments)
    platform.payments = dataclasses.replace(platform.payments, payments=UnavailablePayments(store.engine, store.sealer))
    config = EmulatorConfig(webhook_url="", app_secret=APP_SECRET, access_token="")
    order = {"reference_id": "AP-MUN-PTAX-2026-000001-a1b2c3d4", "total_amount": {"value": 100, "offset": 100}}
    status = payloads.payment_status(
        "wamid.X",
        order | {"currency": "INR"},
        paid=True,
        recipient_id=CITIZEN,
        timestamp=1796018400,
        transaction_id="t",
    )
    delivered = payloads.status("wamid.Y", "delivered", recipient_id=CITIZEN, timestamp=1796018400, conversation_id="c")
    transport = httpx.ASGITransport(app=create_app(platform, run_worker=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://platform.test") as client:

            async def post(item: dict[str, Any]) -> int:
                body = payloads.encode(payloads.status_update(config, item))
                headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
                return (await client.post("/webhooks/whatsapp", content=body, headers=headers)).status_code

            assert await post(status) == 503
            assert await post(delivered) == 200  # other statuses keep their path
    finally:
        await platform.aclose()
