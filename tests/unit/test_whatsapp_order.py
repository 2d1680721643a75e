"""An order to pay in WhatsApp: the channel-neutral `OrderOut`, its `order_details` body against Meta's
own example and limits, the emulator's acceptance of it, how the chat asks for a fee, and the settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from sevamitra.actions.pay import ask_by_link, ask_in_chat, link_message, pay_link
from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_texts
from sevamitra.adapters.payments.whatsapp import WhatsAppPay, order_message
from sevamitra.adapters.whatsapp.outbound import OutboundLimitError, to_graph_body
from sevamitra.adapters.whatsapp.webhook import parse_item, split_update
from sevamitra.core.messages import OrderOut, Recipient, outbound_from_dict, outbound_to_dict
from sevamitra.core.payments import Order
from sevamitra.emulator.limits import check_message
from sevamitra.settings import Settings
from sevamitra.testing.memory import MemoryTurn
from tests.support.whatsapp_schema import request_examples

CITIZEN = Recipient(wa_id="919800000077")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ORDER = Order(
    reference="AP-MUN-PTAX-2026-000001",
    amount_paise=85_050,
    purpose="Property tax payment",
    citizen="919800000077",
    message="Please pay ₹850.50 for Property tax payment (AP-MUN-PTAX-2026-000001).",
)


def order_out(**changes: Any) -> OrderOut:
    fields: dict[str, Any] = {
        "body": ORDER.message,
        "reference_id": "AP-MUN-PTAX-2026-000001-a1b2c3d4",
        "configuration": "ap-upi",
        "item_name": ORDER.purpose,
        "amount_paise": ORDER.amount_paise,
    }
    return OrderOut(**(fields | changes))


def shape_errors(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where `ours` uses a key Meta's example does not have, or a value of another JSON type."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object"]
        return [
            error
            for key, value in ours.items()
            for error in (
                shape_errors(value, theirs[key], f"{path}.{key}") if key in theirs else [f"{path}.{key}: unknown"]
            )
        ]
    if isinstance(theirs, list):
        if not isinstance(ours, list) or not ours:
            return [f"{path}: expected a non-empty array"]
        return [error for item in ours for error in shape_errors(item, theirs[0], f"{path}[]")]
    numeric = (int, float)
    same = isinstance(ours, numeric) if isinstance(theirs, numeric) else isinstance(ours, type(theirs))
    return [] if same else [f"{path}: {type(ours).__name__} where Meta has {type(theirs).__name__}"]


# ---------------------------------------------------------------- the Graph API body


def test_the_order_details_body_has_the_shape_of_metas_example() -> None:
    # Meta's schema lacks `order_details` (see test_whatsapp_outbound.py), so its example is the contract.
    body = to_graph_body(CITIZEN, order_out())
    assert shape_errors(body, request_examples()["Send Order Details Message"]) == []
    assert body["type"] == "interactive" and body["to"] == "919800000077"
    interactive = body["interactive"]
    assert interactive["type"] == "order_details" and interactive["body"]["text"] == ORDER.message
    assert interactive["action"]["name"] == "review_and_pay"
    parameters = interactive["action"]["parameters"]
    assert parameters["reference_id"] == "AP-MUN-PTAX-2026-000001-a1b2c3d4"
    assert parameters["type"] == "digital-goods" and parameters["payment_type"] == "upi"
    assert parameters["payment_configuration"] == "ap-upi" and parameters["currency"] == "INR"
    assert parameters["total_amount"] == {"value": 85_050, "offset": 100}
    order = parameters["order"]
    assert order["status"] == "pending" and order["items"][0]["name"] == "Property tax payment"
    items = sum(item["amount"]["value"] * item["quantity"] for item in order["items"])
    assert order["subtotal"]["value"] + order["tax"]["value"] == items == parameters["total_amount"]["value"]


def test_every_field_metas_example_requires_is_there() -> None:
    parameters = to_graph_body(CITIZEN, order_out())["interactive"]["action"]["parameters"]
    required = {"reference_id", "type", "payment_type", "payment_configuration", "currency", "total_amount", "order"}
    assert required <= set(parameters)
    assert {"status", "items", "subtotal", "tax"} <= set(parameters["order"])
    assert {"retailer_id", "name", "amount", "quantity"} <= set(parameters["order"]["items"][0])


def test_a_citizen_known_only_by_user_id_is_addressed_by_it() -> None:
    body = to_graph_body(Recipient(user_id="IN.000000000000077"), order_out())
    assert body["recipient"] == "IN.000000000000077" and "to" not in body


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"reference_id": "A" * 36}, "reference_id"),
        ({"reference_id": "AP/2026 1"}, "reference_id"),
        ({"reference_id": ""}, "reference_id"),
        ({"item_name": "x" * 61}, "order item name"),
        ({"body": "x" * 1025}, "interactive body"),
        ({"body": " "}, "interactive body"),
        ({"configuration": ""}, "payment configuration"),
        ({"amount_paise": 0}, "positive amount"),
    ],
    ids=["long reference", "odd characters", "no reference", "long item", "long body", "blank body", "no config", "0"],
)
def test_an_order_beyond_metas_limits_is_refused(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(OutboundLimitError, match=complaint):
        to_graph_body(CITIZEN, order_out(**change))


def test_an_order_survives_the_outbox() -> None:
    message = order_out()
    stored = outbound_to_dict(message)
    assert stored["kind"] == "order"
    assert outbound_from_dict(stored) == message


def test_the_emulator_accepts_our_order_and_metas_example_but_not_a_broken_one() -> None:
    body = to_graph_body(CITIZEN, order_out())
    assert check_message(body) is None
    assert check_message(request_examples()["Send Order Details Message"]) is None
    wrong_total = to_graph_body(CITIZEN, order_out())
    wrong_total["interactive"]["action"]["parameters"]["total_amount"]["value"] += 1
    assert check_message(wrong_total) is not None
    long_reference = to_graph_body(CITIZEN, order_out())
    long_reference["interactive"]["action"]["parameters"]["reference_id"] = "A" * 36
    assert check_message(long_reference) is not None


# ---------------------------------------------------------------- the provider and the chat


async def test_each_order_gets_its_own_reference_id_within_35_characters() -> None:
    long = Order(reference="AP-" + "X" * 40, amount_paise=100, purpose="A fee", citizen="919800000077")
    first, second = (await WhatsAppPay("ap-upi").create(long)), (await WhatsAppPay("ap-upi").create(long))
    assert first.provider_ref != second.provider_ref
    assert all(len(created.provider_ref) <= 35 for created in (first, second))
    assert first.provider_ref.startswith("AP-XXXX")
    to_graph_body(CITIZEN, outbound_from_dict(dict(first.message or {})))  # within Meta's limits


def test_a_long_purpose_and_message_are_clipped_to_metas_limits() -> None:
    order = Order(reference="AP-1", amount_paise=100, purpose="p" * 80, citizen="9198", message="m" * 2000)
    message = order_message(order, reference_id="AP-1-ab", configuration="ap-upi")
    assert len(message.item_name) <= 60 and len(message.body) <= 1024
    to_graph_body(CITIZEN, message)


async def test_asking_in_chat_records_the_order_in_the_turn_and_returns_it() -> None:
    turn = MemoryTurn(address="919800000077")
    message = await ask_in_chat(WhatsAppPay("ap-upi"), turn, ORDER, "en", NOW)
    assert isinstance(message, OrderOut) and message.amount_paise == 85_050 and message.body == ORDER.message
    (recorded,) = turn.payments
    assert recorded["provider"] == "whatsapp" and recorded["provider_ref"] == message.reference_id
    assert recorded["reference"] == ORDER.reference and recorded["amount_paise"] == 85_050
    assert recorded["message"] == outbound_to_dict(message)


async def test_asking_by_link_is_the_pay_button_as_before() -> None:
    texts = load_texts(DEFAULT_CATALOGUE_DIR)
    turn = MemoryTurn(address="919800000077")
    message = await ask_by_link(texts, "https://seva.example", "link-key", turn, ORDER, "en", NOW)
    assert message == link_message(texts, "en", ORDER, pay_link("https://seva.example", "link-key", ORDER.reference))
    assert turn.payments == []  # the order is made when the link is opened


# ---------------------------------------------------------------- the webhook and the settings


def test_a_payment_status_is_kept_but_never_read_as_a_delivery_status() -> None:
    status: dict[str, Any] = {"id": "wamid.X", "recipient_id": "919800000077", "type": "payment", "status": "failed"}
    status |= {"timestamp": "1796018400", "payment": {"reference_id": "AP-1-ab"}}
    update = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [status]}}]}]}
    (item,) = split_update(json.dumps(update).encode())
    assert item.kind == "payment" and item.address is None
    assert parse_item(item.kind, item.fragment) is None


PRODUCTION = {
    "env": "prod",
    "whatsapp_app_secret": "a-real-secret",
    "whatsapp_verify_token": "a-real-token",
    "whatsapp_access_token": "a-real-access-token",
    "data_key": "a-real-data-key",
    "pdf_signing_key": "/etc/sevamitra/signing.key",
    "pdf_signing_certificate": "/etc/sevamitra/signing.crt",
    "log_signing_key": "/etc/sevamitra/log.key",
    "payment_link_key": "a-real-link-key",
    "payment_provider": "whatsapp",
}


@pytest.mark.parametrize("configuration", [None, ""])
def test_production_refuses_whatsapp_payments_without_a_configuration(configuration: str | None) -> None:
    given = {} if configuration is None else {"whatsapp_payment_configuration": configuration}
    with pytest.raises(ValidationError, match="SEVAMITRA_WHATSAPP_PAYMENT_CONFIGURATION is needed"):
        Settings(_env_file=None, **PRODUCTION, **given)  # type: ignore[arg-type]


def test_whatsapp_payments_start_with_a_configuration_and_in_development_without() -> None:
    production = Settings(_env_file=None, **PRODUCTION, whatsapp_payment_configuration="ap-upi")  # type: ignore[arg-type]
    assert production.payment_provider == "whatsapp"
    assert Settings(_env_file=None, payment_provider="whatsapp").whatsapp_payment_configuration
