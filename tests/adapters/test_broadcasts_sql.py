"""Broadcast alerts in the database, on SQLite and PostgreSQL: who gets one (each citizen once, in their
language), opting out, emergencies for everyone in the area, ten thousand recipients at once, and the
sender's rate limit holding while it drains them."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.broadcast import compose
from sevamitra.actions.send import LocalSendBudget, Sender
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.sql.stores import SqlOutbox
from sevamitra.adapters.sql.subscriptions import SqlBroadcasts, SqlSubscriptions, Subscription
from sevamitra.adapters.sql.tables import applications, broadcasts, outbox, subscriptions
from sevamitra.adapters.whatsapp.graph import GraphMessenger
from sevamitra.bootstrap import load_texts
from sevamitra.core.broadcasts import EMERGENCY_PREFIX, Broadcast
from sevamitra.core.messages import Recipient
from sevamitra.testing.clock import FixedClock

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
TEXTS = load_texts()
PLACES = load_jurisdictions()
RURAL = "ntr/vijayawada-rural"
NUNNA = "ntr/vijayawada-rural/nunna"
GOLLAPUDI = "ntr/vijayawada-rural/gollapudi"
_references = itertools.count(1)


def alert(topic: str = "weather", area: str = RURAL, *, emergency: bool = False, text: str = "Heavy rain") -> Broadcast:
    return compose(TEXTS, PLACES, topic=topic, area=area, text=text, emergency=emergency, created_by=7)


async def subscribe(
    engine: AsyncEngine, address: str, topic: str | None, area: str, language: str = "en", at: datetime = NOW
) -> int:
    return await SqlSubscriptions(engine).subscribe(address, Recipient(wa_id=address), topic, area, language, at)


async def applied(engine: AsyncEngine, address: str, district: str | None, language: str, at: datetime) -> None:
    """An application as the chat stores it, reduced to what broadcasts read."""
    number = next(_references)
    async with engine.begin() as connection:
        await connection.execute(
            insert(applications).values(
                reference=f"AP-REV-INC-2026-{number:06d}",
                service_id="revenue.income-certificate",
                service_version=1,
                definition_hash="0" * 64,
                address=address,
                wa_id=address,
                language=language,
                answers="sealed",
                status="submitted",
                submitted_at=at,
                due_at=at + timedelta(days=7),
                updated_at=at,
                district=district,
            )
        )


async def queued(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    """The outbox's messages by citizen; fails if any citizen has two."""
    async with engine.connect() as connection:
        rows = list(await connection.execute(select(outbox.c.address, outbox.c.payload, outbox.c.state)))
    found = {r.address: r.payload for r in rows}
    assert len(found) == len(rows), "a citizen got the broadcast twice"
    assert {r.state for r in rows} <= {"pending"}
    return found


async def test_only_subscribers_of_the_topic_whose_area_the_alert_reaches_get_it_each_once(engine: AsyncEngine) -> None:
    await subscribe(engine, "91001", "weather", RURAL, "te")  # the mandal itself
    await subscribe(engine, "91002", "weather", NUNNA, "hi")  # a village inside it
    await subscribe(engine, "91003", "weather", "ntr")  # the district containing it
    await subscribe(engine, "91004", "weather", "state")  # the whole state
    await subscribe(engine, "91005", "weather", "guntur")  # another district
    await subscribe(engine, "91006", "health", RURAL)  # another topic
    await subscribe(engine, "91007", "weather", "ntr/ibrahimpatnam")  # another mandal
    for area in (RURAL, NUNNA, GOLLAPUDI, "ntr", "state"):  # five subscriptions the alert reaches: one message
        await subscribe(engine, "91008", "weather", area, "te")

    count = await SqlBroadcasts(engine).send(alert(), NOW)

    sent = await queued(engine)
    assert count == len(sent) == 5
    assert set(sent) == {"91001", "91002", "91003", "91004", "91008"}
    assert sent["91001"]["body"].startswith("📢 వాతావరణం · విజయవాడ గ్రామీణ")  # in each citizen's language
    assert sent["91002"]["body"].startswith("📢 मौसम · विजयवाड़ा ग्रामीण")
    assert sent["91003"]["body"].startswith("📢 Weather · Vijayawada Rural, NTR\nHeavy rain")
    assert sent["91003"]["fallback"] == {
        "kind": "template",
        "name": "alert",
        "language": "en",
        "body_parameters": ["Weather", "Vijayawada Rural, NTR", "Heavy rain"],
    }
    async with engine.connect() as connection:
        row = (await connection.execute(select(broadcasts))).one()
    assert (row.topic, row.area, row.emergency, row.created_by, row.recipients) == ("weather", RURAL, False, 7, 5)
    assert row.message["text"] == "Heavy rain" and set(row.message["payloads"]) >= {"te", "en", "hi"}


async def test_a_village_alert_does_not_reach_the_neighbouring_village_or_like_patterns(engine: AsyncEngine) -> None:
    await subscribe(engine, "91001", "weather", GOLLAPUDI)
    await subscribe(engine, "91002", "weather", NUNNA)
    await subscribe(engine, "91003", "weather", "ntr/vijayawada-rural-east")  # an id that starts the same
    await subscribe(engine, "91004", "weather", "axb/village")  # '_' in an area is a letter, not a wildcard
    await subscribe(engine, "91005", "weather", "a%b")
    assert await SqlBroadcasts(engine).send(alert(area=NUNNA), NOW) == 1
    assert await SqlBroadcasts(engine).send(alert(area="a_b"), NOW) == 0
    assert await SqlBroadcasts(engine).send(alert(area="a%b/village"), NOW) == 1  # inside "a%b"
    assert set(await queued(engine)) == {"91002", "91005"}


async def test_an_opted_out_citizen_gets_nothing(engine: AsyncEngine) -> None:
    store = SqlSubscriptions(engine)
    assert await subscribe(engine, "91001", None, "ntr") == 6  # every topic
    assert await subscribe(engine, "91001", None, "ntr") == 0  # again: nothing new
    await subscribe(engine, "91002", "weather", "ntr")
    await subscribe(engine, "91002", "health", "ntr")
    assert await store.unsubscribe("91001") == 6  # "stop": everything
    assert await store.unsubscribe("91002", "weather") == 1  # "stop weather alerts": that topic only
    assert await store.list_for("91001") == []
    assert [s.topic for s in await store.list_for("91002")] == ["health"]

    assert await SqlBroadcasts(engine).send(alert("weather", "ntr"), NOW) == 0
    assert await SqlBroadcasts(engine).send(alert("health", "ntr"), NOW) == 1
    assert set(await queued(engine)) == {"91002"}


async def test_subscribing_again_keeps_the_first_date_and_takes_the_new_language_everywhere(
    engine: AsyncEngine,
) -> None:
    await subscribe(engine, "91001", "weather", NUNNA, "te")
    later = NOW + timedelta(days=3)
    assert await subscribe(engine, "91001", "weather", NUNNA, "hi", at=later) == 0
    assert await subscribe(engine, "91001", "exams", "ntr", "hi", at=later) == 1
    assert await SqlSubscriptions(engine).list_for("91001") == [
        Subscription(topic="exams", area="ntr", language="hi", created_at=later),
        Subscription(topic="weather", area=NUNNA, language="hi", created_at=NOW),
    ]


async def test_an_emergency_reaches_everyone_in_the_area_including_applicants_who_never_subscribed(
    engine: AsyncEngine,
) -> None:
    await subscribe(engine, "91001", "health", NUNNA, "te")  # another topic, inside the area
    await subscribe(engine, "91002", "weather", "ntr")  # the topic, for the whole district: as for any alert
    await subscribe(engine, "91003", "exams", "ntr")  # another topic, for the whole district: not known inside
    await subscribe(engine, "91004", "health", "guntur")
    await subscribe(engine, "91005", "exams", "state")
    await applied(engine, "91006", "ntr", "hi", NOW)  # applied in the district, never subscribed
    await applied(engine, "91007", "guntur", "te", NOW)
    await applied(engine, "91008", "guntur", "en", NOW - timedelta(days=400))  # moved: the latest counts
    await applied(engine, "91008", "ntr", "te", NOW)
    await applied(engine, "91009", "ntr", "en", NOW - timedelta(days=400))  # moved away
    await applied(engine, "91009", "guntur", "en", NOW)
    await applied(
        engine, "91001", "ntr", "hi", NOW
    )  # a subscriber who also applied: once, their subscription's language
    await applied(engine, "91010", None, "en", NOW)  # no district known

    district = await SqlBroadcasts(engine).send(alert("weather", "ntr", emergency=True, text="Flood warning"), NOW)
    sent = await queued(engine)
    assert district == len(sent) == 5
    assert set(sent) == {"91001", "91002", "91003", "91006", "91008"}
    assert sent["91001"]["body"].startswith(EMERGENCY_PREFIX + " · అత్యవసరం\n📢 వాతావరణం · ఎన్టీఆర్\nFlood warning")
    assert sent["91006"]["body"].startswith(EMERGENCY_PREFIX + " · आपातकाल")
    assert sent["91008"]["fallback"]["language"] == "te"
    assert sent["91002"]["fallback"]["body_parameters"][0] == EMERGENCY_PREFIX + " · Weather"


async def test_a_village_emergency_reaches_those_known_to_be_there_not_the_whole_district(engine: AsyncEngine) -> None:
    await subscribe(engine, "91001", "health", NUNNA)
    await subscribe(engine, "91002", "exams", GOLLAPUDI)
    await subscribe(engine, "91003", "weather", RURAL)  # the topic for the mandal containing the village
    await applied(engine, "91004", "ntr", "en", NOW)  # placed only by district: not reached for a village
    assert await SqlBroadcasts(engine).send(alert("weather", NUNNA, emergency=True), NOW) == 2
    assert set(await queued(engine)) == {"91001", "91003"}


async def test_a_state_wide_emergency_reaches_every_subscriber_and_applicant(engine: AsyncEngine) -> None:
    await subscribe(engine, "91001", "health", NUNNA)
    await subscribe(engine, "91002", "exams", "state")
    await applied(engine, "91003", "guntur", "en", NOW)
    await applied(engine, "91004", None, "en", NOW)
    assert await SqlBroadcasts(engine).send(alert("weather", "state", emergency=True), NOW) == 4


async def test_recent_broadcasts_are_listed_newest_first_within_a_scope(engine: AsyncEngine) -> None:
    await subscribe(engine, "91001", "weather", NUNNA)
    store = SqlBroadcasts(engine)
    await store.send(alert("weather", NUNNA), NOW)
    await store.send(alert("health", "guntur"), NOW + timedelta(minutes=1))
    await store.send(alert("exams", "state"), NOW + timedelta(minutes=2))
    everything = await store.recent()
    assert [(b.topic, b.area, b.recipients) for b in everything] == [
        ("exams", "state", 0),
        ("health", "guntur", 0),
        ("weather", NUNNA, 1),
    ]
    assert everything[2].text == "Heavy rain" and everything[2].created_at == NOW
    assert [b.area for b in await store.recent(within="ntr")] == [NUNNA]
    assert [b.area for b in await store.recent(within="state", topics=("health", "exams"))] == ["state", "guntur"]
    assert await store.recent(topics=()) == []


async def test_ten_thousand_recipients_are_queued_in_well_under_a_few_seconds(engine: AsyncEngine) -> None:
    areas = ("ntr", RURAL, NUNNA, GOLLAPUDI, "state")
    rows = [
        {
            "address": f"9190{n:07d}",
            "topic": "weather",
            "area": areas[n % len(areas)],
            "wa_id": f"9190{n:07d}",
            "language": ("te", "en", "hi")[n % 3],
            "created_at": NOW,
        }
        for n in range(10_000)
    ]
    rows += [{**row, "topic": "health"} for row in rows[:2_000]]  # other topics do not count
    rows += [{**row, "area": "guntur", "address": f"x{row['address']}"} for row in rows[:2_000]]  # nor other places
    async with engine.begin() as connection:
        await connection.execute(insert(subscriptions), rows)

    started = time.perf_counter()
    count = await SqlBroadcasts(engine).send(alert("weather", RURAL), NOW)  # reaches all five areas
    elapsed = time.perf_counter() - started

    assert count == 10_000
    assert elapsed < 3.0, f"{elapsed:.2f} s"
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(outbox)) == 10_000
        assert await connection.scalar(select(func.count(func.distinct(outbox.c.address)))) == 10_000


async def test_the_senders_rate_limit_holds_while_it_drains_a_broadcast(engine: AsyncEngine) -> None:
    rate, capacity, citizens = 100.0, 5.0, 60
    for n in range(citizens):
        await subscribe(engine, f"9191{n:06d}", "power_outage", RURAL)
    assert await SqlBroadcasts(engine).send(alert("power_outage", "ntr", text="Power cut 10:00-14:00"), NOW) == citizens

    sent_at: list[float] = []
    bodies: list[str] = []

    def graph_api(request: httpx.Request) -> httpx.Response:
        sent_at.append(time.monotonic())
        body = json.loads(request.content)
        bodies.append(body["text"]["body"])
        return httpx.Response(200, json={"messages": [{"id": f"wamid.{len(sent_at)}"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(graph_api)) as client:
        sender = Sender(
            outbox=SqlOutbox(engine),
            messenger=GraphMessenger(
                client, base_url="https://graph.test", version="v23.0", phone_number_id="1", access_token="t"
            ),
            clock=FixedClock(NOW),
            budget=LocalSendBudget(rate=rate, capacity=capacity),
            number="1",
            jitter=lambda: 0.0,
        )
        started = time.monotonic()
        drained = 0
        while drained < citizens:
            drained += await sender.drain(limit=200)
        elapsed = time.monotonic() - started

    assert len(sent_at) == citizens
    assert all(b.startswith("📢 Power outage · NTR\nPower cut 10:00-14:00") for b in bodies)
    assert elapsed >= (citizens - capacity) / rate * 0.95  # no faster than the bucket allows
    times = sorted(sent_at)
    slack = 1  # the event loop may wake a timer a clock tick early
    for i, j in itertools.combinations(range(len(times)), 2):
        assert j - i + 1 <= capacity + rate * (times[j] - times[i]) + slack, (i, j)
    async with engine.connect() as connection:
        states = set((await connection.execute(select(outbox.c.state))).scalars())
    assert states == {"sent"}
