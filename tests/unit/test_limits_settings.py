"""Limits that are no limits refuse to load, and the defaults are the ones the threat model documents."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sevamitra.settings import Settings


@pytest.mark.parametrize(
    "unsafe",
    [
        {"request_max_bytes": 1024},  # below what any form needs: a typo, not a limit
        {"webhook_max_bytes": 0},
        {"http_header_seconds": 0},
        {"http_body_min_rate": 0},
        {"http_header_max_bytes": 100},
        {"http_keep_alive_seconds": 0},
        {"citizen_pace_burst": 0},
        {"citizen_pace_per_minute": -1},
    ],
)
def test_limits_that_are_no_limits_are_refused(unsafe: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **unsafe)  # type: ignore[call-arg]


def test_the_defaults_are_the_documented_limits() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.webhook_max_bytes == 3 * 1024 * 1024
    assert settings.request_max_bytes == 11 * 1024 * 1024
    assert (settings.http_header_seconds, settings.http_body_seconds, settings.http_body_min_rate) == (15, 20, 500)
    assert (settings.http_header_max_bytes, settings.http_keep_alive_seconds) == (32 * 1024, 5)
    assert (settings.citizen_pace_per_minute, settings.citizen_pace_burst) == (30, 40)
