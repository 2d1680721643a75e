"""Log lines hold no whole phone or Aadhaar number (SQLite and PostgreSQL): not in a message, not in a
traceback, not in the SQL an operator turns on to debug a citizen's turn, in text or in JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.converse import converse
from sevamitra.adapters.logformat import log_handler, mask_numbers
from sevamitra.adapters.sql.stores import SqlConversations, SqlInbox
from sevamitra.settings import LogFormat
from sevamitra.testing.clock import FixedClock
from tests.adapters.test_sql_spine import SEALER, items, text_update, turns

CITIZEN = "919876543210"


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("reply to 919876543210 failed", "reply to ********3210 failed"),
        ("reply to +919876543210.", "reply to ********3210."),
        ("mobile 98765 43210 given", "mobile ******3210 given"),
        ("call +91 98765-43210", "call ********3210"),
        ("aadhaar 2345 6789 0124 seen", "aadhaar ********0124 seen"),
        ("aadhaar 234567890124", "aadhaar ********0124"),
    ],
)
def test_phone_and_aadhaar_numbers_are_cut_to_their_last_four_digits(line: str, masked: str) -> None:
    assert mask_numbers(line) == masked


@pytest.mark.parametrize(
    "line",
    [
        "application AP-LAB-SE-NEW-2026-000123 approved",
        "at 2026-01-15 09:30:00.123456 in 0.0012345678901 s",
        "message wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0E5 sent",
        "outbox 12345 failed after 8 attempts",
    ],
)
def test_references_times_and_ids_are_left_alone(line: str) -> None:
    assert mask_numbers(line) == line


@contextmanager
def captured(log_format: LogFormat, *loggers: str) -> Iterator[io.StringIO]:
    """Everything these loggers write at INFO, through the platform's own handler."""
    stream = io.StringIO()
    handler = log_handler(log_format, stream)
    before = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).addHandler(handler)
    try:
        yield stream
    finally:
        for name, level in before.items():
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_conversations_log_holds_no_phone_number(engine: AsyncEngine, log_format: LogFormat) -> None:
    store, clock = SqlInbox(engine), FixedClock()
    with captured(log_format, "sevamitra", "sqlalchemy.engine") as stream:
        await store.add(items(text_update(CITIZEN, "hi", "wamid.LOG1")), clock.now())
        assert await converse(turns(engine, clock, SqlConversations(engine, SEALER)), limit=10) == 1
        try:
            raise LookupError(f"no conversation for {CITIZEN}")
        except LookupError:
            logging.getLogger("sevamitra.test").exception("turn for %s failed", CITIZEN)
    written = stream.getvalue()
    assert CITIZEN not in written and CITIZEN[2:] not in written
    assert written.count("********3210") >= 3  # the SQL did carry the number: masked, not left out
    if log_format == "json":
        lines = [json.loads(line) for line in written.splitlines()]
        failed = next(line for line in lines if line["message"] == "turn for ********3210 failed")
        assert "LookupError: no conversation for ********3210" in failed["exc_info"]
    else:
        assert "LookupError: no conversation for ********3210" in written
