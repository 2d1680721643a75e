"""Where a grievance goes: the shared location's ward or village, straight to the competent authority
for kinds beyond the first desk, and to another place when an officer re-routes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import respond
from sevamitra.actions.review import Forbidden, Review, review
from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.sql.cases import SqlCases
from sevamitra.adapters.sql.stores import SqlConversations
from sevamitra.adapters.sql.tables import application_events, applications, outbox
from sevamitra.core.applications import Status
from sevamitra.core.conversation import Context, ConversationState
from sevamitra.core.decisions import Registry
from sevamitra.core.messages import ChoiceIn, Recipient
from sevamitra.core.officers import Officer
from sevamitra.core.workflow import ActionError
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CITIZEN = "919800000077"
CORPORATION = "ntr/vijayawada-corporation"
WARD_3, WARD_7 = f"{CORPORATION}/ward-3", f"{CORPORATION}/ward-7"
FORM_PLACE = {"district": "ntr", "mandal": CORPORATION, "village": WARD_3}


class NoRecords:
    async def lookup(self, name: str, service_id: str, keys: dict[str, Any]) -> None:
        return None


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), places=load_jurisdictions(ROOT / "jurisdictions")
    )


def centre(context: Context, place_id: str) -> dict[str, float]:
    assert context.places is not None
    point = context.places.centre(place_id)
    assert point is not None
    return {"latitude": point.latitude, "longitude": point.longitude}


async def file_grievance(
    engine: AsyncEngine, context: Context, category: str, location: dict[str, float] | None
) -> Any:
    """Submit a municipal grievance as the chat would, and return its stored row and the replies."""
    service = context.catalogue.service("grievances.pgrs-municipal")
    assert service is not None
    answers: dict[str, Any] = {
        "category": category,
        "description": "Garbage heap near the school",
        "address": FORM_PLACE,
    }
    if location is not None:
        answers["location"] = location
    draft = {
        "service": service.id,
        "version": service.version,
        "hash": service.definition_hash,
        "index": len(service.fields),
        "answers": answers,
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
        "own": True,  # no "me too" look-up here
    }
    state = ConversationState(language="en", screen="confirm", service_id=service.id, draft=draft, last_active=NOW)
    tap = ChoiceIn(message_id="wamid.1", sender=CITIZEN, sent_at=NOW, choice_id="form:submit", title="")
    registry: Registry = NoRecords()
    async with SqlConversations(engine, SEALER).turn(CITIZEN, NOW) as turn:
        assert turn is not None
        _, replies = await respond(context, registry, turn, state, tap, Recipient(wa_id=CITIZEN), NOW)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(applications))).one()
    return stored, " ".join(str(getattr(r, "body", "")) for r in replies)


async def desk_of(engine: AsyncEngine, stored: Any) -> str:
    record = await SqlCases(engine, SEALER).get(stored.reference)
    assert record is not None and record.case is not None
    return record.case.desk


async def test_a_shared_location_routes_to_the_ward_it_lies_in_and_the_citizen_is_told(
    engine: AsyncEngine, context: Context
) -> None:
    stored, said = await file_grievance(engine, context, "sanitation", centre(context, WARD_7))
    assert await desk_of(engine, stored) == f"ward_admin_secretary@{WARD_7}"  # the point, not the form's ward 3
    assert "From the location you shared, it is with the office for" in said


async def test_without_a_location_the_pickers_place_decides(engine: AsyncEngine, context: Context) -> None:
    stored, said = await file_grievance(engine, context, "sanitation", None)
    assert await desk_of(engine, stored) == f"ward_admin_secretary@{WARD_3}"
    assert "location you shared" not in said and "straight to" not in said


async def test_a_location_outside_every_area_leaves_the_pickers_place(engine: AsyncEngine, context: Context) -> None:
    stored, _ = await file_grievance(engine, context, "sanitation", {"latitude": 13.0, "longitude": 79.0})
    assert await desk_of(engine, stored) == f"ward_admin_secretary@{WARD_3}"


async def test_a_kind_beyond_the_ward_goes_straight_to_the_commissioner(engine: AsyncEngine, context: Context) -> None:
    stored, said = await file_grievance(engine, context, "roads_drains", None)
    assert await desk_of(engine, stored) == f"municipal_commissioner@{CORPORATION}"
    assert "went straight to the Municipal Commissioner" in said


async def test_an_officer_reroutes_to_another_ward_recorded_and_told(engine: AsyncEngine, context: Context) -> None:
    stored, _ = await file_grievance(engine, context, "sanitation", None)
    reference = stored.reference
    cases = SqlCases(engine, SEALER)
    secretary = Officer(id=1, username="ward3", display_name="Ward 3", role="ward_admin_secretary", place=WARD_3)
    later = NOW + timedelta(hours=2)
    moved = await review(
        cases, context, None, secretary, reference, Review(action="reroute", place=WARD_7, message="Not my ward"), later
    )
    assert moved.desk == f"ward_admin_secretary@{WARD_7}" and moved.status is Status.SUBMITTED
    record = await cases.get(reference)
    assert record is not None and record.case is not None
    assert record.case.step_due_at > later + timedelta(days=1)  # a fresh step's time at the new desk
    async with engine.connect() as connection:
        kinds = [r.kind for r in await connection.execute(select(application_events.c.kind))]
        bodies = [str(r.payload.get("body", "")) for r in await connection.execute(select(outbox.c.payload))]
    assert "rerouted" in kinds
    assert any("was sent to the" in body and "Ward 7" in body for body in bodies)
    with pytest.raises(Forbidden):  # the old ward's secretary holds it no more
        await review(cases, context, None, secretary, reference, Review(action="reroute", place=WARD_7), later)


async def test_rerouting_needs_a_place_deep_enough_for_the_desk(engine: AsyncEngine, context: Context) -> None:
    stored, _ = await file_grievance(engine, context, "sanitation", None)
    cases = SqlCases(engine, SEALER)
    secretary = Officer(id=1, username="ward3", display_name="Ward 3", role="ward_admin_secretary", place=WARD_3)
    for place in (CORPORATION, "ntr/nowhere", ""):
        with pytest.raises(ActionError):
            await review(cases, context, None, secretary, stored.reference, Review(action="reroute", place=place), NOW)
