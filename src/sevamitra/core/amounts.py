"""Rupee amounts as citizens type them ("Rs. 1,20,000/-", "₹45", "2.5 lakh") and as we show them ("₹1,20,000")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

_CURRENCY = r"(?:₹|rs\.?|inr|rupees?|రూ\.?|రూపాయలు|रु\.?|रू\.?|रुपये|रुपए|रुपया)"
_UNITS: Final = {
    **dict.fromkeys(("k", "thousand", "వేలు", "వేల", "हजार", "हज़ार"), 1_000),
    **dict.fromkeys(("lakh", "lakhs", "lac", "lacs", "లక్ష", "లక్షలు", "लाख"), 100_000),
    **dict.fromkeys(("crore", "crores", "cr", "కోటి", "కోట్లు", "करोड़"), 10_000_000),
}
_UNIT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_AMOUNT = re.compile(
    rf"{_CURRENCY}?\s*(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>{_UNIT})?\s*{_CURRENCY}?\s*(?:/-)?"
)
# Digits grouped the Indian way (1,00,000), the international way (100,000), or not at all.
_GROUPED = re.compile(r"[0-9]+|[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}|[0-9]{1,3}(?:,[0-9]{3})+")
MAX_DIGITS: Final = 15


def parse_amount(text: str) -> int | None:
    """Whole rupees, or None. Paise are refused unless a unit makes them whole ("2.5 lakh")."""
    match = _AMOUNT.fullmatch(text.casefold().strip())
    if match is None:
        return None
    whole, _, fraction = match["number"].partition(".")
    if not _GROUPED.fullmatch(whole) or len(whole.replace(",", "")) > MAX_DIGITS:
        return None
    amount = Decimal(whole.replace(",", "") + "." + (fraction or "0")) * _UNITS.get(match["unit"] or "", 1)
    return int(amount) if amount == amount.to_integral_value() else None


def format_inr(rupees: int) -> str:
    """`₹1,00,000`: Indian digit grouping (the last three digits, then pairs)."""
    sign, digits = ("-", str(-rupees)) if rupees < 0 else ("", str(rupees))
    head, tail = digits[:-3], digits[-3:]
    pairs = [head[max(i - 2, 0) : i] for i in range(len(head), 0, -2)][::-1]
    return f"{sign}₹" + ",".join([*pairs, tail])
