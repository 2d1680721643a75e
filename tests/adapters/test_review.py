"""Officers' decisions and the SLA clock over the database, with a frozen clock: who may act,
what the citizen is told, reminders, escalation and deemed approval at the right time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.review import Forbidden, Review, review, run_clock
from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.sql.cases import SqlCases
from sevamitra.adapters.sql.stores import SqlConversations, insert_application
from sevamitra.adapters.sql.tables import application_events, applications, officers, outbox
from sevamitra.core.applications import Status, Submission
from sevamitra.core.conversation import Context
from sevamitra.core.messages import Recipient
from sevamitra.core.officers import Officer
from sevamitra.core.ports import NewApplication
from sevamitra.core.workflow import ActionError, next_clock, open_case
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = "919800000042"
PLACE = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nunna"}


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), places=load_jurisdictions(ROOT / "jurisdictions")
    )


def officer(role: str, place: str, username: str = "o1") -> Officer:
    return Officer(id=1, username=username, display_name="Officer", role=role, place=place)


async def apply(
    engine: AsyncEngine, context: Context, service_id: str, reference: str, answers: dict[str, Any]
) -> None:
    service = context.catalogue.service(service_id)
    assert service is not None
    case = open_case(service, answers, NOW)
    application = NewApplication(
        submission=Submission(
            service_id=service.id,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="en",
            answers=answers,
        ),
        recipient=Recipient(wa_id=CITIZEN),
        reference_prefix="AP-REV-INC",
        status=Status.SUBMITTED,
        submitted_at=NOW,
        due_at=NOW + timedelta(minutes=service.sla.total_minutes),
        department_id=service.department_id,
        district="ntr",
        case=case,
        clock_at=next_clock(case, service),
    )
    async with engine.begin() as connection:
        await insert_application(connection, SEALER, CITIZEN, application, reference)


async def income(engine: AsyncEngine, context: Context, reference: str = "AP-REV-INC-2026-000001") -> str:
    answers = {"applicant_name": "Lakshmi Devi", "aadhaar": "234567890124", "residence": PLACE, "annual_income": 120000}
    await apply(engine, context, "revenue.income-certificate", reference, answers)
    return reference


async def told(engine: AsyncEngine) -> list[str]:
    """What the citizen was sent, in order (the body text of each message)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(outbox.c.payload).where(outbox.c.address == CITIZEN).order_by(outbox.c.id)
        )
        return [str(r.payload.get("body", r.payload.get("caption", ""))) for r in rows]


async def row(engine: AsyncEngine, reference: str) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(select(applications).where(applications.c.reference == reference))).one()


async def events(engine: AsyncEngine, reference: str) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(application_events.c.kind)
            .where(application_events.c.reference == reference)
            .order_by(application_events.c.id)
        )
        return [r.kind for r in rows]


async def test_an_application_goes_up_the_chain_and_the_citizen_is_told_each_step(
    engine: AsyncEngine, context: Context
) -> None:
    reference = await income(engine, context)
    cases = SqlCases(engine, SEALER)
    vro = officer("village_revenue_officer", "ntr/vijayawada-rural/nunna")
    first = await review(cases, context, None, vro, reference, Review(action="approve"), NOW + timedelta(hours=1))
    assert first.status is Status.UNDER_REVIEW and first.desk == "revenue_inspector@ntr/vijayawada-rural"
    inspector = officer("revenue_inspector", "ntr/vijayawada-rural")
    await review(cases, context, None, inspector, reference, Review(action="forward"), NOW + timedelta(hours=2))
    tahsildar = officer("tahsildar", "ntr/vijayawada-rural")
    done = await review(cases, context, None, tahsildar, reference, Review(action="approve"), NOW + timedelta(hours=3))
    assert done.status is Status.APPROVED
    assert (await row(engine, reference)).decided_at is not None
    messages = await told(engine)
    assert len(messages) == 4 and "Revenue Inspector" in messages[0] and "approved" in messages[2]
    assert "How was this service" in messages[3]  # then the rating buttons
    assert await events(engine, reference) == ["submitted", "approved_step", "forwarded", "approved"]


async def test_an_officer_of_another_place_or_role_cannot_act(engine: AsyncEngine, context: Context) -> None:
    reference = await income(engine, context)
    cases = SqlCases(engine, SEALER)
    for stranger in (
        officer("village_revenue_officer", "ntr/ibrahimpatnam"),
        officer("village_revenue_officer", "guntur"),
        officer("tahsildar", "ntr/vijayawada-rural"),
        officer("state_admin", "state"),
    ):
        with pytest.raises(Forbidden):
            await review(cases, context, None, stranger, reference, Review(action="approve"), NOW)
    assert (await row(engine, reference)).status == "submitted" and await told(engine) == []


async def test_returned_for_correction_the_citizen_corrects_in_chat_and_the_clock_resumes(
    engine: AsyncEngine, context: Context
) -> None:
    reference = await income(engine, context)
    cases = SqlCases(engine, SEALER)
    vro = officer("village_revenue_officer", "ntr/vijayawada-rural/nunna")
    with pytest.raises(ActionError):
        await review(cases, context, None, vro, reference, Review(action="return"), NOW)
    returned = Review(action="return", fields=("annual_income",), message="The income does not match the ration card.")
    await review(cases, context, None, vro, reference, returned, NOW + timedelta(hours=10))
    (note,) = await told(engine)
    assert "needs a correction" in note and "ration card" in note
    assert (await row(engine, reference)).status == "returned"
    async with SqlConversations(engine, SEALER).turn(CITIZEN, NOW + timedelta(days=3)) as turn:
        assert turn is not None
        asked = await turn.correction(reference)
        assert asked is not None and asked.fields == ("annual_income",) and "ration card" in asked.message
        assert await turn.resubmit(reference, {"annual_income": 96000}, NOW + timedelta(days=3))
    stored = await cases.get(reference)
    assert stored is not None and stored.status is Status.UNDER_REVIEW and stored.answers["annual_income"] == 96000
    assert stored.case is not None and stored.case.step_due_at == NOW + timedelta(days=3, hours=46)
    assert stored.answers["applicant_name"] == "Lakshmi Devi"  # the rest of the form is kept


async def test_the_clock_reminds_then_moves_the_case_up_and_tells_the_citizen(
    engine: AsyncEngine, context: Context
) -> None:
    reference = await income(engine, context)  # 7 days over 3 steps: 56 hours a step
    async with engine.begin() as connection:
        await connection.execute(
            insert(officers).values(
                username="vro-nunna",
                display_name="VRO Nunna",
                role="village_revenue_officer",
                place="ntr/vijayawada-rural/nunna",
                wa_id="919800000099",
                password_hash="-",
                totp_secret="-",
                active=True,
                failed_logins=0,
                created_at=NOW,
            )
        )
    cases = SqlCases(engine, SEALER)
    assert await run_clock(cases, context, None, NOW + timedelta(hours=41)) == 0
    assert await run_clock(cases, context, None, NOW + timedelta(hours=42)) == 1  # a quarter (14 h) left
    async with engine.connect() as connection:
        reminders = (await connection.execute(select(outbox.c.payload).where(outbox.c.wa_id == "919800000099"))).all()
    assert len(reminders) == 1 and reference in str(reminders[0].payload)  # in Telugu, the officers' language
    assert await run_clock(cases, context, None, NOW + timedelta(hours=55)) == 0
    assert await run_clock(cases, context, None, NOW + timedelta(hours=56)) == 1
    moved = await row(engine, reference)
    assert moved.desk == "revenue_inspector@ntr/vijayawada-rural" and moved.status == "under_review"
    (note,) = await told(engine)
    assert "moved up" in note and "Revenue Inspector" in note
    assert await events(engine, reference) == ["submitted", "reminded", "escalated"]


async def test_deemed_approval_on_expiry_where_the_law_grants_it(engine: AsyncEngine, context: Context) -> None:
    answers = {"applicant_name": "Ravi Kumar", "plot_address": PLACE, "plot_area_sq_yards": 200, "floors": 2}
    reference = "AP-MUN-BP-2026-000001"
    await apply(engine, context, "municipal.building-permission", reference, answers)
    cases = SqlCases(engine, SEALER)
    service = context.catalogue.service("municipal.building-permission")
    assert service is not None and service.sla.deemed_approval
    for hour in range(15 * 24 + 1):  # the clock runs every hour: each step runs out in turn
        await run_clock(cases, context, None, NOW + timedelta(hours=hour))
        if hour == 15 * 24 - 1:
            assert (await row(engine, reference)).status == "under_review"  # not a minute early
    final = await row(engine, reference)
    assert final.status == "approved" and final.decided_at is not None
    assert (await events(engine, reference))[-1] == "deemed_approval"
    assert "deemed approved" in (await told(engine))[-1]
