"""Moments as people in Andhra Pradesh read them: Indian Standard Time, dd-mm-yyyy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

IST: Final = timezone(timedelta(hours=5, minutes=30), "IST")


def _in_india(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(IST)


def local_time(moment: datetime | None) -> str:
    """dd-mm-yyyy HH:MM in Indian time; "-" when there is none."""
    return _in_india(moment).strftime("%d-%m-%Y %H:%M") if moment is not None else "-"


def local_date(moment: datetime | None) -> str:
    """dd-mm-yyyy, the Indian date; "-" when there is none."""
    return _in_india(moment).strftime("%d-%m-%Y") if moment is not None else "-"
