"""A citizen's pace as pure arithmetic: a burst at once, then the rate; told once per spell of haste."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sevamitra.core.pacing import Bucket, Pace, admit

PACE = Pace(per_minute=6, burst=3)  # after three at once, one every ten seconds
START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def test_a_burst_is_taken_at_once_then_the_next_waits_for_its_token_and_is_warned_once() -> None:
    bucket = Bucket(tokens=PACE.burst)
    for _ in range(3):
        admitted = admit(bucket, PACE, START)
        assert admitted.wait == timedelta(0) and not admitted.warn
        bucket = admitted.bucket
    held = admit(bucket, PACE, START)
    assert held.wait == timedelta(seconds=10) and held.warn
    again = admit(held.bucket, PACE, START + timedelta(seconds=4))
    assert again.wait.total_seconds() == pytest.approx(6) and not again.warn  # told once, not at every message
    taken = admit(again.bucket, PACE, START + timedelta(seconds=10))
    assert taken.wait == timedelta(0)


def test_a_citizen_who_calms_down_gets_the_burst_back_and_would_be_told_again() -> None:
    bucket = Bucket(tokens=0.0, at=START, warned=True)
    refilled = admit(bucket, PACE, START + timedelta(minutes=5))
    assert refilled.wait == timedelta(0)
    assert refilled.bucket.tokens == PACE.burst - 1 and not refilled.bucket.warned


def test_the_bucket_survives_the_conversation_row_and_a_damaged_one_starts_full() -> None:
    bucket = Bucket(tokens=1.5, at=START, warned=True)
    assert Bucket.from_dict(bucket.to_dict(), PACE) == bucket
    assert Bucket.from_dict(None, PACE) == Bucket(tokens=3.0)
    assert Bucket.from_dict({"tokens": "many", "at": "yesterday"}, PACE) == Bucket(tokens=3.0)


def test_a_clock_that_steps_back_gives_no_tokens() -> None:
    bucket = Bucket(tokens=0.0, at=START)
    assert admit(bucket, PACE, START - timedelta(hours=1)).wait == timedelta(seconds=10)
