""" "Me too": an open grievance of the same kind close by is offered instead of a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.sql.stores import SqlConversations, insert_application
from sevamitra.adapters.sql.tables import application_events, grievance_joins
from sevamitra.core.applications import Status, Submission
from sevamitra.core.conversation import (
    Context,
    ConversationState,
    JoinGrievance,
    NearbyFound,
    Submit,
    step,
)
from sevamitra.core.messages import ButtonsOut, ChoiceIn, Recipient
from sevamitra.core.ports import NewApplication
from sevamitra.core.workflow import distance_m, open_case
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SERVICE = "municipal.fallen-tree-removal"
SCHOOL = (16.5402, 80.6920)
PLACE = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nidamanuru"}


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def application(context: Context, lat: float, lon: float, status: Status = Status.SUBMITTED) -> NewApplication:
    service = context.catalogue.service(SERVICE)
    assert service is not None
    answers = {"address": PLACE, "location": {"latitude": lat, "longitude": lon}, "description": "tree on the road"}
    return NewApplication(
        submission=Submission(
            service_id=SERVICE,
            service_version=1,
            definition_hash=service.definition_hash,
            language="en",
            answers=answers,
        ),
        recipient=Recipient(wa_id="919800000001"),
        reference_prefix="AP-MUN-GRV-TREEFALL",
        status=status,
        submitted_at=NOW,
        due_at=NOW + timedelta(days=1),
        case=open_case(service, answers, NOW),
        latitude=lat,
        longitude=lon,
    )


def test_distances_are_great_circle_metres() -> None:
    assert distance_m(*SCHOOL, *SCHOOL) == 0
    assert 110 < distance_m(SCHOOL[0], SCHOOL[1], SCHOOL[0] + 0.001, SCHOOL[1]) < 112  # a thousandth of a degree north


async def test_an_open_grievance_within_the_distance_is_found_and_one_beyond_is_not(
    engine: AsyncEngine, context: Context
) -> None:
    async with engine.begin() as connection:
        await insert_application(
            connection, SEALER, "919800000001", application(context, *SCHOOL), "AP-MUN-GRV-TREEFALL-2026-000901"
        )
        far = application(context, SCHOOL[0] + 0.01, SCHOOL[1])  # about 1.1 km north
        await insert_application(connection, SEALER, "919800000001", far, "AP-MUN-GRV-TREEFALL-2026-000902")
        done = application(context, SCHOOL[0], SCHOOL[1] + 0.0005, Status.CLOSED)  # about 50 m, but closed
        await insert_application(connection, SEALER, "919800000001", done, "AP-MUN-GRV-TREEFALL-2026-000903")
    async with SqlConversations(engine, SEALER).turn("919800000002", NOW) as turn:
        assert turn is not None
        near = await turn.nearby_open(SERVICE, SCHOOL[0] + 0.001, SCHOOL[1], 200)
        assert near is not None and near[0] == "AP-MUN-GRV-TREEFALL-2026-000901" and 100 < near[1] < 120
        assert await turn.nearby_open(SERVICE, SCHOOL[0] + 0.003, SCHOOL[1], 200) is None  # 330 m away
        assert await turn.nearby_open("municipal.contaminated-water", *SCHOOL, 200) is None  # another kind
        joined = await turn.join(application(context, *SCHOOL), "AP-MUN-GRV-TREEFALL-2026-000901")
    async with engine.connect() as connection:
        link = (await connection.execute(select(grievance_joins))).one()
        counted = (
            await connection.execute(select(application_events.c.kind).where(application_events.c.kind == "joined"))
        ).all()
    assert (link.reference, link.joined) == (joined, "AP-MUN-GRV-TREEFALL-2026-000901") and len(counted) == 1


def test_the_engine_offers_me_too_and_joins_or_files_its_own(context: Context) -> None:
    service = context.catalogue.service(SERVICE)
    assert service is not None
    draft = {
        "service": SERVICE,
        "version": service.version,
        "hash": service.definition_hash,
        "index": len(service.fields),
        "answers": {"address": PLACE, "location": {"latitude": SCHOOL[0], "longitude": SCHOOL[1]}, "description": "x"},
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }
    state = ConversationState(language="en", screen="confirm", service_id=SERVICE, draft=draft, last_active=NOW)

    def tap(choice: str, at: ConversationState) -> tuple[ConversationState, tuple[object, ...], tuple[object, ...]]:
        result = step(
            at, ChoiceIn(message_id="m", sender="919800000002", sent_at=NOW, choice_id=choice, title=""), context, NOW
        )
        return result.state, result.replies, result.effects

    state, _, effects = tap("form:submit", state)
    assert isinstance(effects[0], Submit) and effects[0].check_nearby and state.draft is not None
    offered = step(state, NearbyFound(reference="AP-MUN-GRV-TREEFALL-2026-000901", meters=110), context, NOW)
    (question,) = offered.replies
    assert isinstance(question, ButtonsOut) and "110 m" in question.body
    assert [b.id for b in question.buttons] == ["metoo:AP-MUN-GRV-TREEFALL-2026-000901", "form:own"]
    joined_state, _, joined = tap("metoo:AP-MUN-GRV-TREEFALL-2026-000901", offered.state)
    assert isinstance(joined[0], JoinGrievance) and joined_state.draft is None
    own_state, _, own = tap("form:own", offered.state)
    assert isinstance(own[0], Submit) and not own[0].check_nearby and own_state.draft is None
