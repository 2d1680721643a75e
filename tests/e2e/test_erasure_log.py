"""After a holder's personal data is erased, the transparency log still audits clean over HTTP, and their
certificate still verifies as issued: VALID and in the log, with its proof; the PDF and its link are
gone; a revocation after the erasure commits to the same signed payload as the issuance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from sevamitra.actions.erasure import erase_due
from sevamitra.adapters.sql.erasure import record_erasure_request
from sevamitra.adapters.sql.tables import certificates, erasure_requests
from sevamitra.adapters.tlog.audit import audit
from sevamitra.cli.certificates import certify_application, sample_answers
from sevamitra.core.certificates import Verdict
from sevamitra.core.logentries import parse_entry
from sevamitra.core.ports import IssuedCertificate
from tests.e2e.conftest import Running, platform_on_port

SERVICE = "revenue.income-certificate"
HOLDER, OTHER = "919800000505", "919800000606"


@pytest.fixture
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with platform_on_port(database_url, tmp_path, erasure_retention_days=0, log_interval_seconds=0.2) as started:
        yield started


async def issued(running: Running, address: str, n: int) -> IssuedCertificate:
    platform = running.platform
    service = platform.context.catalogue.service(SERVICE)
    assert service is not None
    answers, shown = sample_answers(platform, service, n)
    return await certify_application(platform, service, answers, shown, address=address)


async def audited(running: Running) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as http:
        report = await audit(http, running.url, log_vkey=running.platform.transparency.vkey, state_dir=None)
    return report.problems


async def page(running: Running, qr: str) -> str:
    response = await running.http.get(f"{running.url}/V/{qr.rpartition('/V/')[2]}")
    assert response.status_code == 200
    return response.text


async def test_the_log_audits_clean_and_certificates_verify_as_issued_after_their_holders_erasure(
    running: Running,
) -> None:
    platform = running.platform
    certificate, other = await issued(running, HOLDER, 0), await issued(running, OTHER, 1)
    number = certificate.statement.number
    qr = platform.certifier.qr_text(certificate.cose)
    await platform.transparency.publish_all()
    assert await audited(running) == []
    assert 'data-verdict="valid"' in await page(running, qr) and 'data-log="included"' in await page(running, qr)
    link = f"{running.url}/c/{certificate.download_token}.pdf"
    assert (await running.http.get(link)).status_code == 200

    engine = platform.cases.engine
    now = platform.clock.now()
    async with engine.begin() as connection:
        await record_erasure_request(connection, HOLDER, now, timedelta(0))
    await erase_due(platform.erasures, now, timedelta(0), limit=10)  # or the worker's chore got there first
    async with engine.connect() as connection:
        assert await connection.scalar(select(erasure_requests.c.status)) == "done"
        row = (await connection.execute(select(certificates).where(certificates.c.number == number))).one()
    assert row.address.startswith("erased:") and row.pdf == b"" and row.cose == certificate.cose

    assert await audited(running) == []
    shown = await page(running, qr)
    assert 'data-verdict="valid"' in shown and 'data-log="included"' in shown
    assert (await platform.verification.check_text(qr)).verdict is Verdict.VALID
    assert await platform.transparency.proof(number) is not None
    assert (await running.http.get(link)).status_code == 404
    other_link = f"{running.url}/c/{other.download_token}.pdf"
    assert (await running.http.get(other_link)).status_code == 200  # the other holder's untouched

    assert await platform.certificates.revoke(number, "issued in error", platform.clock.now())
    await platform.transparency.publish_all()
    assert await audited(running) == []
    issuance, revocation = (parse_entry(e.entry) for e in await platform.transparency.store.entries_of(number))
    assert (issuance.event, revocation.event) == ("issuance", "revocation")
    assert revocation.get("record") == issuance.get("record")  # the same signed payload, kept through the erasure
    assert 'data-verdict="revoked"' in await page(running, qr)
