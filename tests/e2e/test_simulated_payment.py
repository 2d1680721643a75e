"""A property tax payment end to end on a real port: the simulated gateway's page, its signed
webhook over HTTP, the receipt issued and queued once, and a redelivery that changes nothing."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from sevamitra.actions.pay import pay_link
from sevamitra.adapters.certs import verify_qr_text
from sevamitra.adapters.payments import simulated
from sevamitra.adapters.payments.simulated import SimulatedGateway
from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.adapters.registry_files import FileRegistry
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.payments import SqlPayments
from sevamitra.adapters.sql.stores import submit_application
from sevamitra.adapters.sql.tables import applications, certificates, outbox, payments
from sevamitra.bootstrap import Platform, build
from sevamitra.core.applications import Status, Submission, reference_prefix
from sevamitra.core.decisions import decide
from sevamitra.core.messages import Recipient
from sevamitra.core.payments import amount_paise
from sevamitra.core.ports import NewApplication
from sevamitra.settings import Settings
from sevamitra.web.payments import PaymentsWiring, payment_routes
from tests.e2e.conftest import free_port, uvicorn_on

SECRET = "e2e-payment-secret"
LINK_KEY = "e2e-pay-link-key"
CITIZEN = "919800000088"
SERVICE = "municipal.property-tax-payment"
ASSESSMENT = {"assessment_number": "1073506411"}  # ₹850 due (synthetic registry)


async def property_tax_application(platform: Platform, sealer: AesGcmSealer, engine: Any) -> tuple[str, int]:
    """A decided property tax application, as the chat stores it; its reference and amount in paise."""
    service = platform.context.catalogue.service(SERVICE)
    assert service is not None and service.delivery.registry
    now = platform.clock.now()
    record = await FileRegistry(platform.settings.catalogue_root / "registries").lookup(
        service.delivery.registry, service.id, ASSESSMENT
    )
    decision = decide(service.delivery.registry, service.id, ASSESSMENT, record, today=now.date())
    paise = amount_paise(service, ASSESSMENT, record)
    assert paise == 85_000 and decision.amount_inr == 850
    application = NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="te",
            answers=ASSESSMENT,
        ),
        recipient=Recipient(wa_id=CITIZEN),
        reference_prefix=reference_prefix(service),
        status=Status.DECIDED,
        submitted_at=now,
        due_at=now,
        fee_inr=decision.amount_inr,
        decision={"outcome": decision.outcome, "facts": [list(f) for f in decision.facts], "amount_inr": 850},
        department_id=service.department_id,
    )
    async with engine.begin() as connection:
        reference = await submit_application(connection, sealer, CITIZEN, application)
    return reference, paise


@contextlib.asynccontextmanager
async def serving(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[str, Platform, SqlPayments, list[httpx.Request]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        env="dev",
        database_url=database_url,
        public_url=url,
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
    )
    platform = build(settings)
    engine = create_engine(database_url)
    store = SqlPayments(engine, AesGcmSealer.from_secret(settings.data_key.get_secret_value()))
    sent: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request)

    gateway_http = httpx.AsyncClient(timeout=10, event_hooks={"request": [keep]})
    gateway = SimulatedGateway(url, SECRET, gateway_http)
    wiring = PaymentsWiring(
        payments=store,
        webhooks={"simulated": functools.partial(simulated.parse_webhook, secret=SECRET)},
        context=platform.context,
        maker=platform.certifier,
        clock=platform.clock,
        simulator=gateway,
        provider=gateway,
        link_key=LINK_KEY,
        link_valid_for=timedelta(minutes=30),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.aclose()

    app = Starlette(routes=payment_routes(wiring), lifespan=lifespan)
    try:
        async with uvicorn_on(app, port):
            yield url, platform, store, sent
    finally:
        await gateway_http.aclose()
        await engine.dispose()


async def counts(store: SqlPayments, reference: str) -> dict[str, Any]:
    async with store.engine.connect() as connection:
        receipts = await connection.scalar(
            select(func.count()).select_from(certificates).where(certificates.c.reference == reference)
        )
        documents = await connection.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.payload["kind"].as_string() == "document")
        )
        messages = await connection.scalar(select(func.count()).select_from(outbox))
        status = await connection.scalar(select(payments.c.status).where(payments.c.reference == reference))
        application = await connection.scalar(
            select(applications.c.status).where(applications.c.reference == reference)
        )
    return {
        "receipts": receipts,
        "documents": documents,
        "messages": messages,
        "payment": status,
        "application": application,
    }


async def test_paying_on_the_simulated_gateway_issues_the_receipt_once(database_url: str, tmp_path: Path) -> None:
    async with (
        serving(database_url, tmp_path) as (url, platform, store, sent),
        httpx.AsyncClient(timeout=30) as browser,
    ):
        sealer = store.sealer
        assert isinstance(sealer, AesGcmSealer)
        reference, _ = await property_tax_application(platform, sealer, store.engine)
        chat_link = pay_link(url, LINK_KEY, reference)  # what the chat sends, behind a "Pay now" button
        assert (await counts(store, reference))["receipts"] == 0
        opened = await browser.get(chat_link)
        assert opened.status_code == 303 and opened.headers["location"].startswith(f"{url}/pay/sim/sim_")
        reopened = await browser.get(chat_link)  # the same open order, not a second one
        assert reopened.headers["location"] == opened.headers["location"]
        link = opened.headers["location"]
        started = await store.latest_for(reference)
        assert started is not None and started.link == link and started.expires_at is not None

        page = await browser.get(link)
        assert page.status_code == 200 and "₹850" in page.text and reference in page.text
        assert 'value="paid"' in page.text and 'value="failed"' in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")

        pressed = await browser.post(link, data={"outcome": "paid"})
        assert pressed.status_code == 303
        (webhook,) = sent
        assert webhook.url == f"{url}/webhooks/payments/simulated" and "x-sim-signature" in webhook.headers
        after = await counts(store, reference)
        assert after == {
            "receipts": 1,
            "documents": 1,
            "messages": 2,
            "payment": "paid",
            "application": Status.ISSUED.value,
        }
        paid_page = await browser.get(link)
        assert 'data-status="paid"' in paid_page.text and 'value="paid"' not in paid_page.text

        paid_again = await browser.get(chat_link)
        assert paid_again.status_code == 200 and reference in paid_again.text  # "already paid", no new order

        again = await browser.post(webhook.url, content=webhook.content, headers=dict(webhook.headers))
        assert again.status_code == 200 and again.json() == {"events": 1, "changed": 0}
        assert await counts(store, reference) == after

        async with store.engine.connect() as connection:
            pdf = await connection.scalar(select(certificates.c.pdf).where(certificates.c.reference == reference))
        assert isinstance(pdf, bytes)
        (text,) = qr_texts(pdf)
        checked = verify_qr_text(text, platform.keys.trust, lambda _number: None, datetime.now(UTC))
        assert checked.verdict.value == "valid" and checked.statement is not None
        assert checked.statement.kind == "receipt" and checked.statement.number.startswith("AP-RCPT-")
        assert ("pay.fact.application", reference) in checked.statement.facts


async def test_the_webhook_refuses_missing_and_bad_signatures(database_url: str, tmp_path: Path) -> None:
    async with serving(database_url, tmp_path) as (url, _, store, _sent), httpx.AsyncClient(timeout=10) as client:
        body = simulated.webhook_body(
            event_id="forged", provider_ref="sim_x", outcome="paid", amount_paise=85_000, at=datetime.now(UTC)
        )
        endpoint = f"{url}/webhooks/payments/simulated"
        assert (await client.post(endpoint, content=body)).status_code == 401
        forged = {"X-Sim-Signature": simulated.sign(body, "not-the-secret")}
        assert (await client.post(endpoint, content=body, headers=forged)).status_code == 403
        unreadable = b"{}"
        signed = {"X-Sim-Signature": simulated.sign(unreadable, SECRET)}
        assert (await client.post(endpoint, content=unreadable, headers=signed)).status_code == 400
        assert (await client.post(f"{url}/webhooks/payments/nobody", content=body)).status_code == 404
        assert (await client.get(f"{url}/pay/sim/sim_missing")).status_code == 404
        guessed = pay_link(url, "not-the-key", "AP-MUN-PTAX-2026-000001")
        assert (await client.get(guessed)).status_code == 404
        unknown = pay_link(url, LINK_KEY, "AP-MUN-PTAX-2026-000999")
        assert (await client.get(unknown)).status_code == 404
        async with store.engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(payments)) == 0


async def test_a_failed_attempt_can_be_paid_again_on_the_same_page(database_url: str, tmp_path: Path) -> None:
    async with (
        serving(database_url, tmp_path) as (url, platform, store, sent),
        httpx.AsyncClient(timeout=30) as browser,
    ):
        sealer = store.sealer
        assert isinstance(sealer, AesGcmSealer)
        reference, _ = await property_tax_application(platform, sealer, store.engine)
        link = (await browser.get(pay_link(url, LINK_KEY, reference))).headers["location"]
        await browser.post(link, data={"outcome": "failed"})
        failed = await browser.get(link)
        assert 'data-status="failed"' in failed.text and 'value="paid"' in failed.text
        assert (await counts(store, reference))["receipts"] == 0
        await browser.post(link, data={"outcome": "paid"})
        assert len(sent) == 2
        done = await counts(store, reference)
        assert done["payment"] == "paid" and done["receipts"] == 1 and done["documents"] == 1
        assert done["messages"] == 3  # the failure, the confirmation, the receipt
