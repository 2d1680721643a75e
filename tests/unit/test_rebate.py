"""Early-payment rebates on rule fees: the window, its conditions, rounding, and what the citizen is shown."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue
from sevamitra.adapters.registry_files import FileRegistry
from sevamitra.core.catalogue import Fee, Rebate
from sevamitra.core.decisions import Decision, decide
from sevamitra.core.fees import fee_amount, month_day, rebate_inr, rebate_problems, rebate_window

REBATE = Rebate(percent=5, until="04-30", of="annual_tax", unless="arrears")
FEE = Fee(kind="rule", rule="property_tax_due", rebate=REBATE)
# This year's whole demand is owed, nothing older: the rebate's case.
WHOLE_YEAR: dict[str, Any] = {
    "owner": "B. Sarojini (synthetic)",
    "annual_tax": 2400,
    "tax_due": 2400,
    "arrears": 0,
    "due_date": "2027-03-31",
}
WITH_ARREARS = WHOLE_YEAR | {"tax_due": 4848, "arrears": 2448}
IN_WINDOW = date(2026, 4, 10)


def property_tax(record: dict[str, Any], today: date, fee: Fee | None = FEE) -> Decision:
    return decide("property_tax", "municipal.property-tax-payment", {}, record, today=today, fee=fee)


# --- the window -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "window"),
    [
        (date(2026, 4, 1), (date(2026, 4, 1), date(2026, 4, 30))),
        (date(2026, 12, 31), (date(2026, 4, 1), date(2026, 4, 30))),
        (date(2027, 3, 31), (date(2026, 4, 1), date(2026, 4, 30))),  # still financial year 2026-27
    ],
)
def test_the_window_runs_from_1_april_of_the_financial_year_that_holds_today(
    today: date, window: tuple[date, date]
) -> None:
    assert rebate_window(REBATE, today) == window


def test_a_window_ending_after_new_year_ends_in_the_next_calendar_year() -> None:
    till_january = Rebate(percent=5, until="01-31", of="annual_tax")
    assert rebate_window(till_january, date(2026, 5, 1)) == (date(2026, 4, 1), date(2027, 1, 31))


@pytest.mark.parametrize(
    ("today", "rebate"),
    [
        (date(2026, 3, 31), 0),  # the day before the financial year opens: last year's window is shut
        (date(2026, 4, 1), 120),  # the first day
        (IN_WINDOW, 120),
        (date(2026, 4, 30), 120),  # the last day counts
        (date(2026, 5, 1), 0),  # the day after
        (date(2027, 1, 15), 0),
    ],
)
def test_the_rebate_applies_only_inside_its_window_both_ends_included(today: date, rebate: int) -> None:
    assert rebate_inr(REBATE, WHOLE_YEAR, 2400, today) == rebate


# --- the conditions -------------------------------------------------------------------------------------


def test_arrears_forfeit_the_rebate() -> None:
    assert rebate_inr(REBATE, WITH_ARREARS, 4848, IN_WINDOW) == 0


def test_a_record_that_does_not_say_whether_arrears_are_owed_gets_no_rebate() -> None:
    unknown = {k: v for k, v in WHOLE_YEAR.items() if k != "arrears"}
    assert rebate_inr(REBATE, unknown, 2400, IN_WINDOW) == 0


def test_part_of_the_years_demand_is_not_paid_in_full_and_gets_no_rebate() -> None:
    half = WHOLE_YEAR | {"tax_due": 1200}
    assert rebate_inr(REBATE, half, 1200, IN_WINDOW) == 0


def test_without_an_unless_figure_the_rebate_is_not_conditional_on_it() -> None:
    anyone = Rebate(percent=5, until="04-30", of="annual_tax")
    assert rebate_inr(anyone, WITH_ARREARS, 4848, IN_WINDOW) == 120


# --- rounding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annual", "rebate"),
    [
        (1234, 61),  # 61.70: rounded down
        (1239, 61),  # 61.95: still down
        (19, 0),  # 0.95: nothing
        (2400, 120),
    ],
)
def test_the_rebate_is_rounded_down_to_the_rupee(annual: int, rebate: int) -> None:
    record = WHOLE_YEAR | {"annual_tax": annual, "tax_due": annual}
    assert rebate_inr(REBATE, record, annual, IN_WINDOW) == rebate


# --- the fee --------------------------------------------------------------------------------------------


def test_fee_amount_takes_the_rebate_off_only_when_given_today() -> None:
    assert fee_amount(FEE, {}, WHOLE_YEAR) == 2400  # callers that pass no day: unchanged
    assert fee_amount(FEE, {}, WHOLE_YEAR, today=IN_WINDOW) == 2280
    assert fee_amount(FEE, {}, WHOLE_YEAR, today=date(2026, 5, 1)) == 2400
    assert fee_amount(FEE, {}, WITH_ARREARS, today=IN_WINDOW) == 4848
    assert fee_amount(FEE, {}, None, today=IN_WINDOW) is None


# --- the decision ---------------------------------------------------------------------------------------


def test_the_decision_shows_the_rebate_its_last_day_and_what_is_left_to_pay() -> None:
    decision = property_tax(WHOLE_YEAR, IN_WINDOW)
    assert decision.amount_inr == 2280
    assert decision.facts == (
        ("fact.owner", "B. Sarojini (synthetic)"),
        ("fact.annual_tax", "₹2,400"),
        ("fact.amount_due", "₹2,400"),
        ("fact.rebate", "₹120 (5 %)"),
        ("fact.rebate_until", "30-04-2026"),
        ("fact.amount_after_rebate", "₹2,280"),
        ("fact.due_date", "31-03-2027"),
    )


@pytest.mark.parametrize(
    ("record", "today", "fee"),
    [
        (WHOLE_YEAR, date(2026, 5, 1), FEE),  # outside the window
        (WITH_ARREARS, IN_WINDOW, FEE),  # arrears owed
        (WHOLE_YEAR, IN_WINDOW, None),  # no fee given: the decision as before
        (WHOLE_YEAR, IN_WINDOW, Fee(kind="rule", rule="property_tax_due")),  # a fee without a rebate
    ],
)
def test_without_a_rebate_the_decision_is_the_plain_bill(record: dict[str, Any], today: date, fee: Fee | None) -> None:
    assert property_tax(record, today, fee) == property_tax(record, today, None)
    assert not {label for label, _ in property_tax(record, today, fee).facts} & {"fact.rebate"}


def test_nothing_due_stays_nothing_due() -> None:
    paid = WHOLE_YEAR | {"tax_due": 0}
    decision = property_tax(paid, IN_WINDOW)
    assert (decision.amount_inr, decision.facts[-1]) == (0, ("fact.nothing_due", ""))


async def test_the_shipped_property_tax_service_gives_the_rebate_on_a_synthetic_assessment() -> None:
    service = load_catalogue(DEFAULT_CATALOGUE_DIR).service("municipal.property-tax-payment")
    assert service is not None and service.fee.rebate == REBATE
    keys = {"assessment_number": "1073088755"}  # Guntur: ₹2,600 this year, no arrears
    record = await FileRegistry().lookup("property_tax", service.id, keys)
    assert record is not None
    decision = decide("property_tax", service.id, keys, record, today=date(2026, 4, 30), fee=service.fee)
    assert decision.amount_inr == 2600 - 130
    late = decide("property_tax", service.id, keys, record, today=date(2026, 5, 1), fee=service.fee)
    assert late.amount_inr == 2600


# --- what the lint refuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["04-31", "02-29", "13-01", "00-10", "4-30", "04/30", "2026-04-30", ""])
def test_a_day_that_is_not_in_every_year_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"MM-DD|every year"):
        month_day(text)


@pytest.mark.parametrize(
    ("fee", "problem"),
    [
        (Fee(kind="rule", rule="property_tax_due", rebate=Rebate(percent=0, until="04-30", of="x")), "1 to 100"),
        (Fee(kind="rule", rule="property_tax_due", rebate=Rebate(percent=101, until="04-30", of="x")), "1 to 100"),
        (Fee(kind="rule", rule="property_tax_due", rebate=Rebate(percent=5, until="04-31", of="x")), "MM-DD"),
        (Fee(kind="rule", rule="property_tax_due", rebate=Rebate(percent=5, until="04-30", of="")), "figure"),
        (Fee(kind="fixed", amount_inr=45, rebate=REBATE), "rule fee"),
        (Fee(kind="rule", rule="amount_entered", per_field="amount", rebate=REBATE), "rule fee"),
    ],
)
def test_nonsense_rebates_are_named(fee: Fee, problem: str) -> None:
    problems = rebate_problems(fee)
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_sound_rebate_or_none_has_no_problems() -> None:
    assert rebate_problems(FEE) == []
    assert rebate_problems(Fee(kind="free")) == []
