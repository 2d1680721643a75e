"""The transparency log's rows: pending entries, integrated entries, checkpoints, witnesses' sizes.

Integration runs under one lock: PostgreSQL's transaction-scoped advisory lock (another process
integrating makes `integration` yield None), SQLite's IMMEDIATE transactions. Positions are given
in the order entries were sequenced, and the entries, the removal of their pending rows and the
new checkpoint commit together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import certificates, log_checkpoints, log_entries, log_pending, log_witnesses
from sevamitra.core.checkpoints import Note, NoteSignature, format_note, parse_note
from sevamitra.core.ports import LoggedCheckpoint, LoggedEntry, PendingEntry

LOG_LOCK = 0x5E7A_0001  # the advisory lock key of the integrator


@dataclass
class SqlLogBatch:
    """What an integration sees: the log's size and the entries waiting, oldest first."""

    size: int
    pending: Sequence[PendingEntry]
    _checkpoint: tuple[int, bytes, bytes] | None = field(default=None, init=False)

    def integrated(self, size: int, root: bytes, note: bytes) -> None:
        """Commit the pending entries at positions `self.size`.., and the checkpoint of `size`."""
        if size != self.size + len(self.pending):
            raise ValueError("a checkpoint covers every entry of the batch")
        self._checkpoint = (size, root, note)


class SqlLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)

    @asynccontextmanager
    async def integration(self, limit: int, now: datetime) -> AsyncIterator[SqlLogBatch | None]:
        async with self.engine.begin() as connection:
            if not self.sqlite:
                locked = await connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOG_LOCK})
                if not locked:
                    yield None
                    return
            size = await connection.scalar(select(func.coalesce(func.max(log_checkpoints.c.size), 0)))
            rows = await connection.execute(
                select(log_pending.c.id, log_pending.c.entry, log_pending.c.number)
                .order_by(log_pending.c.id)
                .limit(limit)
            )
            batch = SqlLogBatch(
                size=int(size or 0), pending=[PendingEntry(id=r.id, entry=r.entry, number=r.number) for r in rows]
            )
            yield batch
            if batch._checkpoint is None or not batch.pending:
                return
            new_size, root, note = batch._checkpoint
            await connection.execute(
                insert(log_entries),
                [
                    {"position": batch.size + i, "entry": p.entry, "number": p.number, "integrated_at": now}
                    for i, p in enumerate(batch.pending)
                ],
            )
            await connection.execute(delete(log_pending).where(log_pending.c.id.in_([p.id for p in batch.pending])))
            await connection.execute(
                insert(log_checkpoints).values(size=new_size, root=root, note=note, created_at=now)
            )

    async def latest(self) -> LoggedCheckpoint | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(log_checkpoints).order_by(log_checkpoints.c.size.desc()).limit(1))
            ).first()
        return LoggedCheckpoint(size=row.size, root=row.root, note=row.note) if row else None

    async def cosigned(self, size: int, signatures: Sequence[NoteSignature]) -> bytes:
        """Add cosignatures to the stored checkpoint of `size` (one per key: rounds of several
        workers merge, none is lost) and return the note as it now stands."""
        async with self.engine.begin() as connection:
            query = select(log_checkpoints.c.note).where(log_checkpoints.c.size == size)
            stored = await connection.scalar(query if self.sqlite else query.with_for_update())
            if stored is None:
                raise LookupError(f"no checkpoint of size {size}")
            note = parse_note(stored)
            merged = list(note.signatures)
            for signature in signatures:
                if all((s.name, s.key_id) != (signature.name, signature.key_id) for s in merged):
                    merged.append(signature)
            data = format_note(Note(text=note.text, signatures=tuple(merged)))
            if data != stored:
                await connection.execute(
                    update(log_checkpoints).where(log_checkpoints.c.size == size).values(note=data)
                )
        return data

    async def entries_of(self, number: str) -> list[LoggedEntry]:
        """The integrated entries about a certificate, in log order, with the certificate's salt."""
        async with self.engine.connect() as connection:
            salt = await connection.scalar(select(certificates.c.log_salt).where(certificates.c.number == number))
            rows = await connection.execute(
                select(log_entries.c.position, log_entries.c.entry)
                .where(log_entries.c.number == number)
                .order_by(log_entries.c.position)
            )
            return [LoggedEntry(position=r.position, entry=r.entry, salt=salt) for r in rows]

    async def pending_count(self) -> int:
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(log_pending)) or 0)

    async def witness_size(self, url: str) -> int:
        async with self.engine.connect() as connection:
            size = await connection.scalar(select(log_witnesses.c.size).where(log_witnesses.c.url == url))
        return int(size or 0)

    async def set_witness_size(self, url: str, size: int, now: datetime) -> None:
        async with self.engine.begin() as connection:
            changed = await connection.execute(
                update(log_witnesses).where(log_witnesses.c.url == url).values(size=size, updated_at=now)
            )
            if changed.rowcount == 0:
                await connection.execute(insert(log_witnesses).values(url=url, size=size, updated_at=now))
