"""The payment status machine, amounts in paise, and orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.registry_files import FileRegistry
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.payments import (
    AmountMismatch,
    EventKind,
    Order,
    PaymentEvent,
    PaymentRecord,
    PaymentStatus,
    amount_paise,
    apply_event,
    format_paise,
    paise,
    pay_token,
    pay_token_valid,
)

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
AMOUNT = 85_000
KINDS: tuple[EventKind, ...] = ("paid", "failed", "expired", "refunded")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT)


def event(kind: EventKind, amount: int | None = AMOUNT, key: str = "e1") -> PaymentEvent:
    return PaymentEvent(
        provider="simulated", event_key=key, provider_ref="sim_1", kind=kind, amount_paise=amount, at=NOW
    )


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (PaymentStatus.CREATED, "paid", PaymentStatus.PAID),
        (PaymentStatus.CREATED, "failed", PaymentStatus.FAILED),
        (PaymentStatus.CREATED, "expired", PaymentStatus.EXPIRED),
        (PaymentStatus.CREATED, "refunded", None),  # nothing was paid
        (PaymentStatus.FAILED, "paid", PaymentStatus.PAID),  # retried on the same order
        (PaymentStatus.FAILED, "failed", None),
        (PaymentStatus.FAILED, "expired", PaymentStatus.EXPIRED),
        (PaymentStatus.EXPIRED, "paid", PaymentStatus.PAID),  # captured late: the money was taken
        (PaymentStatus.EXPIRED, "failed", None),
        (PaymentStatus.PAID, "paid", None),  # a second paid event settles nothing twice
        (PaymentStatus.PAID, "failed", None),  # a late failure after the payment is ignored
        (PaymentStatus.PAID, "expired", None),
        (PaymentStatus.PAID, "refunded", PaymentStatus.REFUNDED),
        (PaymentStatus.REFUNDED, "paid", None),
        (PaymentStatus.REFUNDED, "refunded", None),
    ],
)
def test_the_status_machine_applies_or_ignores_each_event(
    status: PaymentStatus, kind: EventKind, expected: PaymentStatus | None
) -> None:
    assert apply_event(status, event(kind), AMOUNT) == expected


def test_a_paid_event_for_another_amount_is_refused() -> None:
    with pytest.raises(AmountMismatch):
        apply_event(PaymentStatus.CREATED, event("paid", AMOUNT - 1), AMOUNT)


def test_a_paid_event_must_state_its_amount() -> None:
    with pytest.raises(AmountMismatch):
        apply_event(PaymentStatus.CREATED, event("paid", None), AMOUNT)


def test_a_partial_refund_is_refused_and_a_refund_may_omit_the_amount() -> None:
    with pytest.raises(AmountMismatch):
        apply_event(PaymentStatus.PAID, event("refunded", 100), AMOUNT)
    assert apply_event(PaymentStatus.PAID, event("refunded", None), AMOUNT) is PaymentStatus.REFUNDED


def test_failures_and_expiries_need_no_amount() -> None:
    assert apply_event(PaymentStatus.CREATED, event("failed", None), AMOUNT) is PaymentStatus.FAILED
    assert apply_event(PaymentStatus.CREATED, event("expired", None), AMOUNT) is PaymentStatus.EXPIRED


def test_an_ignored_event_is_not_checked_for_its_amount() -> None:
    assert apply_event(PaymentStatus.PAID, event("paid", 1), AMOUNT) is None


@given(st.lists(st.sampled_from(KINDS), max_size=12))
def test_once_paid_a_payment_is_only_ever_paid_or_refunded(kinds: list[EventKind]) -> None:
    status, seen_paid = PaymentStatus.CREATED, False
    for kind in kinds:
        status = apply_event(status, event(kind), AMOUNT) or status
        seen_paid = seen_paid or status is PaymentStatus.PAID
        if seen_paid:
            assert status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)


@given(st.lists(st.sampled_from(KINDS), max_size=12))
def test_a_refund_is_final(kinds: list[EventKind]) -> None:
    status = PaymentStatus.REFUNDED
    for kind in kinds:
        assert apply_event(status, event(kind), AMOUNT) is None


async def test_property_tax_is_charged_in_paise_from_the_assessment(catalogue: Catalogue) -> None:
    service = catalogue.service("municipal.property-tax-payment")
    assert service is not None and service.fee.rule == "property_tax_due"
    registry = FileRegistry(ROOT / "registries")
    record = await registry.lookup("property_tax", service.id, {"assessment_number": "1073506411"})
    assert record is not None
    assert amount_paise(service, {"assessment_number": "1073506411"}, record) == 850 * 100
    assert amount_paise(service, {"assessment_number": "1073506411"}) is None  # the record is needed


def test_fixed_and_per_unit_fees_in_paise(catalogue: Catalogue) -> None:
    fixed = next(s for s in catalogue.services if s.fee.kind == "fixed" and s.fee.amount_inr)
    assert amount_paise(fixed, {}) == fixed.fee.amount_inr * 100  # type: ignore[operator]
    per_unit = next(s for s in catalogue.services if s.fee.kind == "per_unit" and s.fee.per_field)
    assert per_unit.fee.per_field is not None and per_unit.fee.amount_inr is not None
    assert amount_paise(per_unit, {per_unit.fee.per_field: 3}) == per_unit.fee.amount_inr * 300
    assert amount_paise(per_unit, {}) is None


def test_amounts_are_shown_in_rupees_with_indian_grouping() -> None:
    assert paise(850) == 85_000
    assert format_paise(85_000) == "₹850"
    assert format_paise(12_000_050) == "₹1,20,000.50"
    assert format_paise(5) == "₹0.05"


def test_an_order_is_for_a_positive_amount() -> None:
    with pytest.raises(ValueError, match="positive"):
        Order(reference="AP-MUN-PTAX-2026-000001", amount_paise=0, purpose="Property tax", citizen="919000000001")


def test_an_order_is_open_until_paid_failed_or_expired() -> None:
    record = PaymentRecord(
        id=1,
        reference="AP-MUN-PTAX-2026-000001",
        address="919000000001",
        provider="simulated",
        provider_ref="sim_1",
        amount_paise=AMOUNT,
        status=PaymentStatus.CREATED,
        link=None,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
    )
    assert record.open_at(NOW)
    assert not record.open_at(NOW + timedelta(minutes=30))
    assert not replace(record, status=PaymentStatus.FAILED).open_at(NOW)


def test_a_pay_link_token_is_bound_to_its_reference_and_key() -> None:
    token = pay_token("link-key", "AP-MUN-PTAX-2026-000001")
    assert len(token) == 32 and pay_token_valid("link-key", "AP-MUN-PTAX-2026-000001", token)
    assert not pay_token_valid("link-key", "AP-MUN-PTAX-2026-000002", token)
    assert not pay_token_valid("another-key", "AP-MUN-PTAX-2026-000001", token)
    assert not pay_token_valid("link-key", "AP-MUN-PTAX-2026-000001", "")
    with pytest.raises(ValueError, match="empty"):
        pay_token("", "AP-MUN-PTAX-2026-000001")
