"""Inbound webhooks: Meta's official examples, hand-built shapes they lack, and properties of the splitter."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.adapters.whatsapp.webhook import InboxItem, InboxKind, parse_item, split_update
from sevamitra.core.messages import (
    ChannelError,
    ChannelErrors,
    ChoiceIn,
    ContactsIn,
    DeliveryState,
    DeliveryStatus,
    Event,
    FormReplyIn,
    Inbound,
    LocationIn,
    MediaIn,
    OrderIn,
    OrderItem,
    ReactionIn,
    Sender,
    SharedContact,
    SystemIn,
    TextIn,
    UnsupportedIn,
)

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "whatsapp-business-api-v23.0.yaml"

# ---------------------------------------------------------------- helpers


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


def events(raw_body: bytes) -> list[Event | None]:
    return [parse_item(item.kind, item.fragment) for item in split_update(raw_body)]


def only_event(raw_body: bytes) -> Event:
    [item] = split_update(raw_body)
    event = parse_item(item.kind, item.fragment)
    assert event is not None
    return event


def assert_round_trips(raw_body: bytes) -> None:
    for item in split_update(raw_body):
        revived = json.loads(json.dumps(item.fragment, allow_nan=False))
        assert revived == item.fragment
        assert parse_item(item.kind, revived) == parse_item(item.kind, item.fragment)


def assert_well_formed(items: list[InboxItem]) -> None:
    """Every key is non-empty, every fragment is JSON, and equal fragments have equal keys."""
    key_of: dict[tuple[str, str], str] = {}
    for item in items:
        assert item.key
        assert item.kind in get_args(InboxKind)
        canonical = json.dumps(item.fragment, sort_keys=True, allow_nan=False)
        assert key_of.setdefault((item.kind, canonical), item.key) == item.key


# ---------------------------------------------------------------- the official examples

# Each example's items, in order, as (kind, class of the parsed event, or None).
EXPECTED: dict[str, list[tuple[str, type[Event] | None]]] = {
    "Text Message": [("message", TextIn)],
    "Text Message with Context (Product Inquiry)": [("message", TextIn)],
    "Text Message from Click to WhatsApp Ad": [("message", TextIn)],
    "Reaction Message": [("message", ReactionIn)],
    "Image Message": [("message", MediaIn)],
    "Location Message": [("message", LocationIn)],
    "Contact Sharing Message": [("message", ContactsIn)],
    "Unsupported Message": [("message", UnsupportedIn)],
    "Button Message": [("message", ChoiceIn)],
    "Interactive List Reply Message": [("message", ChoiceIn)],
    "Interactive Button Reply Message": [("message", ChoiceIn)],
    "Order Message": [("message", OrderIn)],
    "System Message": [("message", SystemIn)],
    "Group Create Message": [("other", None)],
    "Group Settings Update": [("other", None)],
    "Group Remove Participants": [("other", None)],
}

# The event class every message type must parse into.
CLASS_OF_TYPE: dict[str, type[Inbound]] = {
    "text": TextIn,
    "reaction": ReactionIn,
    "image": MediaIn,
    "location": LocationIn,
    "contacts": ContactsIn,
    "unsupported": UnsupportedIn,
    "button": ChoiceIn,
    "interactive": ChoiceIn,
    "order": OrderIn,
    "system": SystemIn,
}


@pytest.fixture(scope="session")
def official_examples() -> dict[str, Any]:
    """The webhook examples of Meta's OpenAPI file, by name; a missing file fails, never skips."""
    assert SPEC_PATH.is_file(), f"Meta's OpenAPI file is missing: {SPEC_PATH}"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader, C or pure Python)
    post = spec["paths"]["/whatsapp/webhooks"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


@pytest.fixture
def example(official_examples: dict[str, Any]) -> Any:
    def body(name: str) -> bytes:
        return encode(official_examples[name])

    return body


def test_every_official_example_is_covered_here(official_examples: dict[str, Any]) -> None:
    assert set(official_examples) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_an_official_example_splits_and_parses_into_the_expected_events(
    name: str, official_examples: dict[str, Any]
) -> None:
    items = split_update(encode(official_examples[name]))

    assert len(items) >= 1
    parsed = [(item.kind, parse_item(item.kind, item.fragment)) for item in items]
    assert [(kind, None if event is None else type(event)) for kind, event in parsed] == EXPECTED[name]
    for item, (_, event) in zip(items, parsed, strict=True):
        if item.kind == "message":
            assert type(event) is CLASS_OF_TYPE[item.fragment["message"]["type"]]
            assert isinstance(event, Inbound)
            assert item.key == event.message_id
            assert item.address == event.sender.address
    assert_well_formed(items)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_an_official_example_round_trips_through_json(name: str, official_examples: dict[str, Any]) -> None:
    assert_round_trips(encode(official_examples[name]))


def test_a_text_message_carries_its_body_sender_and_aware_utc_time(example: Any) -> None:
    assert only_event(example("Text Message")) == TextIn(
        message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        sender=Sender(wa_id="16505551234", name="Sheena Nelson"),
        sent_at=datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC),
        body="Does it come in another color?",
        number="106540352242922",  # the business number it was sent to, from the update's metadata
    )


def test_a_reply_carries_the_id_of_the_message_it_answers(example: Any) -> None:
    event = only_event(example("Text Message with Context (Product Inquiry)"))
    assert isinstance(event, TextIn)
    assert event.context_message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA"


def test_a_list_reply_becomes_a_choice_with_its_description(example: Any) -> None:
    event = only_event(example("Interactive List Reply Message"))
    assert isinstance(event, ChoiceIn)
    assert (event.choice_id, event.title, event.description) == (
        "priority_express",
        "Priority Mail Express",
        "Next Day to 2 Days",
    )


def test_a_reply_button_becomes_a_choice(example: Any) -> None:
    event = only_event(example("Interactive Button Reply Message"))
    assert isinstance(event, ChoiceIn)
    assert (event.choice_id, event.title, event.description) == ("cancel-button", "Cancel", None)


def test_a_template_quick_reply_becomes_a_choice_keyed_by_its_payload(example: Any) -> None:
    event = only_event(example("Button Message"))
    assert isinstance(event, ChoiceIn)
    assert (event.choice_id, event.title) == ("Unsubscribe", "Unsubscribe")


def test_an_image_keeps_its_media_id_type_hash_and_caption(example: Any) -> None:
    event = only_event(example("Image Message"))
    assert isinstance(event, MediaIn)
    assert (event.kind, event.media_id, event.mime_type, event.caption, event.voice) == (
        "image",
        "1003383421387256",
        "image/jpeg",
        "Taj Mahal",
        False,
    )
    assert event.sha256 == "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="


def test_a_location_keeps_coordinates_name_and_address(example: Any) -> None:
    event = only_event(example("Location Message"))
    assert isinstance(event, LocationIn)
    assert (event.latitude, event.longitude) == (37.44221496582, -122.16165924072)
    assert (event.name, event.address) == ("Philz Coffee", "101 Forest Ave, Palo Alto, CA 94301")


def test_shared_contacts_keep_their_formatted_names_and_phones(example: Any) -> None:
    event = only_event(example("Contact Sharing Message"))
    assert isinstance(event, ContactsIn)
    assert event.contacts == (SharedContact(name="Lucía Gómez", phones=("+1 (983) 555-2319",)),)


def test_a_reaction_names_the_emoji_and_the_message_reacted_to(example: Any) -> None:
    event = only_event(example("Reaction Message"))
    assert isinstance(event, ReactionIn)
    assert event.emoji == "👍"
    assert event.reacted_message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA"


def test_an_order_lists_its_items(example: Any) -> None:
    event = only_event(example("Order Message"))
    assert isinstance(event, OrderIn)
    assert event.catalog_id == "194836987003835"
    assert event.items == (
        OrderItem(product_id="di9ozbzfi4", quantity=2, item_price=30.0, currency="USD"),
        OrderItem(product_id="nqryix03ez", quantity=1, item_price=25.0, currency="USD"),
    )


def test_a_changed_number_notice_names_the_new_number_and_comes_from_the_old(example: Any) -> None:
    event = only_event(example("System Message"))
    assert isinstance(event, SystemIn)
    assert event.sender == Sender(wa_id="16505551234")
    assert (event.system_type, event.new_wa_id) == ("user_changed_number", "12195555358")
    assert event.body.startswith("User Sheena Nelson changed")


def test_an_unsupported_message_keeps_its_error_codes(example: Any) -> None:
    event = only_event(example("Unsupported Message"))
    assert isinstance(event, UnsupportedIn)
    assert (event.original_type, event.error_codes) == ("unsupported", (131051,))


def test_a_group_update_is_kept_as_an_other_item_without_address(
    official_examples: dict[str, Any],
) -> None:
    [item] = split_update(encode(official_examples["Group Create Message"]))
    assert (item.kind, item.address, item.fragment["field"]) == ("other", None, "group_lifecycle_update")
    assert item.key.startswith("sha256:")
    assert item.fragment["value"]["groups"][0]["type"] == "group_create"


# ---------------------------------------------------------------- hand-built payloads

WA_ID = "919876543210"
USER_ID = "IN.1234567890123456"
METADATA = {"display_phone_number": "914012345678", "phone_number_id": "106540352242922"}
CONTACT = {"profile": {"name": "Lakshmi"}, "wa_id": WA_ID}
SENT_AT = datetime(2025, 6, 15, 14, 13, 20, tzinfo=UTC)


def update(*entries: list[dict[str, Any]]) -> bytes:
    """A webhook body; each argument is one entry's list of changes."""
    return encode(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": changes} for changes in entries],
        }
    )


def messages_change(*messages: dict[str, Any], contacts: tuple[Any, ...] = (CONTACT,)) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "contacts": list(contacts)}
    return {"field": "messages", "value": value | {"messages": list(messages)}}


def message(kind: str, body: object = None, *, id: str = "wamid.in.1", **extra: object) -> dict[str, Any]:
    fields: dict[str, Any] = {"from": WA_ID, "id": id, "timestamp": "1749996800", "type": kind}
    if body is not None:
        fields[kind] = body
    return fields | extra


def statuses_change(*statuses: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": METADATA, "statuses": list(statuses)}
    return {"field": "messages", "value": value}


def status(state: str, *, id: str = "wamid.out.1", **extra: object) -> dict[str, Any]:
    return {"id": id, "status": state, "timestamp": "1749996800", "recipient_id": WA_ID} | extra


def one_message(msg: dict[str, Any], **change: Any) -> bytes:
    return update([messages_change(msg, **change)])


def common(message_id: str = "wamid.in.1") -> dict[str, Any]:
    sender = Sender(wa_id=WA_ID, name="Lakshmi")
    return {"message_id": message_id, "sender": sender, "sent_at": SENT_AT, "number": METADATA["phone_number_id"]}


OUT_OF_WINDOW = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {"details": "More than 24 hours have passed since the customer last replied."},
}
UNDELIVERABLE = {"code": 131026, "title": "Message undeliverable"}

HAND_BUILT: dict[str, bytes] = {
    "document": one_message(
        message(
            "document",
            {
                "caption": "Ration card",
                "filename": "ration-card.pdf",
                "mime_type": "application/pdf",
                "sha256": "abc=",
                "id": "media-doc-1",
            },
        )
    ),
    "voice note": one_message(
        message(
            "audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "def=", "id": "media-voice-1", "voice": True}
        )
    ),
    "audio file": one_message(message("audio", {"mime_type": "audio/mpeg", "id": "media-audio-1"})),
    "video": one_message(message("video", {"caption": "Our street", "mime_type": "video/mp4", "id": "media-video-1"})),
    "sticker": one_message(message("sticker", {"mime_type": "image/webp", "id": "media-sticker-1", "animated": False})),
    "flow reply": one_message(
        message(
            "interactive",
            {
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": '{"flow_token": "t", "district": "NTR"}',
                },
            },
        )
    ),
    "contact with user id": one_message(
        message("text", {"body": "hi"}, from_user_id=USER_ID),
        contacts=({"profile": {"name": "Lakshmi"}, "wa_id": WA_ID, "user_id": USER_ID},),
    ),
    "only a user id": update(
        [
            messages_change(
                {
                    "from_user_id": USER_ID,
                    "id": "wamid.in.u",
                    "timestamp": "1749996800",
                    "type": "text",
                    "text": {"body": "hi"},
                },
                contacts=({"profile": {"name": "Lakshmi"}, "user_id": USER_ID},),
            )
        ]
    ),
    "statuses": update(
        [
            statuses_change(
                status(
                    "sent",
                    conversation={"id": "c1", "origin": {"type": "service"}},
                    pricing={"billable": True, "pricing_model": "PMP", "category": "service"},
                ),
                status("delivered"),
                status("read"),
                status("failed", id="wamid.out.2", errors=[OUT_OF_WINDOW, UNDELIVERABLE]),
            )
        ]
    ),
    "webhook errors": update(
        [
            {
                "field": "messages",
                "value": {"messaging_product": "whatsapp", "metadata": METADATA, "errors": [UNDELIVERABLE]},
            }
        ]
    ),
    "two entries of two changes": update(
        [messages_change(message("text", {"body": "one"}, id="wamid.1")), statuses_change(status("read"))],
        [
            messages_change(message("text", {"body": "two"}, id="wamid.2")),
            {"field": "account_update", "value": {"event": "X"}},
        ],
    ),
    "unknown type": one_message(message("foo", {"bar": 1})),
    "interactive without its object": one_message(message("interactive")),
    "reaction removed": one_message(message("reaction", {"message_id": "wamid.out.9"})),
}


@pytest.mark.parametrize("name", list(HAND_BUILT))
def test_a_hand_built_payload_round_trips_through_json(name: str) -> None:
    assert_round_trips(HAND_BUILT[name])
    assert_well_formed(split_update(HAND_BUILT[name]))


def test_a_document_keeps_its_filename_and_caption() -> None:
    assert only_event(HAND_BUILT["document"]) == MediaIn(
        kind="document",
        media_id="media-doc-1",
        mime_type="application/pdf",
        sha256="abc=",
        caption="Ration card",
        filename="ration-card.pdf",
        **common(),
    )


def test_a_recorded_voice_note_is_marked_as_voice() -> None:
    event = only_event(HAND_BUILT["voice note"])
    assert isinstance(event, MediaIn)
    assert (event.kind, event.media_id, event.voice) == ("audio", "media-voice-1", True)


def test_an_audio_file_is_not_a_voice_note() -> None:
    event = only_event(HAND_BUILT["audio file"])
    assert isinstance(event, MediaIn)
    assert (event.kind, event.voice) == ("audio", False)


def test_a_video_keeps_its_caption() -> None:
    event = only_event(HAND_BUILT["video"])
    assert isinstance(event, MediaIn)
    assert (event.kind, event.media_id, event.caption) == ("video", "media-video-1", "Our street")


def test_a_sticker_is_media() -> None:
    event = only_event(HAND_BUILT["sticker"])
    assert isinstance(event, MediaIn)
    assert (event.kind, event.mime_type) == ("sticker", "image/webp")


def test_a_flow_reply_keeps_its_response_json_as_sent() -> None:
    assert only_event(HAND_BUILT["flow reply"]) == FormReplyIn(
        response_json='{"flow_token": "t", "district": "NTR"}', body="Sent", **common()
    )


def test_a_sender_is_known_by_phone_and_business_scoped_user_id() -> None:
    event = only_event(HAND_BUILT["contact with user id"])
    assert isinstance(event, TextIn)
    assert event.sender == Sender(wa_id=WA_ID, user_id=USER_ID, name="Lakshmi")


def test_a_sender_known_only_by_user_id_is_addressed_by_it() -> None:
    [item] = split_update(HAND_BUILT["only a user id"])
    event = parse_item(item.kind, item.fragment)
    assert isinstance(event, TextIn)
    assert event.sender == Sender(user_id=USER_ID, name="Lakshmi")
    assert item.address == USER_ID


def test_the_matching_contact_names_each_sender_of_a_batch() -> None:
    other = {"profile": {"name": "Ravi"}, "wa_id": "919000000001"}
    body = update(
        [
            messages_change(
                message("text", {"body": "a"}, id="wamid.a"),
                message("text", {"body": "b"}, id="wamid.b", **{"from": "919000000001"}),
                contacts=(CONTACT, other),
            )
        ]
    )
    senders = [e.sender for e in events(body) if isinstance(e, Inbound)]
    assert senders == [Sender(wa_id=WA_ID, name="Lakshmi"), Sender(wa_id="919000000001", name="Ravi")]
    assert [item.address for item in split_update(body)] == [WA_ID, "919000000001"]


def test_a_contact_naming_someone_else_is_not_taken_for_the_sender() -> None:
    body = one_message(
        message("text", {"body": "a"}), contacts=({"profile": {"name": "Ravi"}, "wa_id": "919000000001"},)
    )
    [item] = split_update(body)
    assert item.fragment["contact"] is None
    assert only_event(body) == TextIn(body="a", **(common() | {"sender": Sender(wa_id=WA_ID)}))


def test_statuses_become_delivery_statuses_keyed_by_id_and_state() -> None:
    items = split_update(HAND_BUILT["statuses"])
    assert [item.key for item in items] == [
        "status:wamid.out.1:sent",
        "status:wamid.out.1:delivered",
        "status:wamid.out.1:read",
        "status:wamid.out.2:failed",
    ]
    assert {item.address for item in items} == {WA_ID}
    assert [parse_item(item.kind, item.fragment) for item in items[:3]] == [
        DeliveryStatus(message_id="wamid.out.1", recipient=WA_ID, state=state, at=SENT_AT)
        for state in ("sent", "delivered", "read")
    ]


def test_a_failed_status_carries_the_channel_error_codes() -> None:
    failed = events(HAND_BUILT["statuses"])[-1]
    assert failed == DeliveryStatus(
        message_id="wamid.out.2",
        recipient=WA_ID,
        state="failed",
        at=SENT_AT,
        errors=(
            ChannelError(
                code=131047,
                title="Re-engagement message",
                message="Re-engagement message",
                details="More than 24 hours have passed since the customer last replied.",
            ),
            ChannelError(code=131026, title="Message undeliverable"),
        ),
    )


@pytest.mark.parametrize("state", get_args(DeliveryState))
def test_every_delivery_state_is_understood(state: str) -> None:
    event = only_event(update([statuses_change(status(state))]))
    assert isinstance(event, DeliveryStatus)
    assert event.state == state


def test_a_status_of_an_unknown_state_is_kept_as_unreadable() -> None:
    [item] = split_update(update([statuses_change(status("exploded"))]))
    assert item.kind == "unreadable"
    assert json.loads(item.fragment["raw"])["status"] == "exploded"
    assert parse_item(item.kind, item.fragment) is None


def test_webhook_level_errors_become_channel_errors() -> None:
    [item] = split_update(HAND_BUILT["webhook errors"])
    assert (item.kind, item.address) == ("errors", None)
    assert item.key.startswith("sha256:")
    assert parse_item(item.kind, item.fragment) == ChannelErrors(
        errors=(ChannelError(code=131026, title="Message undeliverable"),)
    )


def test_two_entries_of_two_changes_give_every_item_in_order() -> None:
    items = split_update(HAND_BUILT["two entries of two changes"])
    assert [(item.kind, item.key) for item in items] == [
        ("message", "wamid.1"),
        ("status", "status:wamid.out.1:read"),
        ("message", "wamid.2"),
        ("other", items[3].key),
    ]
    bodies = [e.body for e in events(HAND_BUILT["two entries of two changes"]) if isinstance(e, TextIn)]
    assert bodies == ["one", "two"]


def test_an_unknown_message_type_is_unsupported() -> None:
    assert only_event(HAND_BUILT["unknown type"]) == UnsupportedIn(original_type="foo", **common())


def test_an_interactive_message_without_its_object_is_unsupported() -> None:
    assert only_event(HAND_BUILT["interactive without its object"]) == UnsupportedIn(
        original_type="interactive", **common()
    )


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("text", {"body": 5}),
        ("text", "hello"),
        ("image", {"caption": "no id"}),
        ("location", {"latitude": "north", "longitude": 1}),
        ("contacts", []),
        ("order", {"catalog_id": "c", "product_items": [{"quantity": "many"}]}),
        ("interactive", {"type": "button_reply", "button_reply": {"id": "only-id"}}),
        ("interactive", {"type": "list_reply"}),
        ("interactive", {"type": "call_permission_reply", "call_permission_reply": {}}),
        ("button", {"text": "no payload"}),
        ("system", {"type": "user_changed_number"}),
    ],
)
def test_a_malformed_type_object_becomes_unsupported_rather_than_raising(kind: str, body: object) -> None:
    assert only_event(one_message(message(kind, body))) == UnsupportedIn(original_type=kind, **common())


def test_an_unsupported_message_names_the_inner_type_when_given() -> None:
    msg = message("unsupported", {"type": "poll"}, errors=[{"code": 131051, "title": "Message type unknown"}])
    assert only_event(one_message(msg)) == UnsupportedIn(original_type="poll", error_codes=(131051,), **common())


def test_a_removed_reaction_has_no_emoji() -> None:
    assert only_event(HAND_BUILT["reaction removed"]) == ReactionIn(
        emoji=None, reacted_message_id="wamid.out.9", **common()
    )


def test_a_message_without_an_id_is_kept_as_unreadable_beside_the_others() -> None:
    broken = message("text", {"body": "lost?"})
    del broken["id"]
    items = split_update(update([messages_change(broken, message("text", {"body": "fine"}))]))
    assert [item.kind for item in items] == ["unreadable", "message"]
    assert json.loads(items[0].fragment["raw"])["text"] == {"body": "lost?"}


@pytest.mark.parametrize("timestamp", ["", "soon", "1.5", "-1", "١٧٤٩٩٩٦٨٠٠", "9" * 13, True])
def test_a_message_with_an_unreadable_timestamp_is_kept_as_unreadable(timestamp: object) -> None:
    [item] = split_update(one_message(message("text", {"body": "x"}, timestamp=timestamp)))
    assert item.kind == "unreadable"


def test_a_messages_change_of_unknown_shape_is_kept_as_other() -> None:
    [item] = split_update(update([{"field": "messages", "value": {"metadata": METADATA, "novelty": []}}]))
    assert (item.kind, item.fragment["field"]) == ("other", "messages")


def test_a_redelivered_body_gives_the_same_keys() -> None:
    for body in HAND_BUILT.values():
        assert split_update(body) == split_update(body)


@pytest.mark.parametrize(
    "raw_body",
    [
        b"",
        b"not json",
        b"\xff\xfe{",
        b"[]",
        b"{}",
        b'{"entry": 5}',
        b'{"entry": [{"changes": [1]}]}',
        b'{"entry": [{"changes": [{"value": {}}]}]}',
        b'{"entry": [], "x": NaN}',
        b"[" * 100_000,
        b'{"n": ' + b"9" * 5000 + b"}",
    ],
)
def test_a_body_that_is_not_an_update_becomes_one_unreadable_item(raw_body: bytes) -> None:
    [item] = split_update(raw_body)
    assert (item.kind, item.address) == ("unreadable", None)
    assert item.key.startswith("sha256:")
    assert item.fragment["raw"] == raw_body.decode("utf-8", errors="replace")[: 64 * 1024]
    assert parse_item(item.kind, item.fragment) is None


def test_an_unreadable_body_is_capped_at_64_kib() -> None:
    [item] = split_update(b"x" * 100_000)
    assert item.fragment["raw"] == "x" * 65_536


def test_unreadable_bodies_differing_only_in_invalid_bytes_get_different_keys() -> None:
    first, second = split_update(b"\xff"), split_update(b"\xfe")
    assert first[0].fragment == second[0].fragment
    assert first[0].key != second[0].key


def test_lone_surrogate_escapes_do_not_break_keys_or_fragments() -> None:
    [item] = split_update(b'{"entry": [{"changes": [{"field": "x", "value": "\\ud800"}]}]}')
    assert item.kind == "other"
    assert_round_trips(b'{"entry": [{"changes": [{"field": "x", "value": "\\ud800"}]}]}')


# ---------------------------------------------------------------- properties


def mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Draw from `valid` three times in four, so that generated updates reach deep into the parser."""
    return st.sampled_from([valid, valid, valid, other]).flatmap(lambda chosen: chosen)


def record(required: dict[str, Any], optional: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(required, optional=optional or {})


words = st.text(max_size=8)
names = st.text(min_size=1, max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | words,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=4),
    max_leaves=16,
)
media = record({"id": names}, {"mime_type": words, "caption": words, "filename": words, "voice": st.booleans()})
reply = record({"id": names, "title": words}, {"description": words})
TYPE_OBJECTS: dict[str, st.SearchStrategy[Any]] = {
    "text": record({"body": words}),
    **dict.fromkeys(["image", "document", "audio", "video", "sticker"], media),
    "location": record({"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}, {"name": words}),
    "contacts": st.lists(
        record(
            {"name": record({}, {"formatted_name": words, "first_name": words})},
            {"phones": st.lists(record({}, {"phone": words}))},
        ),
        max_size=2,
    ),
    "reaction": record({"message_id": names}, {"emoji": words}),
    "order": record(
        {
            "catalog_id": names,
            "product_items": st.lists(
                record(
                    {
                        "product_retailer_id": names,
                        "quantity": st.integers(0, 99),
                        "item_price": st.floats(0, 1e6),
                        "currency": words,
                    }
                ),
                max_size=2,
            ),
        },
        {"text": words},
    ),
    "system": record({"body": words}, {"type": words, "wa_id": words, "new_wa_id": words}),
    "button": record({"payload": words, "text": words}),
    "interactive": st.one_of(
        record({"type": st.just("button_reply"), "button_reply": reply}),
        record({"type": st.just("list_reply"), "list_reply": reply}),
        record({"type": st.just("nfm_reply"), "nfm_reply": record({"response_json": words}, {"body": words})}),
        record({"type": words}),
    ),
    "unsupported": record({}, {"type": words}),
    "foo": json_values,
}
timestamps = mostly(st.sampled_from(["1749996800", "0", 1749996800]), json_values)
addresses = mostly(st.sampled_from([WA_ID, USER_ID, "919000000001"]), json_values)
errors = st.lists(mostly(record({"code": st.integers()}, {"title": words, "message": words}), json_values), max_size=2)


@st.composite
def messages(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(list(TYPE_OBJECTS)))
    fields = draw(
        record(
            {"id": mostly(names, json_values), "timestamp": timestamps, "type": st.just(kind)},
            {"from": addresses, "from_user_id": addresses, "context": json_values, "errors": errors},
        )
    )
    if draw(st.booleans()):
        fields[kind] = draw(mostly(TYPE_OBJECTS[kind], json_values))
    return draw(mostly(st.just(fields), json_values))


statuses = mostly(
    record(
        {"id": names, "status": st.sampled_from([*get_args(DeliveryState), "x"]), "timestamp": timestamps},
        {"recipient_id": addresses, "errors": mostly(errors, json_values)},
    ),
    json_values,
)
VALUE_PARTS: dict[str, st.SearchStrategy[Any]] = {
    "contacts": st.lists(mostly(record({}, {"wa_id": addresses, "user_id": addresses}), json_values)),
    "messages": mostly(st.lists(messages(), min_size=1, max_size=3), json_values),
    "statuses": mostly(st.lists(statuses, min_size=1, max_size=3), json_values),
    "errors": mostly(errors, json_values),
}


@st.composite
def values(draw: st.DrawFn) -> Any:
    parts = draw(st.lists(st.sampled_from(list(VALUE_PARTS)), min_size=1, unique=True))
    return {"metadata": METADATA} | {part: draw(VALUE_PARTS[part]) for part in parts}


changes = record({"field": mostly(st.just("messages"), words), "value": mostly(values(), json_values)})
updates = record(
    {"entry": st.lists(record({"changes": st.lists(changes, max_size=3)}), max_size=3)},
    {"object": st.just("whatsapp_business_account")},
)


@settings(deadline=None)
@given(st.binary(max_size=2048))
def test_split_never_raises_on_arbitrary_bytes(raw_body: bytes) -> None:
    assert_well_formed(split_update(raw_body))


@settings(deadline=None)
@given(json_values)
def test_split_never_raises_on_arbitrary_json(data: object) -> None:
    assert_well_formed(split_update(encode(data)))


@settings(deadline=None, max_examples=300)
@given(updates)
def test_split_keys_equal_fragments_alike_and_every_item_parses(data: dict[str, Any]) -> None:
    once = split_update(encode(data))
    twice = split_update(encode(data | {"entry": data["entry"] * 2}))

    assert twice == once * 2
    assert_well_formed(twice)
    for item in once:
        event = parse_item(item.kind, item.fragment)
        expected: type[object] = {"message": Inbound, "status": DeliveryStatus, "errors": ChannelErrors}.get(
            item.kind, type(None)
        )
        assert isinstance(event, expected)
        revived = json.loads(json.dumps(item.fragment))
        assert parse_item(item.kind, revived) == event
