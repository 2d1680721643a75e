"""Arrivals through service links and posters: counted per source tag and service, new citizens apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sql.arrivals import SqlArrivals
from sevamitra.adapters.sql.stores import SqlConversations
from tests.adapters.test_sql_spine import SEALER

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


async def test_arrivals_are_counted_by_source_and_service(engine: AsyncEngine) -> None:
    came = [
        ("revenue.income-certificate", "kurnool-ws-12", True),
        ("revenue.income-certificate", "kurnool-ws-12", False),
        ("revenue.income-certificate", "kurnool-ws-12", True),
        ("revenue.income-certificate", None, True),
        ("municipal.property-tax-payment", "bus-stand-7", False),
    ]
    for n, (service_id, source, first) in enumerate(came):
        async with SqlConversations(engine, SEALER).turn(f"9198000004{n:02d}", NOW) as turn:
            assert turn is not None
            await turn.arrived(service_id, source, "te", first, NOW + timedelta(minutes=n))
    async with SqlConversations(engine, SEALER).turn("919800000499", NOW) as turn:
        assert turn is not None
        await turn.arrived("revenue.income-certificate", "kurnool-ws-12", "en", True, NOW - timedelta(days=40))
    counts = await SqlArrivals(engine).counts(since=NOW - timedelta(days=30))
    top, *rest = counts
    assert (top.source, top.service_id, top.arrivals, top.new_citizens) == (
        "kurnool-ws-12", "revenue.income-certificate", 3, 2
    )  # fmt: skip
    assert top.last_at == NOW + timedelta(minutes=2)
    assert {(c.source, c.service_id, c.arrivals) for c in rest} == {
        (None, "revenue.income-certificate", 1),
        ("bus-stand-7", "municipal.property-tax-payment", 1),
    }
