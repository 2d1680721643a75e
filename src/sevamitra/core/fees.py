"""Fees: what a service costs for one application, from its definition and the citizen's answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sevamitra.core.catalogue import Fee, Rebate

# Named rules for fees that are neither fixed nor per unit. The amount comes from a registry record
# (a bill, an assessment) that an instant service looks up; the rule says which figure to take.
FEE_RULES: Mapping[str, str] = {
    "bill_amount_due": "amount_due",  # electricity, water: the bill's amount due
    "property_tax_due": "tax_due",  # municipal and panchayat property tax: the demand outstanding
    "challan_amount": "amount_due",  # traffic e-challans: the fine
    "two_percent_of_property_tax": "annual_tax",  # mutation of title: 2 % of the annual tax
    "bus_fare": "fare",  # APSRTC: the service's fare for each seat asked for (answer `seats`)
    "amount_entered": "",  # donations, stamp duty: the amount the citizen enters (the field `per_field`)
}


FINANCIAL_YEAR_START = (4, 1)  # 1 April: rebate windows open on it
_MONTH_DAY = re.compile(r"([0-9]{2})-([0-9]{2})")


def fee_amount(
    fee: Fee, answers: Mapping[str, Any], record: Mapping[str, Any] | None = None, *, today: date | None = None
) -> int | None:
    """The fee in rupees; None when it can only be known from a registry record not given.

    Given `today`, a rule fee's early-payment rebate is taken off when it applies (`rebate_inr`).
    """
    if fee.kind == "free":
        return 0
    if fee.kind == "fixed":
        return fee.amount_inr or 0
    if fee.kind == "per_unit":
        count = answers.get(fee.per_field or "")
        return (fee.amount_inr or 0) * int(count) if isinstance(count, int) else None
    amount = _rule_amount(fee, answers, record)
    if amount is None or record is None or fee.rebate is None or today is None:
        return amount
    return amount - rebate_inr(fee.rebate, record, amount, today)


def _rule_amount(fee: Fee, answers: Mapping[str, Any], record: Mapping[str, Any] | None) -> int | None:
    if fee.rule == "amount_entered":
        entered = answers.get(fee.per_field or "")
        return entered if isinstance(entered, int) else None
    figure = FEE_RULES.get(fee.rule or "")
    if record is None or figure is None or figure not in record:
        return None
    amount = int(record[figure])
    if fee.rule == "two_percent_of_property_tax":
        return amount * 2 // 100
    if fee.rule == "bus_fare":
        seats = answers.get("seats", 1)
        return amount * (seats if isinstance(seats, int) else 1)
    return amount


# --- early-payment rebates -------------------------------------------------------------------------


def month_day(text: str) -> tuple[int, int]:
    """`MM-DD` as (month, day); ValueError unless it is a day of every year (so never `02-29`)."""
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a day as MM-DD, got {text!r}")
    month, day = int(match[1]), int(match[2])
    try:
        date(2001, month, day)  # a common year: refuses 13-01, 04-31 and 02-29
    except ValueError:
        raise ValueError(f"{text!r} is not a day of every year") from None
    return month, day


def rebate_window(rebate: Rebate, today: date) -> tuple[date, date]:
    """First and last day (both inclusive) of the rebate in the financial year that holds `today`."""
    start = date(today.year - ((today.month, today.day) < FINANCIAL_YEAR_START), *FINANCIAL_YEAR_START)
    until = month_day(rebate.until)
    return start, date(start.year + (until < FINANCIAL_YEAR_START), *until)


def rebate_inr(rebate: Rebate, record: Mapping[str, Any], due: int, today: date) -> int:
    """The rebate in whole rupees on paying `due` today; 0 when it does not apply.

    It applies inside its window, when `due` covers the whole of the record's figure `of` (the
    year's demand paid in full) and the figure `unless` is 0; a record that lacks either figure
    gets none. Rounded down to the rupee: the citizen never pays less than due by rounding.
    """
    start, end = rebate_window(rebate, today)
    base = _figure(record, rebate.of)
    owing = 0 if rebate.unless is None else _figure(record, rebate.unless)
    if not start <= today <= end or base is None or base <= 0 or owing != 0 or due < base:
        return 0
    return base * rebate.percent // 100


def rebate_problems(fee: Fee) -> list[str]:
    """What is wrong with a fee's rebate (catalogue lint and loader); empty when sound or absent."""
    rebate = fee.rebate
    if rebate is None:
        return []
    problems = []
    if fee.kind != "rule" or not FEE_RULES.get(fee.rule or ""):
        problems.append("a rebate needs a rule fee whose amount comes from a registry record")
    if isinstance(rebate.percent, bool) or not 1 <= rebate.percent <= 100:
        problems.append(f"rebate percent must be a whole number from 1 to 100 (got {rebate.percent!r})")
    try:
        month_day(rebate.until)
    except ValueError:
        problems.append(f"rebate until must be a day of every year as MM-DD, e.g. 04-30 (got {rebate.until!r})")
    if not rebate.of or rebate.unless == "":
        problems.append("rebate of (and unless, when given) must name a figure of the registry record")
    return problems


def _figure(record: Mapping[str, Any], name: str) -> int | None:
    """A whole-rupee figure of a record; None when absent or not a whole number."""
    value = record.get(name)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
