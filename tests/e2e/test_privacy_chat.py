"""Consent and data rights through the whole platform: a new citizen's notice, its acceptance recorded,
"my data" as two WhatsApp documents fetched from the channel, "who saw my data" from the audit log,
and a withdrawal that brings the notice back."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pypdfium2 as pdfium
from sqlalchemy import select

from sevamitra.adapters.sql.officers import SqlAudit, SqlOfficers
from sevamitra.adapters.sql.tables import consents, data_requests
from sevamitra.core.applications import Status, Submission
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import NewApplication
from tests.e2e.conftest import Running

WA = "919000000901"
AADHAAR = "45678901234" + verhoeff_digit("45678901234")


async def exchange(running: Running, **message: str) -> list[dict[str, Any]]:
    """Send one message; the replies it brought, once no more arrive."""
    before = len(await running.replies(WA, 0, timeout=0))
    await running.send(WA, **message)
    out = await running.replies(WA, before + 1)
    while True:
        await asyncio.sleep(0.3)
        now = await running.replies(WA, 0, timeout=0)
        if len(now) == len(out):
            return [m["body"] for m in out[before:]]  # type: ignore[misc]
        out = now


def text_of(bodies: list[dict[str, Any]]) -> str:
    return json.dumps(bodies, ensure_ascii=False)


async def an_application_seen_by_a_tahsildar(running: Running) -> str:
    """An application of the citizen's under review, opened by a Tahsildar on the dashboard."""
    platform = running.platform
    engine, now = platform.cases.engine, platform.clock.now()
    submission = Submission(
        service_id="revenue.income-certificate",
        service_version=1,
        definition_hash="h" * 64,
        language="te",
        answers={"applicant_name": "లక్ష్మి దేవి", "aadhaar": AADHAAR, "annual_income": 120000},
    )
    async with platform.turns.conversations.turn(WA, now) as turn:
        assert turn is not None
        reference = await turn.submit(
            NewApplication(
                submission=submission,
                recipient=Recipient(wa_id=WA),
                reference_prefix="AP-REV-INC",
                status=Status.UNDER_REVIEW,
                submitted_at=now,
                due_at=now + timedelta(days=7),
            )
        )
    tahsildar = await SqlOfficers(engine, platform.cases.sealer).create(
        username="tahsildar.vjw",
        display_name="Ravi Kumar",
        role="tahsildar",
        place="ntr/vijayawada-rural",
        department_id="revenue",
        password_hash="not-a-real-hash",
        totp_secret="JBSWY3DPEHPK3PXP",
        now=now,
    )
    await SqlAudit(engine).record(now, tahsildar.id, "view", reference, ip="10.0.0.7")
    return reference


async def test_a_new_citizen_consents_gets_their_data_sees_who_saw_it_and_withdraws(running: Running) -> None:
    await running.new_citizen(WA, consented=False)
    welcome = await exchange(running, type="text", text="hi")
    assert "lang:te" in text_of(welcome)

    noticed = await exchange(running, type="button_reply", id="lang:te", title="తెలుగు")
    (notice,) = noticed
    assert "మీ సమాచారం, మీ సమ్మతి" in notice["interactive"]["body"]["text"]
    accept = notice["interactive"]["action"]["buttons"][0]["reply"]
    assert accept["id"] == "privacy:accept:1"
    engine = running.platform.cases.engine
    async with engine.connect() as connection:
        assert (await connection.execute(select(consents))).all() == []  # nothing before the tap

    accepted = await exchange(running, type="button_reply", id=accept["id"], title=accept["title"])
    assert accepted[-1]["interactive"]["type"] == "list"  # the departments, at last
    async with engine.connect() as connection:
        (row,) = (await connection.execute(select(consents))).all()
    assert (row.address, row.notice_version, row.language, row.withdrawn_at) == (WA, "1", "te", None)
    assert row.purposes == ["services", "tracking", "payments", "grievances"]

    reference = await an_application_seen_by_a_tahsildar(running)
    exported = await exchange(running, type="text", text="నా డేటా")
    documents = [b["document"] for b in exported if b["type"] == "document"]
    assert [d["filename"].rsplit(".", 1)[1] for d in documents] == ["pdf", "json"]
    pdf, complete = [
        (await running.http.get(f"{running.url}/emulator/_chat/media/{d['id']}")).content for d in documents
    ]
    data = json.loads(complete)
    assert data["applications"][0]["reference"] == reference
    assert data["applications"][0]["answers"]["aadhaar"] == AADHAAR  # in full in the JSON
    assert data["consents"][0]["notice"] == "1"
    shown = " ".join(" ".join(p.get_textpage().get_text_range().split()) for p in pdfium.PdfDocument(pdf))
    assert f"XXXX XXXX {AADHAAR[-4:]}" in shown and AADHAAR not in shown  # masked in the PDF

    seen = text_of(await exchange(running, type="text", text="who saw my data"))
    assert "తహసీల్దార్" in seen and reference in seen
    assert "Ravi Kumar" not in seen and "tahsildar.vjw" not in seen and "10.0.0.7" not in seen
    async with engine.connect() as connection:
        kinds = (await connection.execute(select(data_requests.c.kind).order_by(data_requests.c.id))).scalars().all()
    assert kinds == ["export", "accesses"]

    withdrawn = text_of(await exchange(running, type="text", text="withdraw"))
    assert "మీ సమ్మతి ఉపసంహరించబడింది" in withdrawn and reference in withdrawn
    again = await exchange(running, type="text", text="హాయ్")
    assert "మీ సమాచారం, మీ సమ్మతి" in text_of(again)  # the notice again
    async with engine.connect() as connection:
        assert (await connection.execute(select(consents.c.withdrawn_at))).scalar_one() is not None
