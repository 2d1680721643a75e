"""Applying for a service in chat: the form one question at a time, summary, submission, tracking."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.applications import ApplicationView, Status
from sevamitra.core.conversation import Context, ConversationState, Step, Submit, Submitted, Track, Tracked, step
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.messages import (
    ButtonsOut,
    ChoiceIn,
    Inbound,
    ListOut,
    LocationIn,
    MediaIn,
    Recipient,
    Sender,
    TextIn,
    TextOut,
)
from sevamitra.testing.clock import FixedClock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "catalogue"
CITIZEN = Sender(wa_id="919000000001", user_id="IN.000000000000001")
AADHAAR = "23456789012" + verhoeff_digit("23456789012")


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(
        catalogue=load_catalogue(FIXTURE),
        texts=load_texts(DEFAULT_CATALOGUE_DIR),
        places=load_jurisdictions(DEFAULT_CATALOGUE_DIR / "jurisdictions"),
    )


class Citizen:
    def __init__(self, context: Context, language: str = "en") -> None:
        self.context, self.clock, self.n = context, FixedClock(), 0
        self.state = ConversationState(language=language, screen="departments", last_active=self.clock.now())

    def send(self, event: Inbound | Submitted | Tracked) -> Step:
        result = step(self.state, event, self.context, self.clock.now())
        self.state = result.state
        for reply in result.replies:
            to_graph_body(Recipient.of(CITIZEN), reply)  # every reply within WhatsApp's limits
        return result

    def _id(self) -> str:
        self.n += 1
        return f"wamid.t{self.n}"

    def says(self, text: str) -> Step:
        return self.send(TextIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), body=text))

    def taps(self, choice_id: str, title: str = "") -> Step:
        return self.send(
            ChoiceIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), choice_id=choice_id, title=title)
        )

    def opens(self, service_id: str) -> Step:
        self.taps(f"svc:{service_id}")
        return self.taps("form:start")

    def picks_place(self) -> Step:
        self.taps("place:ntr")
        self.taps("place:ntr/vijayawada-corporation")
        return self.taps("place:ntr/vijayawada-corporation/ward-12")

    def fills_income_certificate(self) -> Step:
        self.opens("revenue.income-certificate")
        self.says("Lakshmi Devi")
        self.says(AADHAAR)
        self.says("15-08-1985")
        self.picks_place()
        self.says("1,20,000")
        self.taps("answer:education")
        return self.says("skip")


def text(result: Step) -> str:
    return "\n".join(r.body for r in result.replies if isinstance(r, TextOut | ButtonsOut | ListOut))


def test_the_service_card_shows_fee_time_documents_and_an_apply_button(context: Context) -> None:
    result = Citizen(context).taps("svc:revenue.income-certificate")
    card = result.replies[-1]
    assert isinstance(card, ButtonsOut)
    assert "₹45" in card.body and "7 days" in card.body and "Aadhaar card" in card.body
    assert card.buttons[0].id == "form:start"


def test_the_form_asks_one_question_at_a_time_in_the_citizens_language(context: Context) -> None:
    citizen = Citizen(context, "te")
    first = citizen.opens("revenue.income-certificate")
    assert "ప్రశ్న 1 / 7" in text(first)
    assert citizen.state.screen == "form"
    second = citizen.says("లక్ష్మి దేవి")
    assert "ప్రశ్న 2 / 7" in text(second)


def test_an_invalid_aadhaar_gets_a_precise_reason_and_the_same_question(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    wrong = citizen.says("234567890123")
    assert "Question 2 of 7" in text(wrong)
    assert citizen.state.draft is not None and citizen.state.draft["index"] == 1
    assert citizen.state.draft["answers"] == {"applicant_name": "Lakshmi Devi"}  # nothing typed is lost


def test_telugu_digits_are_accepted_in_an_aadhaar_number(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    telugu = AADHAAR.translate(str.maketrans("0123456789", "౦౧౨౩౪౫౬౭౮౯"))
    citizen.says(telugu)
    assert citizen.state.draft is not None and citizen.state.draft["answers"]["aadhaar"] == AADHAAR


def test_the_place_is_picked_district_then_town_then_ward(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    citizen.says(AADHAAR)
    districts = citizen.says("15-08-1985")
    assert isinstance(districts.replies[-1], ListOut)
    citizen.picks_place()
    draft = citizen.state.draft
    assert draft is not None
    assert draft["answers"]["residence"]["village"] == "ntr/vijayawada-corporation/ward-12"


def test_a_place_can_be_typed_instead_of_picked(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    citizen.says(AADHAAR)
    citizen.says("15-08-1985")
    citizen.says("Guntur")
    assert citizen.state.draft is not None and citizen.state.draft["place"] == {"district": "guntur"}


def test_back_returns_to_the_previous_question_keeping_answers(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    result = citizen.says("back")
    assert "Question 1 of 7" in text(result)
    assert citizen.state.draft is not None and citizen.state.draft["answers"]["applicant_name"] == "Lakshmi Devi"


def test_a_required_question_cannot_be_skipped(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    result = citizen.says("skip")
    assert "cannot be skipped" in text(result)


def test_the_summary_masks_the_aadhaar_and_offers_submit_edit_cancel(context: Context) -> None:
    citizen = Citizen(context)
    result = citizen.fills_income_certificate()
    summary = result.replies[-1]
    assert isinstance(summary, ButtonsOut)
    assert AADHAAR not in summary.body and f"XXXX XXXX {AADHAAR[-4:]}" in summary.body
    assert "(skipped)" in summary.body
    assert [b.id for b in summary.buttons] == ["form:submit", "form:edit", "form:cancel"]
    assert citizen.state.screen == "confirm"


def test_edit_from_the_summary_asks_that_question_then_returns_to_the_summary(context: Context) -> None:
    citizen = Citizen(context)
    citizen.fills_income_certificate()
    asked = citizen.says("edit 5")
    assert "Annual family income" in text(asked)
    back = citizen.says("2,00,000")
    assert citizen.state.screen == "confirm" and "₹2,00,000" in text(back)


def test_submitting_hands_over_the_answers_with_the_definition_in_force(context: Context) -> None:
    citizen = Citizen(context)
    citizen.fills_income_certificate()
    result = citizen.taps("form:submit")
    (effect,) = result.effects
    assert isinstance(effect, Submit)
    submission = effect.submission
    service = context.catalogue.service("revenue.income-certificate")
    assert service is not None
    assert (submission.service_id, submission.service_version) == ("revenue.income-certificate", 3)
    assert submission.definition_hash == service.definition_hash and len(submission.definition_hash) == 64
    assert submission.answers["aadhaar"] == AADHAAR and submission.answers["annual_income"] == 120000
    assert citizen.state.draft is None


def test_the_reference_and_promised_date_come_back_to_the_citizen(context: Context) -> None:
    citizen = Citizen(context)
    citizen.fills_income_certificate()
    citizen.taps("form:submit")
    now = citizen.clock.now()
    done = citizen.send(
        Submitted(
            reference="AP-REV-INC-2026-000123", service_id="revenue.income-certificate", due_at=now + timedelta(days=7)
        )
    )
    assert "AP-REV-INC-2026-000123" in text(done) and "22-01-2026" in text(done)


def test_cancel_drops_the_draft(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    result = citizen.says("cancel")
    assert "cancelled" in text(result) and citizen.state.draft is None


def test_the_menu_keeps_an_unfinished_draft_and_the_service_offers_to_continue(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    citizen.says("menu")
    card = citizen.taps("svc:revenue.income-certificate").replies[-1]
    assert isinstance(card, ButtonsOut) and card.buttons[0].id == "form:continue"
    resumed = citizen.taps("form:continue")
    assert "Question 2 of 7" in text(resumed)


def test_after_an_expired_session_the_citizen_can_resume_the_draft(context: Context) -> None:
    citizen = Citizen(context, "te")
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    citizen.clock.advance(hours=5)
    result = citizen.says("hello")
    buttons = result.replies[-1]
    assert isinstance(buttons, ButtonsOut) and buttons.buttons[0].id == "form:continue"
    assert "ఆదాయ ధృవీకరణ పత్రం" in buttons.body
    assert "ప్రశ్న 2 / 7" in text(citizen.taps("form:continue"))


def test_a_grievance_takes_a_photo_and_a_location_and_yes_no_buttons(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("municipal.street-light-not-working")
    citizen.says("The street light near the temple has been off for a week")
    now = citizen.clock.now()
    citizen.send(
        MediaIn(message_id="wamid.p", sender=CITIZEN, sent_at=now, kind="image", media_id="m1", mime_type="image/jpeg")
    )
    citizen.send(LocationIn(message_id="wamid.l", sender=CITIZEN, sent_at=now, latitude=16.5062, longitude=80.648))
    asked = citizen.says("9876543210")
    assert isinstance(asked.replies[-1], ButtonsOut)
    citizen.taps("answer:yes")
    draft = citizen.state.draft
    assert draft is not None and draft["answers"]["urgent"] is True and draft["answers"]["photo"]


def test_a_photo_where_text_is_expected_is_refused_politely(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("municipal.street-light-not-working")
    photo = MediaIn(
        message_id="wamid.p",
        sender=CITIZEN,
        sent_at=citizen.clock.now(),
        kind="image",
        media_id="m1",
        mime_type="image/jpeg",
    )
    citizen.send(photo)
    assert citizen.state.draft is not None and citizen.state.draft["index"] == 0


def test_a_wrong_file_type_is_refused_with_the_allowed_types(context: Context) -> None:
    citizen = Citizen(context)
    citizen.fills_income_certificate()
    citizen.says("edit 7")
    doc = MediaIn(
        message_id="wamid.d",
        sender=CITIZEN,
        sent_at=citizen.clock.now(),
        kind="document",
        media_id="m2",
        mime_type="application/zip",
    )
    result = citizen.send(doc)
    assert citizen.state.screen == "form" and "PDF" in text(result).upper()


def test_track_with_a_reference_asks_for_that_application_only(context: Context) -> None:
    citizen = Citizen(context)
    result = citizen.says("status ap-rev-inc-2026-000123")
    assert result.effects == (Track(reference="AP-REV-INC-2026-000123"),)
    now = citizen.clock.now()
    view = ApplicationView(
        reference="AP-REV-INC-2026-000123",
        service_id="revenue.income-certificate",
        status=Status.UNDER_REVIEW,
        submitted_at=now,
        due_at=now + timedelta(days=7),
    )
    shown = citizen.send(Tracked(asked="AP-REV-INC-2026-000123", applications=(view,)))
    assert "under review" in text(shown) and "Income certificate" in text(shown)


def test_tracking_someone_elses_reference_finds_nothing(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("track AP-REV-INC-2026-000999")
    shown = citizen.send(Tracked(asked="AP-REV-INC-2026-000999", applications=()))
    assert "No application of yours" in text(shown)


@pytest.mark.parametrize("typed", ["income certificate kavali", "aadaya pathram", "ఆదాయ ధృవీకరణ", "आय प्रमाण"])
def test_a_service_can_be_found_by_typing_its_name(context: Context, typed: str) -> None:
    citizen = Citizen(context)
    result = citizen.says(typed)
    assert citizen.state.service_id == "revenue.income-certificate", text(result)


def test_a_place_in_a_district_without_loaded_mandals_is_typed(context: Context) -> None:
    citizen = Citizen(context)
    citizen.opens("revenue.income-certificate")
    citizen.says("Lakshmi Devi")
    citizen.says(AADHAAR)
    citizen.says("15-08-1985")
    asked = citizen.taps("place:srikakulam")
    assert "type the name" in text(asked)
    citizen.says("Amadalavalasa")
    citizen.says("Thogaram")
    draft = citizen.state.draft
    assert draft is not None and draft["index"] == 4
    assert draft["shown"]["residence"] == "Thogaram, Amadalavalasa, Srikakulam"
