"""Every sealed column moved to the current data key (`sevamitra keys rotate-data`).

Rows are read in key order, a batch at a time, and each value not yet under the current key is
resealed and written back only if it is still the value read (a turn that changed it meanwhile sealed
its own under whatever key its process has; run the rotation once every process has the new key).
Values already under the current key are skipped, so a rotation stopped half-way is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Table, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.tables import applications, conversations, officers, signing_keys
from sevamitra.core.ports import Resealer

# (table, its key, the sealed column): everything the platform seals with the data key
SEALED: tuple[tuple[Table, str, str], ...] = (
    (conversations, "address", "state"),
    (applications, "id", "answers"),
    (officers, "id", "totp_secret"),
    (signing_keys, "kid", "private"),
)


@dataclass(frozen=True, slots=True)
class Resealed:
    table: str
    column: str
    read: int  # rows with a sealed value
    resealed: int  # moved to the current key now
    skipped: int  # changed by someone else between the read and the write (run again)


async def reseal_all(
    engine: AsyncEngine, sealer: Resealer, *, batch: int = 500, progress: Callable[[Resealed], None] | None = None
) -> list[Resealed]:
    """Each sealed column of each table, batch by batch (one transaction each)."""
    done = []
    for table, key, column in SEALED:
        found = await _reseal_column(engine, sealer, table, table.c[key], table.c[column], batch)
        done.append(found)
        if progress is not None:
            progress(found)
    return done


async def _reseal_column(
    engine: AsyncEngine, sealer: Resealer, table: Table, key: Column[object], column: Column[object], batch: int
) -> Resealed:
    read = resealed = skipped = 0
    last: object = None
    write = (
        update(table)
        .where(and_(key == bindparam("_key"), column == bindparam("_old")))
        .values({column.name: bindparam("_new")})
    )
    while True:
        query = select(key, column).order_by(key).limit(batch)
        if last is not None:
            query = query.where(key > last)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return Resealed(table.name, column.name, read, resealed, skipped)
        last = rows[-1][0]
        read += len(rows)
        sealed: list[tuple[object, str]] = [(row[0], str(row[1])) for row in rows if row[1]]
        changes = [
            {"_key": key_value, "_old": value, "_new": sealer.reseal(value)}
            for key_value, value in sealed
            if not sealer.is_current(value)
        ]
        if changes:
            async with engine.begin() as connection:  # row by row: each write's own count is exact
                written = sum([(await connection.execute(write, change)).rowcount for change in changes])
            resealed += written
            skipped += len(changes) - written
