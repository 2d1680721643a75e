"""Bookable places on SQLAlchemy Core, for SQLite and PostgreSQL: darshan slots, bus seats, rooms.

`hold_seat` takes a seat with one conditional `UPDATE ... WHERE taken < capacity`: on PostgreSQL
concurrent holds queue on the slot's row, and only as many succeed as there are seats. A booking
of several places holds one seat per place under `<reference>/<n>`, all or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import booking_slots, bookings
from sevamitra.core.decisions import BookingRequest
from sevamitra.core.payments import BookingOutcome

HELD, CONFIRMED, RELEASED = "held", "confirmed", "released"
OCCUPYING = (HELD, CONFIRMED)


def _upsert(sqlite: bool) -> Any:
    return sqlite_insert if sqlite else pg_insert


async def ensure_slot(connection: AsyncConnection, resource: str, capacity: int, *, sqlite: bool) -> None:
    """Create the resource with `capacity` seats, or set its capacity (never below those taken)."""
    statement = _upsert(sqlite)(booking_slots).values(resource=resource, capacity=capacity, taken=0)
    statement = statement.on_conflict_do_update(
        index_elements=["resource"],
        set_={"capacity": (func.max if sqlite else func.greatest)(statement.excluded.capacity, booking_slots.c.taken)},
    )
    await connection.execute(statement)


def _place_key(reference: str, n: int) -> str:
    return f"{reference}/{n}"


def _places_of(reference: str) -> Any:
    """The rows of a booking: the reference itself (one seat), or its places `<reference>/<n>`."""
    return or_(bookings.c.reference == reference, bookings.c.reference.like(f"{reference}/%"))


async def hold_places(
    connection: AsyncConnection, request: BookingRequest, reference: str, now: datetime, *, sqlite: bool
) -> tuple[int, ...] | None:
    """Hold `request.places` seats for `reference` in the caller's transaction, all or none: their
    numbers, or None when fewer are free. The slot's row is locked from the first hold to the commit."""
    await ensure_slot(connection, request.resource, request.capacity, sqlite=sqlite)
    lock = select(booking_slots.c.capacity, booking_slots.c.taken).where(booking_slots.c.resource == request.resource)
    slot = (await connection.execute(lock if sqlite else lock.with_for_update())).one()
    if int(slot.taken) + request.places > int(slot.capacity):
        return None
    seats = []
    for n in range(1, request.places + 1):
        seat = await hold_seat(connection, request.resource, _place_key(reference, n), now, sqlite=sqlite)
        assert seat is not None  # the locked slot had room for every place
        seats.append(seat)
    return tuple(sorted(seats))


async def confirm_places(connection: AsyncConnection, reference: str, now: datetime, *, sqlite: bool) -> BookingOutcome:
    """Confirm every place of a booking; "lost" (and the rest given back) when one cannot be had again."""
    keys = (await connection.scalars(select(bookings.c.reference).where(_places_of(reference)))).all()
    if not keys:
        return "none"
    outcomes = [await confirm_seat(connection, key, now, sqlite=sqlite) for key in sorted(keys)]
    if "lost" in outcomes:
        for key in keys:
            await release_seat(connection, key, sqlite=sqlite)
        return "lost"
    return "confirmed"


async def release_places(connection: AsyncConnection, reference: str, *, sqlite: bool) -> int:
    """Give back every place a booking holds; how many were given back."""
    keys: Sequence[str] = (await connection.scalars(select(bookings.c.reference).where(_places_of(reference)))).all()
    return sum([await release_seat(connection, key, sqlite=sqlite) for key in keys])


async def _mine(connection: AsyncConnection, reference: str, *, sqlite: bool) -> Any:
    query = select(bookings).where(bookings.c.reference == reference)
    return (await connection.execute(query if sqlite else query.with_for_update())).first()


async def hold_seat(
    connection: AsyncConnection, resource: str, reference: str, now: datetime, *, sqlite: bool
) -> int | None:
    """Hold a seat of `resource` for `reference` in the caller's transaction: its seat number, or
    None when every seat is taken. A reference that holds a seat already keeps it."""
    mine = await _mine(connection, reference, sqlite=sqlite)
    if mine is not None and mine.status in OCCUPYING:
        return int(mine.seat)
    taken = await connection.execute(
        update(booking_slots)
        .where(booking_slots.c.resource == resource, booking_slots.c.taken < booking_slots.c.capacity)
        .values(taken=booking_slots.c.taken + 1)
        .returning(booking_slots.c.capacity)
    )
    slot = taken.first()
    if slot is None:
        return None
    # The slot's row stays locked until commit: no other hold or release of this resource runs meanwhile.
    occupied = set(
        (
            await connection.scalars(
                select(bookings.c.seat).where(bookings.c.resource == resource, bookings.c.status.in_(OCCUPYING))
            )
        ).all()
    )
    seat = next(n for n in range(1, int(slot.capacity) + 1) if n not in occupied)
    values = {"resource": resource, "seat": seat, "status": HELD, "created_at": now}
    if mine is None:
        await connection.execute(insert(bookings).values(reference=reference, **values))
    else:
        await connection.execute(update(bookings).where(bookings.c.reference == reference).values(**values))
    return seat


async def release_seat(connection: AsyncConnection, reference: str, *, sqlite: bool) -> bool:
    """Give the reference's seat back; False when it holds none. The booking stays, released, under
    a negative seat number of its own, so the number it held is free for the next citizen."""
    mine = await _mine(connection, reference, sqlite=sqlite)
    if mine is None or mine.status not in OCCUPYING:
        return False
    await connection.execute(  # locks the slot, as a hold does
        update(booking_slots)
        .where(booking_slots.c.resource == mine.resource, booking_slots.c.taken > 0)
        .values(taken=booking_slots.c.taken - 1)
    )
    lowest = await connection.scalar(select(func.min(bookings.c.seat)).where(bookings.c.resource == mine.resource))
    await connection.execute(
        update(bookings)
        .where(bookings.c.reference == reference)
        .values(status=RELEASED, seat=min(int(lowest or 0), 0) - 1)
    )
    return True


async def confirm_seat(connection: AsyncConnection, reference: str, now: datetime, *, sqlite: bool) -> BookingOutcome:
    """Confirm the reference's seat; a seat released meanwhile is held again if one is free."""
    row = await _mine(connection, reference, sqlite=sqlite)
    if row is None:
        return "none"
    if row.status == RELEASED and await hold_seat(connection, row.resource, reference, now, sqlite=sqlite) is None:
        return "lost"
    await connection.execute(update(bookings).where(bookings.c.reference == reference).values(status=CONFIRMED))
    return "confirmed"


@dataclass
class SqlBookings:
    """Seats of bookable resources (a darshan slot, a bus, a room), held, confirmed and released."""

    engine: AsyncEngine
    sqlite: bool = field(init=False)

    def __post_init__(self) -> None:
        self.sqlite = is_sqlite(self.engine)

    async def ensure_slot(self, resource: str, capacity: int) -> None:
        """Create the resource with `capacity` seats, or set its capacity (never below those taken)."""
        async with self.engine.begin() as connection:
            await ensure_slot(connection, resource, capacity, sqlite=self.sqlite)

    async def hold(self, resource: str, reference: str, now: datetime) -> int | None:
        """Hold a seat for `reference`: its number, or None when the resource is full (or unknown)."""
        async with self.engine.begin() as connection:
            return await hold_seat(connection, resource, reference, now, sqlite=self.sqlite)

    async def confirm(self, reference: str, now: datetime) -> BookingOutcome:
        async with self.engine.begin() as connection:
            return await confirm_seat(connection, reference, now, sqlite=self.sqlite)

    async def release(self, reference: str) -> bool:
        async with self.engine.begin() as connection:
            return await release_seat(connection, reference, sqlite=self.sqlite)

    async def seat_of(self, reference: str) -> tuple[str, int, str] | None:
        """(resource, seat, status) of the reference's booking."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(bookings).where(bookings.c.reference == reference))).first()
        return (row.resource, int(row.seat), row.status) if row else None

    async def release_stale(self, before: datetime) -> int:
        """Give back the places held since before `before` and never paid for; how many. A payment
        that arrives later still confirms them when they are free (`confirm_seat`)."""
        async with self.engine.begin() as connection:
            keys = (
                await connection.scalars(
                    select(bookings.c.reference).where(bookings.c.status == HELD, bookings.c.created_at < before)
                )
            ).all()
            return sum([await release_seat(connection, key, sqlite=self.sqlite) for key in keys])
