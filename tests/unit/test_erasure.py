"""Erasure in the core: when it is due, what the citizen is asked and told in each language, and
Aadhaar numbers masked in what citizens wrote (core.erasure, the "delete my data" command)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.sql.erasure import citizen_lock_key
from sevamitra.adapters.sql.stores import _lock_key
from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.applications import Status
from sevamitra.core.conversation import Context, ConversationState, Step, step
from sevamitra.core.erasure import (
    ERASED,
    KEPT,
    ApplicationTimes,
    ErasureScheduled,
    RequestErasure,
    erased_decision,
    erased_detail,
    erased_fragment,
    erasure_due,
    held_back,
    mask_identity_numbers,
    masked_fragment,
)
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.messages import ButtonsOut, ChoiceIn, Recipient, Sender, TextIn, TextOut

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"
NOW = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
YEAR = timedelta(days=365)
CITIZEN = Sender(wa_id="919000000041", user_id=None, name="Erasure")
AADHAAR = "23456789012" + verhoeff_digit("23456789012")
SPACED = f"{AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}"


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=load_catalogue(FIXTURE), texts=load_texts(), erasure_retention_days=30)


def say(context: Context, state: ConversationState, text: str) -> Step:
    result = step(state, TextIn(message_id="m", sender=CITIZEN, sent_at=NOW, body=text), context, NOW)
    for reply in result.replies:  # sendable within WhatsApp's limits
        to_graph_body(Recipient.of(CITIZEN), reply)
    return result


def tap(context: Context, state: ConversationState, choice: str) -> Step:
    return step(state, ChoiceIn(message_id="c", sender=CITIZEN, sent_at=NOW, choice_id=choice, title=""), context, NOW)


def times(status: Status, days_ago: int) -> ApplicationTimes:
    return ApplicationTimes(status=status, last_change=NOW - timedelta(days=days_ago))


def test_erasure_falls_due_a_retention_period_after_the_request_or_the_last_decision() -> None:
    assert erasure_due(NOW, [], YEAR) == NOW + YEAR
    assert erasure_due(NOW, [times(Status.ISSUED, 400)], YEAR) == NOW + YEAR
    decided_later = ApplicationTimes(status=Status.REJECTED, last_change=NOW + timedelta(days=3))
    assert erasure_due(NOW, [decided_later], YEAR) == NOW + timedelta(days=3) + YEAR


def test_open_applications_hold_the_erasure_back_and_do_not_set_its_date() -> None:
    found = [times(Status.UNDER_REVIEW, 1), times(Status.SUBMITTED, 2), times(Status.APPROVED, 9)]
    assert held_back(found) == 2
    assert erasure_due(NOW, found, YEAR) == NOW + YEAR


@pytest.mark.parametrize(
    "words", ["delete my data", "Delete My Data", "నా డేటా తొలగించు", "తొలగించు", "मेरा डेटा मिटाओ", "मिटाओ", "حذف"]
)
def test_delete_my_data_in_any_language_asks_first_what_goes_what_stays_and_after_how_long(
    context: Context, words: str
) -> None:
    state = ConversationState(language="en", screen="departments")
    asked = say(context, state, words)
    assert asked.effects == ()  # nothing is recorded before the citizen confirms
    (question,) = asked.replies
    assert isinstance(question, ButtonsOut)
    assert [b.id for b in question.buttons] == ["erase:yes", "erase:no"]
    texts = context.texts
    for item in ERASED:
        assert texts.get("en", f"erasure.erased.{item}") in question.body
    for item in KEPT:
        assert texts.get("en", f"erasure.kept.{item}") in question.body
    assert "30 days" in question.body


def test_confirming_records_the_request_and_declining_records_nothing(context: Context) -> None:
    state = ConversationState(language="te", screen="departments")
    assert tap(context, state, "erase:yes").effects == (RequestErasure(),)
    declined = tap(context, state, "erase:no")
    assert declined.effects == ()
    assert declined.replies == (TextOut(body=context.texts.get("te", "erasure.not_asked")),)


def test_the_citizen_is_told_in_their_language_when_it_was_recorded_and_when_it_falls_due(context: Context) -> None:
    due = NOW + timedelta(days=30)
    scheduled = ErasureScheduled(requested_at=NOW, due_at=due, open_applications=2, again=False)
    for language, recorded in (("te", "నమోదైంది"), ("en", "recorded"), ("hi", "दर्ज")):
        state = ConversationState(language=language, screen="departments")
        (told,) = step(state, scheduled, context, NOW).replies
        assert isinstance(told, TextOut)
        assert recorded in told.body and "10-03-2026" in told.body and "09-04-2026" in told.body
        assert "2" in told.body and "30" in told.body  # two applications still with an officer
    again = ErasureScheduled(requested_at=NOW - timedelta(days=3), due_at=due, open_applications=0, again=True)
    (told,) = step(ConversationState(language="en"), again, context, NOW).replies
    assert isinstance(told, TextOut) and told.body.startswith("You asked on 07-03-2026")


def test_every_erasure_text_is_in_telugu_english_and_hindi() -> None:
    texts = load_texts()
    keys = {lang: {k for k in texts.by_language[lang] if k.startswith("erasure.")} for lang in ("te", "en", "hi")}
    assert keys["te"] == keys["en"] == keys["hi"] and len(keys["en"]) >= len(ERASED) + len(KEPT) + 6
    assert texts.get("te", "erasure.ask") != texts.get("en", "erasure.ask") != texts.get("hi", "erasure.ask")


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        (AADHAAR, "XXXX XXXX " + AADHAAR[-4:]),
        (f"my aadhaar is {SPACED}.", f"my aadhaar is XXXX XXXX {AADHAAR[-4:]}."),
        (f"{AADHAAR[:4]}-{AADHAAR[4:8]}-{AADHAAR[8:]}", None),
        ("".join("౦౧౨౩౪౫౬౭౮౯"[int(d)] for d in AADHAAR), "XXXX XXXX " + AADHAAR[-4:]),  # Telugu digits
    ],
)
def test_aadhaar_numbers_are_masked_however_they_are_typed(written: str, masked: str | None) -> None:
    assert mask_identity_numbers(written) == (masked or "XXXX XXXX " + AADHAAR[-4:])


def test_other_numbers_stay_as_they_are() -> None:
    wrong_check = AADHAAR[:-1] + str((int(AADHAAR[-1]) + 1) % 10)
    for text in (wrong_check, "9876543210", "1" + AADHAAR[1:], "1234567890123", "ref AP-REV-INC-2026-000123"):
        assert mask_identity_numbers(text) == text


def test_a_fragment_keeps_the_channels_identifiers_and_masks_what_the_citizen_wrote() -> None:
    phone = "91987654321" + verhoeff_digit("91987654321")  # a phone number that happens to pass Aadhaar's check
    fragment = {
        "contact": {"wa_id": phone, "profile": {"name": "Lakshmi"}},
        "message": {
            "from": phone,
            "id": "wamid.1",
            "timestamp": "1767225600",
            "type": "interactive",
            "interactive": {"nfm_reply": {"response_json": f'{{"aadhaar": "{AADHAAR}"}}'}},
            "text": {"body": f"Aadhaar {SPACED}"},
        },
    }
    masked = masked_fragment(fragment)
    assert mask_identity_numbers(phone) != phone  # written in a message, it would be masked
    assert masked["contact"]["wa_id"] == phone and masked["message"]["from"] == phone
    assert AADHAAR not in str(masked) and SPACED not in str(masked)
    assert masked["message"]["text"]["body"] == f"Aadhaar XXXX XXXX {AADHAAR[-4:]}"
    assert masked_fragment(masked) == masked


def test_what_stays_of_erased_rows_names_no_one() -> None:
    decision = {"outcome": "granted", "facts": [["fact.owner", "K Lakshmi"]], "amount_inr": 120}
    assert erased_decision(decision) == {"outcome": "granted", "amount_inr": 120, "erased": True}
    assert erased_detail({"desk": "tahsildar@ntr", "reason": "documents", "message": "Lakshmi's deed"}) == {
        "desk": "tahsildar@ntr",
        "reason": "documents",
    }
    fragment = {"message": {"type": "text", "text": {"body": "hello"}, "from": "919000000041"}}
    assert erased_fragment("message", fragment) == {"erased": True, "kind": "message", "type": "text"}


def test_the_erasure_locks_a_citizen_as_their_turn_does() -> None:
    for address in ("919800000101", "IN.000000000000001"):
        assert citizen_lock_key(address) == _lock_key(address)
