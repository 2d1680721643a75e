"""Moments shown in Indian Standard Time, dd-mm-yyyy, whatever zone they are stored in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sevamitra.core.localtime import local_date, local_time


def test_a_utc_moment_is_shown_in_indian_time_across_midnight() -> None:
    moment = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    assert local_time(moment) == "01-12-2026 00:30"
    assert local_date(moment) == "01-12-2026"


def test_a_naive_moment_is_read_as_utc_and_another_zone_is_converted() -> None:
    assert local_time(datetime(2026, 11, 30, 19, 0)) == "01-12-2026 00:30"  # noqa: DTZ001 (the case under test)
    assert local_time(datetime(2026, 12, 1, 2, 0, tzinfo=timezone(timedelta(hours=3)))) == "01-12-2026 04:30"


def test_no_moment_is_a_dash() -> None:
    assert local_time(None) == "-"
    assert local_date(None) == "-"
