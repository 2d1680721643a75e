"""Anchors of log checkpoints, one row each, and the lock one anchoring round holds.

PostgreSQL: a session advisory lock on a connection held for the round (the round commits as it
goes: a transaction is stored before it is broadcast). SQLite: one process, an asyncio lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.tables import log_anchors
from sevamitra.core.anchors import Anchor, AnchorState, Inclusion, SignedTransaction

ANCHOR_LOCK = 0x5E7A_0002  # the advisory lock key of the anchoring round
HASH_SIZE = 32


class SqlAnchors:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._local = asyncio.Lock()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        if self._local.locked():
            yield False
            return
        async with self._local:
            if self.sqlite:
                yield True
                return
            async with self.engine.connect() as connection:
                locked = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ANCHOR_LOCK})
                await connection.commit()
                try:
                    yield bool(locked)
                finally:
                    if locked:
                        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ANCHOR_LOCK})
                        await connection.commit()

    async def open(self) -> Anchor | None:
        query = select(log_anchors).where(log_anchors.c.state != AnchorState.CONFIRMED.value)
        return await self._one(query.order_by(log_anchors.c.size).limit(1))

    async def newest(self) -> Anchor | None:
        return await self._one(select(log_anchors).order_by(log_anchors.c.size.desc()).limit(1))

    async def add(self, size: int, checkpoint_hash: bytes, chain_id: int, now: datetime) -> Anchor:
        values: dict[str, Any] = {
            "size": size,
            "checkpoint_hash": checkpoint_hash,
            "chain_id": chain_id,
            "state": AnchorState.SENDING.value,
            "earlier": b"",
            "attempts": 0,
            "error": "",
            "created_at": now,
        }
        async with self.engine.begin() as connection:
            result = await connection.execute(insert(log_anchors).values(values).returning(log_anchors.c.id))
            anchor_id = int(result.scalar_one())
        return Anchor(id=anchor_id, size=size, checkpoint_hash=checkpoint_hash, chain_id=chain_id, created_at=now)

    async def save(self, anchor: Anchor) -> None:
        sent, mined = anchor.transaction, anchor.inclusion
        values = {
            "state": anchor.state.value,
            "tx_hash": sent.hash if sent else None,
            "tx_nonce": sent.nonce if sent else None,
            "tx_raw": sent.raw if sent else None,
            "tx_max_fee": sent.max_fee if sent else None,
            "tx_priority_fee": sent.priority_fee if sent else None,
            "earlier": b"".join(anchor.earlier),
            "sent_at": anchor.sent_at,
            "block": mined.block if mined else None,
            "block_hash": mined.block_hash if mined else None,
            "succeeded": mined.succeeded if mined else None,
            "gas_used": mined.gas_used if mined else None,
            "fee_paid": mined.fee_paid if mined else None,
            "attempts": anchor.attempts,
            "error": anchor.error,
            "confirmed_at": anchor.confirmed_at,
        }
        async with self.engine.begin() as connection:
            await connection.execute(update(log_anchors).where(log_anchors.c.id == anchor.id).values(values))

    async def listed(self, *, published_only: bool = False, limit: int = 1000) -> list[Anchor]:
        """Anchors, oldest first; `published_only`: those mined (included or confirmed)."""
        query = select(log_anchors).order_by(log_anchors.c.size).limit(limit)
        if published_only:
            query = query.where(log_anchors.c.state != AnchorState.SENDING.value)
        async with self.engine.connect() as connection:
            return [_anchor(row) for row in await connection.execute(query)]

    async def covering(self, position: int) -> Anchor | None:
        """The first confirmed anchor whose checkpoint includes the entry at `position`."""
        query = (
            select(log_anchors)
            .where(log_anchors.c.state == AnchorState.CONFIRMED.value, log_anchors.c.size > position)
            .order_by(log_anchors.c.size)
            .limit(1)
        )
        return await self._one(query)

    async def _one(self, query: Any) -> Anchor | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _anchor(row) if row else None


def _anchor(row: Row[Any]) -> Anchor:
    sent = None
    if row.tx_hash is not None:
        sent = SignedTransaction(
            hash=row.tx_hash,
            nonce=row.tx_nonce,
            raw=row.tx_raw,
            max_fee=row.tx_max_fee,
            priority_fee=row.tx_priority_fee,
        )
    mined = None
    if row.block is not None:
        mined = Inclusion(
            block=row.block,
            block_hash=row.block_hash,
            succeeded=bool(row.succeeded),
            gas_used=row.gas_used,
            fee_paid=row.fee_paid,
        )
    earlier = bytes(row.earlier)
    return Anchor(
        id=row.id,
        size=row.size,
        checkpoint_hash=row.checkpoint_hash,
        chain_id=row.chain_id,
        created_at=row.created_at,
        state=AnchorState(row.state),
        transaction=sent,
        earlier=tuple(earlier[i : i + HASH_SIZE] for i in range(0, len(earlier), HASH_SIZE)),
        sent_at=row.sent_at,
        inclusion=mined,
        attempts=row.attempts,
        error=row.error,
        confirmed_at=row.confirmed_at,
    )
