"""What "my data" and "who saw my data" say: the JSON complete, the readable copy masked, officers
named by office and role only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.privacy import (
    Access,
    AccessesListed,
    ConsentRecord,
    HeldAlert,
    HeldApplication,
    HeldCertificate,
    HeldEvent,
    HeldPayment,
    HeldRating,
    HeldRequest,
    Holdings,
    accesses_text,
    awaits_consent,
    command_in,
    export_document,
    mask_identifier,
    normalised,
    readable_document,
)

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
CATALOGUE = load_catalogue(ROOT)
TEXTS = load_texts(ROOT)
PLACES = load_jurisdictions(ROOT / "jurisdictions")
NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
AADHAAR = "23456789012" + verhoeff_digit("23456789012")
PLACE = {"district": "ntr", "mandal": "ntr/vijayawada-rural", "village": "ntr/vijayawada-rural/nidamanuru"}


def holdings() -> Holdings:
    income = HeldApplication(
        reference="AP-REV-INC-2026-000041",
        service_id="revenue.income-certificate",
        status="returned",
        language="te",
        answers={"applicant_name": "లక్ష్మి దేవి", "aadhaar": AADHAAR, "address": PLACE, "annual_income": 120000},
        submitted_at=NOW - timedelta(days=3),
        due_at=NOW + timedelta(days=4),
        fee_inr=45,
        history=(
            HeldEvent(at=NOW - timedelta(days=3), kind="submitted", actor="citizen", detail={"desk": "vro@ntr"}),
            HeldEvent(
                at=NOW - timedelta(days=1),
                kind="returned",
                actor="vro.nidamanuru",  # an officer's username: never shown to the citizen
                detail={"fields": ["aadhaar"], "message": "Please send a clearer Aadhaar number"},
            ),
            HeldEvent(at=NOW, kind="note", actor="ri.vijayawada", detail={"message": "internal: family is known"}),
        ),
    )
    tree = HeldApplication(
        reference="AP-MUN-GRV-TREEFALL-2026-000009",
        service_id="municipal.fallen-tree-removal",
        status="closed",
        language="te",
        answers={"description": "tree on the road"},
        submitted_at=NOW - timedelta(days=20),
        due_at=NOW - timedelta(days=19),
        decided_at=NOW - timedelta(days=18),
    )
    return Holdings(
        address="919000000021",
        wa_id="919000000021",
        user_id="IN.000000000000021",
        conversation={"language": "te", "screen": "form", "draft": {"service": "revenue.caste-certificate"}},
        first_seen=NOW - timedelta(days=30),
        last_seen=NOW,
        consents=(ConsentRecord(notice="1", language="te", purposes=("services", "payments"), given_at=NOW),),
        applications=(income, tree),
        payments=(
            HeldPayment(
                reference=income.reference, provider="simulated", amount_paise=4500, status="paid", created_at=NOW
            ),
        ),
        certificates=(
            HeldCertificate(
                number="AP-REV-ADG-2026-000003",
                reference="AP-REV-ADG-2026-000003",
                service_id="revenue.adangal-extract",
                kind="land-extract",
                issued_at=NOW,
                valid_until=None,
                status="valid",
            ),
        ),
        ratings=(HeldRating(reference=tree.reference, score=4, at=NOW, comment="quick work"),),
        alerts=(HeldAlert(topic="weather", area="ntr/vijayawada-rural/nunna", language="te", created_at=NOW),),
        requests=(HeldRequest(kind="accesses", at=NOW - timedelta(hours=1)),),
        messages_received=17,
        messages_sent=23,
    )


def test_the_json_export_holds_everything_in_full_by_purpose() -> None:
    document = json.loads(json.dumps(export_document(holdings(), CATALOGUE, NOW), ensure_ascii=False))
    assert document["format"] == "sevamitra-my-data/1" and document["generated_at"] == NOW.isoformat()
    assert document["citizen"]["wa_id"] == "919000000021"
    (income,) = document["applications"]
    assert income["answers"]["aadhaar"] == AADHAAR  # complete: it is the citizen's own data
    assert income["purpose"] == {"category": "services", "service": "revenue.income-certificate"}
    assert [g["reference"] for g in document["grievances"]] == ["AP-MUN-GRV-TREEFALL-2026-000009"]
    assert document["grievances"][0]["rating"] == {"score": 4, "comment": "quick work", "at": NOW.isoformat()}
    assert document["consents"][0]["purposes"] == ["services", "payments"]
    assert document["payments"][0]["amount_inr"] == 45.0
    assert document["certificates"][0]["number"] == "AP-REV-ADG-2026-000003"
    assert document["conversation"]["draft"] == {"service": "revenue.caste-certificate"}
    assert document["messages"] == {"received": 17, "sent": 23}
    assert document["alerts"][0]["topic"] == "weather" and document["data_requests"][0]["kind"] == "accesses"


def test_the_status_history_names_no_officer_and_keeps_no_internal_note() -> None:
    text = json.dumps(export_document(holdings(), CATALOGUE, NOW), ensure_ascii=False)
    assert "vro.nidamanuru" not in text and "ri.vijayawada" not in text
    assert "internal: family is known" not in text
    history = json.loads(text)["applications"][0]["history"]
    assert [(h["event"], h["by"]) for h in history] == [
        ("submitted", "citizen"),
        ("returned", "officer"),
        ("note", "officer"),
    ]
    assert history[1]["detail"] == {"fields": ["aadhaar"], "message": "Please send a clearer Aadhaar number"}


@pytest.mark.parametrize("language", ["te", "en", "hi"])
def test_the_readable_copy_masks_identifiers_and_speaks_the_citizens_language(language: str) -> None:
    document = readable_document(holdings(), CATALOGUE, TEXTS, PLACES, language, NOW)
    rows = [row for s in document.sections for e in s.entries for row in e.rows]
    values = " ".join(value for _, value in rows)
    assert AADHAAR not in values and f"XXXX XXXX {AADHAAR[-4:]}" in values
    assert "919000000021" not in values and "XXXXXXXX0021" in values
    assert "vro.nidamanuru" not in values
    assert document.title == TEXTS.get(language, "privacy.pdf.title")
    titles = [s.title for s in document.sections]
    assert TEXTS.get(language, "privacy.pdf.grievances") in titles
    assert any(TEXTS.get(language, "status.returned") == value for _, value in rows)
    assert any("నిడమానూరు" in value or "Nidamanuru" in value or "निडमानूरु" in value for _, value in rows)
    nunna = PLACES.get("ntr/vijayawada-rural/nunna")
    assert nunna is not None
    alert = f"{TEXTS.get(language, 'alerts.topic.weather')} · {nunna.name(language)}"
    assert any(value.startswith(alert) for _, value in rows)  # the topic and the place by their names


def test_a_section_with_nothing_in_it_is_still_listed_with_its_title() -> None:
    document = readable_document(Holdings(address="919000000022"), CATALOGUE, TEXTS, PLACES, "en", NOW)
    payments = next(s for s in document.sections if s.title == "Your payments")
    assert payments.entries == () and document.empty == "Nothing held."


def test_identifiers_keep_only_their_last_four_characters() -> None:
    assert mask_identifier("9876543210") == "XXXXXX3210"
    assert mask_identifier("ABCDE1234F") == "XXXXXX234F"
    assert mask_identifier("12") == "XX12"


def test_accesses_name_the_office_and_role_never_the_officer() -> None:
    listed = AccessesListed(
        accesses=(
            Access(at=NOW, reference="AP-X-2026-000001", action="view_attachment", role="tahsildar", place="state"),
            Access(at=NOW, reference="AP-X-2026-000001", action="view_refused", role="unknown_role", place="ntr"),
        ),
        more=0,
    )
    text = accesses_text(listed, TEXTS, "te", PLACES, CATALOGUE)
    assert TEXTS.get("te", "privacy.access.document") in text and TEXTS.get("te", "privacy.office_state") in text
    assert TEXTS.get("te", "privacy.access.refused") in text and "unknown role" in text
    assert "…" not in text  # no "and N more" when nothing was left out


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("withdraw", ("withdraw", "en")),
        ("  WITHDRAW  consent! ", ("withdraw", "en")),
        ("ఉపసంహరణ", ("withdraw", "te")),
        ("नా డేటా", None),
        ("నా డేటా", ("my_data", "te")),
        ("मेरा डेटा किसने देखा?", ("who_saw", "hi")),
        ("میرا ڈیٹا", ("my_data", "hi")),
        ("withdraw my income application", None),  # a whole-message word, never a word inside a sentence
        ("", None),
    ],
)
def test_the_commands_are_whole_messages_in_any_language(text: str, found: tuple[str, str] | None) -> None:
    assert command_in(text, TEXTS) == found


def test_normalising_folds_case_spaces_and_trailing_punctuation() -> None:
    assert normalised("  Who   Saw my DATA ?! ") == "who saw my data"


def test_the_notice_is_asked_until_its_version_is_accepted() -> None:
    assert awaits_consent(None, "1") and awaits_consent("1", "2")
    assert not awaits_consent("2", "2") and not awaits_consent(None, None)
