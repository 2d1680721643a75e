"""Bookings made in chat: the places are held with the application, all or none; the last places go
to exactly one of many citizens asking at once; unpaid holds are given back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import respond
from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.sql.bookings import SqlBookings
from sevamitra.adapters.sql.stores import SqlConversations
from sevamitra.adapters.sql.tables import applications, bookings
from sevamitra.core.applications import Status, Submission
from sevamitra.core.conversation import Context, ConversationState
from sevamitra.core.decisions import BookingRequest
from sevamitra.core.messages import ChoiceIn, CtaUrlOut, Outbound, Recipient
from sevamitra.core.payments import Order
from sevamitra.core.ports import CitizenTurn, NewApplication
from tests.adapters.test_sql_spine import SEALER

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # a Monday
DARSHAN = "endowments.srisailam-darshan"
VISIT = "2026-12-02"  # a Wednesday


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(ROOT), texts=load_texts(ROOT))


def new_application(context: Context, citizen: str) -> NewApplication:
    service = context.catalogue.service(DARSHAN)
    assert service is not None
    return NewApplication(
        submission=Submission(
            service_id=DARSHAN,
            service_version=service.version,
            definition_hash=service.definition_hash,
            language="en",
            answers={"visit_date": VISIT, "persons": 2},
        ),
        recipient=Recipient(wa_id=citizen),
        reference_prefix="AP-END-SRS",
        status=Status.DECIDED,
        submitted_at=NOW,
        due_at=NOW,
    )


async def book(
    engine: AsyncEngine, context: Context, citizen: str, request: BookingRequest
) -> tuple[str, tuple[int, ...]] | None:
    async with SqlConversations(engine, SEALER).turn(citizen, NOW) as turn:
        assert turn is not None
        return await turn.book(new_application(context, citizen), request, confirm=False)


async def stored(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(applications)) or 0)


async def test_exactly_one_of_many_citizens_gets_the_last_two_places(engine: AsyncEngine, context: Context) -> None:
    request = BookingRequest(resource=f"temple/srisailam/{VISIT}/06:00", capacity=4, places=2)
    first = await book(engine, context, "919800000100", request)
    assert first is not None and first[1] == (1, 2)
    results = await asyncio.gather(*(book(engine, context, f"91980000020{n}", request) for n in range(6)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0][1] == (3, 4)
    assert await stored(engine) == 2  # the losers stored nothing: their turns tell them it is full


async def test_a_booking_takes_all_its_places_or_none(engine: AsyncEngine, context: Context) -> None:
    request = BookingRequest(resource="bus/1101/2026-12-02", capacity=5, places=3)
    assert await book(engine, context, "919800000301", request) is not None
    assert await book(engine, context, "919800000302", request) is None  # 2 left, 3 asked
    smaller = BookingRequest(resource="bus/1101/2026-12-02", capacity=5, places=2)
    assert (booked := await book(engine, context, "919800000303", smaller)) is not None and booked[1] == (4, 5)
    async with engine.connect() as connection:
        held = (await connection.execute(select(bookings.c.reference, bookings.c.status))).all()
    assert len(held) == 5 and {status for _, status in held} == {"held"}


async def test_unpaid_holds_are_given_back_after_the_payment_window(engine: AsyncEngine, context: Context) -> None:
    request = BookingRequest(resource=f"temple/srisailam/{VISIT}/10:00", capacity=2, places=2)
    assert await book(engine, context, "919800000401", request) is not None
    assert await book(engine, context, "919800000402", request) is None
    assert await SqlBookings(engine).release_stale(NOW - timedelta(minutes=1)) == 0  # still in its window
    assert await SqlBookings(engine).release_stale(NOW + timedelta(minutes=31)) == 2
    assert await book(engine, context, "919800000402", request) is not None


class TempleSlots:
    """The temple registry with one slot of two places left on the visit's weekday."""

    async def lookup(self, name: str, service_id: str, keys: dict[str, Any]) -> dict[str, Any]:
        two = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 2)
        return {
            "pool": "srisailam-darshan",
            "temple": "Srisailam",
            "advance_days": 30,
            "slots": [{"slot": "06:00", "capacity": two}],
        }


async def ask_by_link(turn: CitizenTurn, order: Order, language: str, now: datetime) -> Outbound:
    return CtaUrlOut(body=order.message or "", display_text="Pay", url=f"https://pay.example/{order.reference}")


async def submit_in_chat(engine: AsyncEngine, context: Context, citizen: str) -> str:
    service = context.catalogue.service(DARSHAN)
    assert service is not None
    answers = {"visit_date": VISIT, "persons": 2, "pilgrim_name": "Lakshmi", "mobile": "9876543210"}
    draft = {
        "service": DARSHAN,
        "version": service.version,
        "hash": service.definition_hash,
        "index": len(service.fields),
        "answers": answers,
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }
    state = ConversationState(language="en", screen="confirm", service_id=DARSHAN, draft=draft, last_active=NOW)
    tap = ChoiceIn(message_id=f"wamid.{citizen}", sender=citizen, sent_at=NOW, choice_id="form:submit", title="")
    async with SqlConversations(engine, SEALER).turn(citizen, NOW) as turn:
        assert turn is not None
        _, replies = await respond(
            context, TempleSlots(), turn, state, tap, Recipient(wa_id=citizen), NOW, ask_payment=ask_by_link
        )
    return "\n".join(str(getattr(r, "body", "")) for r in replies) + "".join(
        f"\n[link {r.url}]" for r in replies if isinstance(r, CtaUrlOut)
    )


async def test_in_chat_the_first_citizen_pays_for_the_places_and_the_next_hears_they_are_gone(
    engine: AsyncEngine, context: Context
) -> None:
    first = await submit_in_chat(engine, context, "919800000501")
    assert "[link https://pay.example/" in first
    second = await submit_in_chat(engine, context, "919800000502")
    assert "[link" not in second and "not available" in second and "Srisailam" in second
    async with engine.connect() as connection:
        statuses = sorted(r.status for r in await connection.execute(select(applications.c.status)))
    assert statuses == [Status.DECIDED.value, Status.NOT_FOUND.value]
