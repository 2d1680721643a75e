"""The scam guard: forwarded or pasted messages checked against the service's own numbers and links."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.core.conversation import Context, ConversationState, step
from sevamitra.core.messages import TextIn
from sevamitra.core.scamguard import assess

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
OURS = {"numbers": ("919552300009",), "hosts": ("verify.ap.gov.in",)}


@pytest.mark.parametrize(
    ("text", "findings"),
    [
        (
            "Your ration card is blocked. Send the OTP you received to 9876543210",
            ("asks_secret", "money_bait", "foreign_number"),
        ),
        ("KYC pending! Update at http://bit.ly/ap-kyc to get your refund", ("money_bait", "foreign_link")),
        ("మీ ఓటీపీ చెప్పండి", ("asks_secret",)),
        ("आपका इनाम लेने के लिए पिन भेजें", ("asks_secret", "money_bait")),
        ("Verify at https://verify.ap-gov.in.example.com/V/ABC", ("foreign_link",)),
    ],
)
def test_messages_that_ask_for_secrets_or_point_elsewhere_are_flagged(text: str, findings: tuple[str, ...]) -> None:
    found = assess(text, **OURS)
    assert found.verdict == "suspicious" and found.findings == findings


@pytest.mark.parametrize(
    "text",
    [
        "Your certificate: https://verify.ap.gov.in/V/ABC123",
        "Message us on +91 95523 00009",
        "see www.verify.ap.gov.in/verify",
    ],
)
def test_the_services_own_numbers_and_links_are_vouched_for(text: str) -> None:
    assert assess(text, **OURS).verdict == "ours"


def test_a_message_with_nothing_to_check_is_unknown() -> None:
    assert assess("Hello, how are you?", **OURS).verdict == "unknown"


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(ROOT), texts=load_texts(ROOT), own_numbers=OURS["numbers"], own_hosts=OURS["hosts"]
    )


def reply(context: Context, body: str, *, forwarded: bool = False) -> str:
    state = ConversationState(language="en", screen="departments", last_active=NOW)
    result = step(
        state, TextIn(message_id="m", sender="919800000001", sent_at=NOW, body=body, forwarded=forwarded), context, NOW
    )
    return " ".join(getattr(r, "body", "") for r in result.replies)


def test_a_forwarded_scam_is_answered_with_a_warning(context: Context) -> None:
    said = reply(context, "Dear customer, share OTP to unblock your pension", forwarded=True)
    assert "Be careful" in said and "never ask for an OTP" in said


def test_check_then_a_pasted_message_is_assessed(context: Context) -> None:
    assert "this service's own" in reply(context, "check https://verify.ap.gov.in/V/XYZ")
    assert "forward it here" in reply(context, "check")


def test_the_greeting_says_we_never_ask_for_an_otp(context: Context) -> None:
    result = step(
        ConversationState(), TextIn(message_id="m", sender="919800000001", sent_at=NOW, body="hi"), context, NOW
    )
    assert "never ask for an OTP" in " ".join(getattr(r, "body", "") for r in result.replies)
