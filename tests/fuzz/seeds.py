"""Valid inputs to start from: Meta's official webhook examples and the emulator's own updates."""

from __future__ import annotations

import functools
import json
from typing import Any

import yaml

from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import encode, message_update, payment_status, status, status_update
from tests.conftest import SHARED

META_SPEC = SHARED / "reference" / "whatsapp-business-api-v23.0.yaml"
CONFIG = EmulatorConfig(webhook_url="", app_secret="fuzz-secret", access_token="")
WA_ID, USER_ID, TIME = "919000000777", "IN.1234", 1768469400


@functools.cache
def official_updates() -> tuple[dict[str, Any], ...]:
    """The webhook examples in Meta's OpenAPI file (a missing file fails, never skips)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with META_SPEC.open(encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader, C or pure Python)
    examples = spec["paths"]["/whatsapp/webhooks"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    # through JSON: YAML's dates and other types are not what arrives on the wire
    return tuple(json.loads(json.dumps(example["value"], default=str)) for example in examples.values())


def payment_update(*, paid: bool = True, offset: int = 100) -> dict[str, Any]:
    parameters = {"reference_id": "AP-TAX-1", "total_amount": {"value": 12_500, "offset": offset}, "currency": "INR"}
    paid_status = payment_status(
        "wamid.P1", parameters, paid=paid, recipient_id=WA_ID, timestamp=TIME, transaction_id="T1"
    )
    return status_update(CONFIG, paid_status)


def emulator_updates() -> tuple[dict[str, Any], ...]:
    text = {"from": WA_ID, "id": "wamid.T1", "timestamp": str(TIME), "type": "text", "text": {"body": "నమస్కారం"}}
    choice = {
        "from": WA_ID,
        "id": "wamid.C1",
        "timestamp": str(TIME),
        "type": "interactive",
        "context": {"from": "15550001111", "id": "wamid.OUT"},
        "interactive": {"type": "list_reply", "list_reply": {"id": "svc-1", "title": "Income", "description": "d"}},
    }
    failed = status(
        "wamid.OUT",
        "failed",
        recipient_id=WA_ID,
        timestamp=TIME,
        conversation_id="c1",
        errors=[{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "24 hours"}}],
    )
    return (
        message_update(CONFIG, name="Lakshmi", wa_id=WA_ID, user_id=USER_ID, message=text),
        message_update(CONFIG, name="Lakshmi", wa_id=WA_ID, user_id=USER_ID, message=choice),
        status_update(CONFIG, status("wamid.OUT", "read", recipient_id=WA_ID, timestamp=TIME, conversation_id="c1")),
        status_update(CONFIG, failed),
        payment_update(paid=True),
        payment_update(paid=False),
    )


@functools.cache
def webhook_updates() -> tuple[dict[str, Any], ...]:
    return (*official_updates(), *emulator_updates(), location_update())


@functools.cache
def webhook_bodies() -> tuple[bytes, ...]:
    """The updates as Meta encodes them, plus bodies nested past any recursion limit and a number
    too large for a float."""
    deep = (b'{"entry":' + b"[" * 100_000, b'{"entry":[{"changes":[' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"]}]}")
    return (
        *(encode(update) for update in webhook_updates()),
        *deep,
        encode(location_update()).replace(b"17.4", b"1e999"),
    )


def location_update() -> dict[str, Any]:
    place = {"latitude": 17.4, "longitude": 78.5, "name": "Guntur"}
    message = {"from": WA_ID, "id": "wamid.L1", "timestamp": str(TIME), "type": "location", "location": place}
    return message_update(CONFIG, name="Lakshmi", wa_id=WA_ID, user_id=USER_ID, message=message)


def message_with(**changes: Any) -> bytes:
    update = emulator_updates()[0]
    update["entry"][0]["changes"][0]["value"]["messages"][0] |= changes
    return encode(update)


# What fuzzing found: each was answered 503 on PostgreSQL (its json refuses Infinity; the inbox's key
# is 255 characters, its address 64), so Meta would have delivered it again for days. Now each is kept
# as an unreadable item.
FOUND = {
    "a number too large for a float": encode(location_update()).replace(b"17.4", b"1e999"),
    "a message id longer than the inbox's key": message_with(id="wamid." + "A" * 300),
    "a sender longer than the inbox's address": message_with(**{"from": "9" * 80}),
}
