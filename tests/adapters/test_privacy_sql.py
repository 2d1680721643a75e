"""Consents, a citizen's data as held and officers' accesses to it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.officers import SqlAudit, SqlOfficers
from sevamitra.adapters.sql.privacy import SqlRights
from sevamitra.adapters.sql.stores import SqlConversations, SqlInbox, record_event
from sevamitra.adapters.sql.subscriptions import add_subscriptions
from sevamitra.adapters.sql.tables import certificates, consents, data_requests, ratings, subscriptions
from sevamitra.core.applications import Status, Submission
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import NewApplication, NewInboxItem
from sevamitra.core.privacy import PURPOSES, ConsentRecord
from sevamitra.testing.memory import MemoryTurn
from tests.adapters.test_sql_spine import SEALER

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
CITIZEN, OTHER = "919000000031", "919000000032"
AADHAAR = "34567890123" + verhoeff_digit("34567890123")


def application(status: Status, service_id: str = "revenue.income-certificate") -> NewApplication:
    answers = {"applicant_name": "Lakshmi Devi", "aadhaar": AADHAAR, "annual_income": 120000}
    return NewApplication(
        submission=Submission(
            service_id=service_id, service_version=1, definition_hash="h" * 64, language="en", answers=answers
        ),
        recipient=Recipient(wa_id=CITIZEN),
        reference_prefix="AP-REV-INC",
        status=status,
        submitted_at=NOW,
        due_at=NOW + timedelta(days=7),
        fee_inr=45,
    )


async def officer(engine: AsyncEngine, username: str, role: str, place: str) -> int:
    created = await SqlOfficers(engine, SEALER).create(
        username=username,
        display_name=f"Officer {username}",
        role=role,
        place=place,
        department_id="revenue",
        password_hash="not-a-real-hash",
        totp_secret="JBSWY3DPEHPK3PXP",
        now=NOW,
    )
    return created.id


async def seeded(engine: AsyncEngine) -> tuple[str, str, str]:
    """Two applications of the citizen's (one under review, one decided), one of another citizen's."""
    conversations = SqlConversations(engine, SEALER)
    async with conversations.turn(CITIZEN, NOW) as turn:
        assert turn is not None
        open_one = await turn.submit(application(Status.UNDER_REVIEW))
        decided = await turn.submit(application(Status.ISSUED, "revenue.caste-certificate"))
        turn.save_state({"language": "en", "screen": "departments"}, Recipient(wa_id=CITIZEN), NOW)
        await record_event(turn.connection, open_one, NOW, "vro.nidamanuru", "returned", {"message": "clearer photo"})
        await add_subscriptions(
            turn.connection,
            address=CITIZEN,
            recipient=Recipient(wa_id=CITIZEN),
            topics=["weather"],
            area="state",
            language="en",
            now=NOW,
        )
        await turn.connection.execute(insert(ratings).values(reference=decided, score=5, comment="fast", at=NOW))
        await turn.connection.execute(
            insert(certificates).values(
                number=decided,
                reference=decided,
                service_id="revenue.caste-certificate",
                kind="caste-certificate",
                address=CITIZEN,
                language="en",
                issued_at=NOW,
                kid="00" * 8,
                cose=b"cose",
                pdf=b"%PDF",
                download_token="t" * 32,
                status="valid",
                alerts=True,
            )
        )
    async with conversations.turn(OTHER, NOW) as turn:
        assert turn is not None
        theirs = await turn.submit(application(Status.UNDER_REVIEW))
    await SqlInbox(engine).add(
        [NewInboxItem(key="wamid.p1", kind="message", address=CITIZEN, fragment={"text": {"body": "hi"}})], NOW
    )
    return open_one, decided, theirs


async def test_a_consent_is_kept_and_the_holdings_open_every_answer(engine: AsyncEngine) -> None:
    open_one, decided, theirs = await seeded(engine)
    rights = SqlRights()
    async with SqlConversations(engine, SEALER).turn(CITIZEN, NOW) as turn:
        assert turn is not None
        await rights.consent(turn, ConsentRecord(notice="1", language="te", purposes=PURPOSES, given_at=NOW))
        held = await rights.holdings(turn)
    assert [a.reference for a in held.applications] == [open_one, decided]  # never another citizen's
    assert held.applications[0].answers["aadhaar"] == AADHAAR  # unsealed
    assert held.applications[0].history[0].kind == "returned"
    assert held.conversation == {"language": "en", "screen": "departments"}
    assert held.wa_id == CITIZEN and held.first_seen == NOW
    (consent,) = held.consents
    assert (consent.notice, consent.language, consent.purposes) == ("1", "te", PURPOSES)
    assert [c.number for c in held.certificates] == [decided]
    assert [(r.reference, r.score, r.comment) for r in held.ratings] == [(decided, 5, "fast")]
    assert [(a.topic, a.area) for a in held.alerts] == [("weather", "state")]
    assert held.messages_received == 1
    assert theirs not in {a.reference for a in held.applications}


async def test_withdrawal_stops_alerts_and_notes_and_names_what_the_law_keeps(engine: AsyncEngine) -> None:
    open_one, _, _ = await seeded(engine)
    rights = SqlRights()
    conversations = SqlConversations(engine, SEALER)
    async with conversations.turn(CITIZEN, NOW) as turn:
        assert turn is not None
        await rights.consent(turn, ConsentRecord(notice="1", language="en", purposes=PURPOSES, given_at=NOW))
    later = NOW + timedelta(days=1)
    async with conversations.turn(CITIZEN, later) as turn:
        assert turn is not None
        kept = await rights.withdraw(turn, later)
    assert kept == (open_one,)  # under review: stays; issued: decided already
    async with engine.connect() as connection:
        withdrawn = (await connection.execute(select(consents.c.withdrawn_at))).scalar_one()
        alerts = (await connection.execute(select(subscriptions).where(subscriptions.c.address == CITIZEN))).all()
        notes = (await connection.execute(select(certificates.c.alerts))).scalars().all()
    assert withdrawn == later and alerts == [] and notes == [False]


async def test_accesses_are_the_citizens_own_newest_first_with_office_and_role(engine: AsyncEngine) -> None:
    open_one, decided, theirs = await seeded(engine)
    vro = await officer(engine, "vro.nidamanuru", "village_revenue_officer", "ntr/vijayawada-rural/nidamanuru")
    tahsildar = await officer(engine, "tahsildar.vjw", "tahsildar", "ntr/vijayawada-rural")
    audit = SqlAudit(engine)
    for minutes, who, action, reference in (
        (1, vro, "view", open_one),
        (2, vro, "return", open_one),
        (3, tahsildar, "view", decided),
        (4, tahsildar, "view", theirs),  # another citizen's application
        (5, None, "view", open_one),  # no officer: not an officer's access
    ):
        await audit.record(NOW + timedelta(minutes=minutes), who, action, reference)
    async with SqlConversations(engine, SEALER).turn(CITIZEN, NOW) as turn:
        assert turn is not None
        listed, total = await SqlRights().accesses(turn, limit=2)
    assert total == 3
    assert [(a.action, a.reference, a.role) for a in listed] == [
        ("view", decided, "tahsildar"),
        ("return", open_one, "village_revenue_officer"),
    ]
    assert listed[0].place == "ntr/vijayawada-rural" and listed[0].department_id == "revenue"
    assert listed[0].at == NOW + timedelta(minutes=3)


async def test_requests_are_recorded_and_the_latest_is_found(engine: AsyncEngine) -> None:
    rights = SqlRights()
    async with SqlConversations(engine, SEALER).turn(CITIZEN, NOW) as turn:
        assert turn is not None
        assert await rights.last_requested(turn, "export") is None
        await rights.requested(turn, "export", NOW)
        await rights.requested(turn, "export", NOW + timedelta(minutes=20))
        await rights.requested(turn, "accesses", NOW + timedelta(minutes=30))
        assert await rights.last_requested(turn, "export") == NOW + timedelta(minutes=20)
    async with engine.connect() as connection:
        assert len((await connection.execute(select(data_requests))).all()) == 3


async def test_the_sql_store_refuses_a_turn_that_is_not_its_own() -> None:
    with pytest.raises(TypeError, match="MemoryTurn"):
        await SqlRights().holdings(MemoryTurn())
