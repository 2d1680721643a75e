"""The WhatsApp webhook parser under fuzzing: `split_update` never raises and keeps every item
JSON-ready; `parse_item` answers only the documented outcomes, before and after storage."""

from __future__ import annotations

import functools
import json
from typing import Any, get_args

import pytest
from hypothesis import strategies as st

from sevamitra.adapters.whatsapp.webhook import ADDRESS_LIMIT, KEY_LIMIT, InboxItem, InboxKind, parse_item, split_update
from sevamitra.core.messages import ChannelErrors, DeliveryStatus, Event, Inbound
from sevamitra.emulator.payloads import encode
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import inputs, json_like, mutated_json
from tests.fuzz.seeds import FOUND, webhook_bodies, webhook_updates

# what `parse_item` may answer for each kind of item `split_update` makes
OUTCOMES: dict[str, type[Any]] = {"message": Inbound, "status": DeliveryStatus, "errors": ChannelErrors}

bodies = st.deferred(lambda: inputs(webhook_bodies(), max_size=4096))
updates = st.deferred(lambda: mutated_json(webhook_updates()))


@functools.cache
def fragments() -> tuple[dict[str, Any], ...]:
    """The inbox fragments of the seed updates."""
    return tuple(item.fragment for update in webhook_updates() for item in split_update(encode(update)))


def stored(fragment: dict[str, Any]) -> Any:
    """The fragment as the inbox gives it back: through strict JSON (PostgreSQL refuses NaN and Infinity)."""
    return json.loads(json.dumps(fragment, allow_nan=False))


def check_items(items: list[InboxItem]) -> None:
    for item in items:
        assert item.key and item.kind in get_args(InboxKind)
        revived = stored(item.fragment)
        event = parse_item(item.kind, item.fragment)
        assert isinstance(event, OUTCOMES.get(item.kind, type(None)))
        assert parse_item(item.kind, revived) == event  # the worker parses what storage gave back
        assert len(item.key) <= KEY_LIMIT and len(item.address or "") <= ADDRESS_LIMIT  # what the inbox holds
        if isinstance(event, Inbound):
            assert (item.address or "") == event.sender.address  # per-citizen order is kept by this address


@fuzz(bodies)
def test_split_update_of_mutated_bodies(raw_body: bytes) -> None:
    check_items(split_update(raw_body))


@fuzz(updates)
def test_split_update_of_mutated_updates(update: Any) -> None:
    body = encode(update) if isinstance(update, dict) else json.dumps(update).encode()
    items = split_update(body)
    check_items(items)
    assert split_update(body) == items  # a redelivery gives the same keys


@fuzz(st.sampled_from([*get_args(InboxKind), "", "x"]), st.deferred(lambda: mutated_json(fragments())) | json_like)
def test_parse_item_of_mutated_fragments(kind: str, fragment: Any) -> None:
    if not isinstance(fragment, dict):
        fragment = {"message": fragment, "status": fragment, "errors": fragment}
    event = parse_item(kind, fragment)
    assert event is None or isinstance(event, get_args(Event))


@pytest.mark.parametrize("body", list(FOUND.values()), ids=list(FOUND))
def test_what_fuzzing_found_is_kept_as_one_unreadable_item(body: bytes) -> None:
    [item] = split_update(body)
    assert item.kind == "unreadable" and len(item.key) <= KEY_LIMIT
    check_items([item])
