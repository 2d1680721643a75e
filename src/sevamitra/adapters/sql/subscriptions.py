"""Alert subscriptions and broadcasts on SQLAlchemy Core, for SQLite and PostgreSQL.

A broadcast is recorded and queued in one transaction, with one statement: `INSERT INTO outbox
... SELECT` over its recipients, each citizen once, their payload picked by language in SQL (a
`CASE` over the broadcast's few languages). Nothing passes through Python per recipient, so a
district of a hundred thousand subscribers is queued in one round trip; the sender then drains
the outbox under its token bucket like any other message.

Who a broadcast reaches (`core.broadcasts` explains the rule):

- a normal alert: the subscribers of its topic whose area `reaches` the alert's area: the area
  itself, a place inside it, a place containing it, or the state;
- an emergency: everyone the same alert would reach as a normal one, and besides them every
  citizen we know to be in the area: who subscribed to any topic for a place inside the area,
  and whose latest application's district lies inside it. An applicant is only placed by their
  district, so an emergency for a mandal or a village reaches the applicants of that district
  only through their subscriptions: a village's flood must not alarm a district of two million.
  A state-wide emergency reaches every subscriber and every applicant. Citizens who only
  chatted are not reached: their language and place sit sealed in their conversation state.
  Emergencies do not ask whether a citizen opted out; an opt-out deletes subscriptions only.

Each citizen gets one message in their language: a subscriber's (every subscription of a citizen
carries the language they last subscribed in), else that of their latest application.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.tables import Stamp, applications, broadcasts, outbox, subscriptions
from sevamitra.core.broadcasts import TOPICS, Broadcast, SentBroadcast, ancestors
from sevamitra.core.messages import Recipient
from sevamitra.core.workflow import STATE

__all__ = [
    "SqlBroadcasts",
    "SqlSubscriptions",
    "Subscription",
    "add_subscriptions",
    "remove_subscriptions",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    topic: str
    area: str  # a place id, or "state"
    language: str
    created_at: datetime


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _inside(column: Any, area: str) -> ColumnElement[bool]:
    """The rows whose area (or district) lies within `area`: itself or a place under it."""
    if area == STATE:
        return true()
    return or_(column == area, column.like(escape_like(area) + "/%", escape="\\"))


def _reaching(column: Any, area: str) -> ColumnElement[bool]:
    """The subscription areas an alert for `area` reaches: inside it, or containing it (the state too).

    The same as `area = :a OR area LIKE :a || '/%' OR :a LIKE area || '/%' OR area = 'state'`, with
    the containing areas listed instead of matched as patterns, so that no stored area is ever
    read as a LIKE pattern and the (topic, area) index serves the equality part."""
    if area == STATE:
        return true()
    return or_(column.in_([*ancestors(area), area]), column.like(escape_like(area) + "/%", escape="\\"))


# --- subscriptions ------------------------------------------------------------------------------


async def add_subscriptions(
    connection: AsyncConnection,
    *,
    address: str,
    recipient: Recipient,
    topics: Iterable[str],
    area: str,
    language: str,
    now: datetime,
) -> int:
    """Subscribe the citizen to each topic for `area` on an open transaction (a conversation turn's);
    returns how many subscriptions are new. The citizen's language and ids are updated on all
    their subscriptions: a citizen reads alerts in one language."""
    await connection.execute(
        update(subscriptions)
        .where(subscriptions.c.address == address)
        .values(language=language, wa_id=recipient.wa_id, user_id=recipient.user_id)
    )
    rows = [
        {
            "address": address,
            "topic": topic,
            "area": area,
            "wa_id": recipient.wa_id,
            "user_id": recipient.user_id,
            "language": language,
            "created_at": now,
        }
        for topic in dict.fromkeys(topics)
    ]
    if not rows:
        return 0
    make = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    # One multi-row statement (not executemany), so that its row count is the new rows' on every driver.
    statement = make(subscriptions).values(rows).on_conflict_do_nothing(index_elements=["address", "topic", "area"])
    result = await connection.execute(statement)
    return max(result.rowcount, 0)


async def remove_subscriptions(connection: AsyncConnection, address: str, topic: str | None = None) -> int:
    """Unsubscribe the citizen from `topic` in every area (None: from everything); returns how many went."""
    statement = delete(subscriptions).where(subscriptions.c.address == address)
    if topic is not None:
        statement = statement.where(subscriptions.c.topic == topic)
    result = await connection.execute(statement)
    return max(result.rowcount, 0)


class SqlSubscriptions:
    """What each citizen asked to be alerted about."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def subscribe(
        self, address: str, recipient: Recipient, topic: str | None, area: str, language: str, now: datetime
    ) -> int:
        """Subscribe to `topic` (None: every topic) for `area`; returns how many subscriptions are new."""
        async with self.engine.begin() as connection:
            return await add_subscriptions(
                connection,
                address=address,
                recipient=recipient,
                topics=TOPICS if topic is None else (topic,),
                area=area,
                language=language,
                now=now,
            )

    async def unsubscribe(self, address: str, topic: str | None = None) -> int:
        """Stop `topic` in every area (None: everything); returns how many subscriptions ended."""
        async with self.engine.begin() as connection:
            return await remove_subscriptions(connection, address, topic)

    async def list_for(self, address: str) -> list[Subscription]:
        """The citizen's subscriptions, by topic then area."""
        query = (
            select(subscriptions.c.topic, subscriptions.c.area, subscriptions.c.language, subscriptions.c.created_at)
            .where(subscriptions.c.address == address)
            .order_by(subscriptions.c.topic, subscriptions.c.area)
        )
        async with self.engine.connect() as connection:
            rows = await connection.execute(query)
            return [
                Subscription(topic=r.topic, area=r.area, language=r.language, created_at=r.created_at) for r in rows
            ]


# --- broadcasts ---------------------------------------------------------------------------------


def _subscribers(topic: str, area: str) -> Select[Any]:
    """Each subscriber of `topic` whose area the alert reaches, once, with their language."""
    return (
        select(
            subscriptions.c.address,
            func.max(subscriptions.c.wa_id).label("wa_id"),
            func.max(subscriptions.c.user_id).label("user_id"),
            func.max(subscriptions.c.language).label("language"),
        )
        .where(subscriptions.c.topic == topic, _reaching(subscriptions.c.area, area))
        .group_by(subscriptions.c.address)
    )


def _everyone_in(topic: str, area: str) -> Select[Any]:
    """An emergency's recipients, once each: the topic's subscribers it reaches, subscribers of any topic
    inside the area and applicants whose latest application's district lies inside it. A subscriber's
    language wins over their application's (ranked "0" before "1" and cut off again)."""
    subscribed = select(
        subscriptions.c.address,
        subscriptions.c.wa_id,
        subscriptions.c.user_id,
        (literal("0", String) + subscriptions.c.language).label("ranked"),
    ).where(
        or_(
            (subscriptions.c.topic == topic) & _reaching(subscriptions.c.area, area),
            _inside(subscriptions.c.area, area),
        )
    )
    order = func.row_number().over(
        partition_by=applications.c.address, order_by=(applications.c.submitted_at.desc(), applications.c.id.desc())
    )
    latest = select(
        applications.c.address,
        applications.c.wa_id,
        applications.c.user_id,
        applications.c.language,
        applications.c.district,
        order.label("n"),
    ).subquery("latest")
    applied = select(
        latest.c.address,
        latest.c.wa_id,
        latest.c.user_id,
        (literal("1", String) + latest.c.language).label("ranked"),
    ).where(latest.c.n == 1, _inside(latest.c.district, area))
    known = union_all(subscribed, applied).subquery("known")
    return select(
        known.c.address,
        func.max(known.c.wa_id).label("wa_id"),
        func.max(known.c.user_id).label("user_id"),
        func.substr(func.min(known.c.ranked), 2).label("language"),
    ).group_by(known.c.address)


class SqlBroadcasts:
    """Broadcasts: recorded, and queued in the outbox for every recipient, in one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def send(self, broadcast: Broadcast, now: datetime) -> int:
        """Record the broadcast and queue one message per recipient; returns how many were queued."""
        if broadcast.default_language not in broadcast.payloads:
            raise ValueError(f"no payload in the default language {broadcast.default_language!r}")
        message = {
            "text": broadcast.text,
            "default_language": broadcast.default_language,
            "payloads": {language: dict(payload) for language, payload in broadcast.payloads.items()},
        }
        chosen = (_everyone_in if broadcast.emergency else _subscribers)(broadcast.topic, broadcast.area)
        recipients = chosen.subquery("recipients")
        payload = case(
            {language: literal(dict(p), JSON) for language, p in broadcast.payloads.items()},
            value=recipients.c.language,
            else_=literal(dict(broadcast.payload(broadcast.default_language)), JSON),
        )
        queued = insert(outbox).from_select(
            ["address", "wa_id", "user_id", "payload", "state", "attempts", "next_attempt_at", "created_at"],
            select(
                recipients.c.address,
                recipients.c.wa_id,
                recipients.c.user_id,
                payload,
                literal("pending", String),
                literal(0),
                literal(now, Stamp),
                literal(now, Stamp),
            ).order_by(recipients.c.address),
        )
        async with self.engine.begin() as connection:
            created = await connection.execute(
                insert(broadcasts).values(
                    topic=broadcast.topic,
                    area=broadcast.area,
                    emergency=broadcast.emergency,
                    message=message,
                    created_by=broadcast.created_by,
                    created_at=now,
                    recipients=0,
                )
            )
            broadcast_id = created.inserted_primary_key[0] if created.inserted_primary_key else None
            count = max((await connection.execute(queued)).rowcount, 0)
            await connection.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id).values(recipients=count))
        return count

    async def recent(
        self, *, limit: int = 20, within: str | None = None, topics: Collection[str] | None = None
    ) -> list[SentBroadcast]:
        """The latest broadcasts, newest first: about areas inside `within` (None or "state": anywhere),
        about `topics` (None: any)."""
        query = select(broadcasts).order_by(broadcasts.c.id.desc()).limit(limit)
        if within is not None:
            query = query.where(_inside(broadcasts.c.area, within))
        if topics is not None:
            query = query.where(broadcasts.c.topic.in_(list(topics)) if topics else false())
        async with self.engine.connect() as connection:
            rows = await connection.execute(query)
            return [
                SentBroadcast(
                    id=r.id,
                    topic=r.topic,
                    area=r.area,
                    emergency=r.emergency,
                    text=str((r.message or {}).get("text", "")),
                    created_by=r.created_by,
                    created_at=r.created_at,
                    recipients=r.recipients,
                )
                for r in rows
            ]
