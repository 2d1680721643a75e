"""Fees: what a service costs for one application, from its definition and the citizen's answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sevamitra.core.catalogue import Fee

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


def fee_amount(fee: Fee, answers: Mapping[str, Any], record: Mapping[str, Any] | None = None) -> int | None:
    """The fee in rupees; None when it can only be known from a registry record not given."""
    if fee.kind == "free":
        return 0
    if fee.kind == "fixed":
        return fee.amount_inr or 0
    if fee.kind == "per_unit":
        count = answers.get(fee.per_field or "")
        return (fee.amount_inr or 0) * int(count) if isinstance(count, int) else None
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
