"""The Prometheus meter, what the sender and the Graph API client count with it, and JSON log lines."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.send import LocalSendBudget, Sender
from sevamitra.adapters.logformat import log_handler
from sevamitra.adapters.metrics import PrometheusMeter
from sevamitra.adapters.sql.stores import SqlOutbox, outbox_row
from sevamitra.adapters.sql.tables import outbox
from sevamitra.adapters.whatsapp.graph import GraphMessenger
from sevamitra.bootstrap.monitoring import MeteredOutbox
from sevamitra.cli.main import main
from sevamitra.core.logcontext import MESSAGE_ID, REQUEST_ID, bound
from sevamitra.core.messages import Recipient, TextOut, outbound_to_dict
from sevamitra.testing.clock import FixedClock


def sent(meter: PrometheusMeter, result: str) -> float | None:
    return meter.registry.get_sample_value("sevamitra_messages_sent_total", {"result": result})


def test_each_meter_keeps_its_own_figures() -> None:
    first, second = PrometheusMeter(), PrometheusMeter()
    first.count("webhook_deliveries", outcome="stored")
    first.count("webhook_deliveries", outcome="stored")
    first.observe("turn_latency", 0.3)
    deliveries = "sevamitra_webhook_deliveries_total"
    assert first.registry.get_sample_value(deliveries, {"outcome": "stored"}) == 2
    assert second.registry.get_sample_value(deliveries, {"outcome": "stored"}) == 0
    assert first.registry.get_sample_value("sevamitra_turn_latency_seconds_bucket", {"le": "0.5"}) == 1
    assert first.registry.get_sample_value("sevamitra_turn_latency_seconds_bucket", {"le": "0.25"}) == 0
    body, content_type = first.exposition()
    assert b'sevamitra_webhook_deliveries_total{outcome="bad_signature"} 0.0' in body
    assert content_type.startswith("text/plain")


def graph_error(status: int, code: int) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "x", "type": "OAuthException", "code": code}})


ANSWERS = {  # each citizen's answer from the Graph API
    "919000000001": httpx.Response(200, json={"messages": [{"id": "wamid.OK1"}]}),
    "919000000002": graph_error(400, 131047),  # outside the 24-hour window
    "919000000003": graph_error(400, 131026),  # undeliverable
    "919000000004": graph_error(429, 130429),  # throttled: tried again later
    "919000000005": graph_error(400, 100),  # refused for good
}


async def test_the_sender_counts_each_result_and_the_graph_client_its_rate_limits(engine: AsyncEngine) -> None:
    clock, meter = FixedClock(), PrometheusMeter()
    async with engine.begin() as connection:
        for wa_id in ANSWERS:
            row = outbox_row(wa_id, Recipient(wa_id=wa_id), outbound_to_dict(TextOut(body="Namaste")), clock.now())
            await connection.execute(insert(outbox).values(row))
    graph = httpx.MockTransport(lambda request: ANSWERS[json.loads(request.content)["to"]])
    async with httpx.AsyncClient(transport=graph) as client:
        sender = Sender(
            outbox=MeteredOutbox(SqlOutbox(engine), meter),
            messenger=GraphMessenger(
                client,
                base_url="https://graph.test",
                version="v23.0",
                phone_number_id="1",
                access_token="t",
                meter=meter,
            ),
            clock=clock,
            budget=LocalSendBudget(rate=1000, capacity=1000),
            number="1",
            jitter=lambda: 0.0,
        )
        assert await sender.drain() == len(ANSWERS)
    results = ("sent", "outside_window", "undeliverable", "retry", "failed")
    assert {result: sent(meter, result) for result in results} == dict.fromkeys(results, 1)
    assert meter.registry.get_sample_value("sevamitra_graph_api_throttled_total") == 1


def test_json_log_lines_carry_the_ids_known_when_logged() -> None:
    lines = io.StringIO()
    logger = logging.getLogger("sevamitra.test_metrics")
    logger.addHandler(handler := log_handler("json", lines))
    try:
        with bound(MESSAGE_ID, "wamid.HBgM"):
            logger.warning("turn slow")
        with bound(REQUEST_ID, "req-1"):
            logger.warning("request slow")
        logger.warning("neither")
    finally:
        logger.removeHandler(handler)
    turn, request, neither = (json.loads(line) for line in lines.getvalue().splitlines())
    assert (turn["message"], turn["message_id"], "request_id" in turn) == ("turn slow", "wamid.HBgM", False)
    assert (request["request_id"], "message_id" in request) == ("req-1", False)
    assert {"time", "level", "logger", "message"} == set(neither)
    assert MESSAGE_ID.get() is None and REQUEST_ID.get() is None


def test_a_log_format_other_than_text_or_json_stops_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEVAMITRA_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit) as stopped:
        main(["migrate"])
    assert stopped.value.code == 2
    assert "'text' or 'json'" in capsys.readouterr().err
