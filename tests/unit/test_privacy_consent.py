"""Consent in the conversation: the notice before anything is processed, its version, withdrawal in one
word at any point, and the data-rights words, in Telugu, English, Hindi (and Urdu words)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sevamitra.adapters.catalogue_files import load_catalogue, load_texts
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.whatsapp.outbound import to_graph_body
from sevamitra.core.conversation import Arrive, Context, ConversationState, Step, Transcribe, step
from sevamitra.core.links import prefilled
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
from sevamitra.core.privacy import (
    PURPOSES,
    Access,
    AccessesListed,
    ConsentWithdrawn,
    ExportData,
    ListAccesses,
    RecordConsent,
    WithdrawConsent,
)
from sevamitra.testing.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2] / "catalogue"
CITIZEN = Sender(wa_id="919000000011", user_id="IN.000000000000011", name="Lakshmi")
CATALOGUE = load_catalogue(ROOT)
TEXTS = load_texts(ROOT)


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(catalogue=CATALOGUE, texts=TEXTS, places=load_jurisdictions(ROOT / "jurisdictions"), notice="3")


class Citizen:
    """A citizen talking to the engine, keeping the state between messages as the worker does."""

    def __init__(self, context: Context, state: ConversationState | None = None) -> None:
        self.context, self.state, self.clock, self.n = context, state or ConversationState(), FixedClock(), 0

    def send(self, inbound: Inbound) -> Step:
        result = step(self.state, inbound, self.context, self.clock.now())
        self.state = result.state
        for reply in result.replies:  # every reply must be sendable within WhatsApp's limits
            to_graph_body(Recipient.of(CITIZEN), reply)
        return result

    def outcome(self, event: object) -> Step:
        result = step(self.state, event, self.context, self.clock.now())  # type: ignore[arg-type]
        self.state = result.state
        return result

    def _id(self) -> str:
        self.n += 1
        return f"wamid.privacy.{self.n}"

    def says(self, text: str) -> Step:
        return self.send(TextIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), body=text))

    def taps(self, choice_id: str) -> Step:
        return self.send(
            ChoiceIn(message_id=self._id(), sender=CITIZEN, sent_at=self.clock.now(), choice_id=choice_id, title="")
        )


def said(result: Step) -> str:
    return "\n".join(r.body for r in result.replies if isinstance(r, TextOut | ButtonsOut | ListOut))


def buttons(result: Step) -> list[str]:
    found = [r for r in result.replies if isinstance(r, ButtonsOut)]
    assert found, f"no buttons in {result.replies}"
    return [b.id for b in found[-1].buttons]


def notice(language: str, version: str = "3") -> str:
    return TEXTS.get(language, "privacy.notice", version=version)


def test_a_new_citizen_chooses_a_language_then_gets_the_notice_in_it_before_any_menu(context: Context) -> None:
    citizen = Citizen(context)
    first = citizen.says("hi")
    assert buttons(first) == ["lang:te", "lang:en", "lang:hi"]  # the welcome asks the language, as before
    shown = citizen.taps("lang:te")
    assert said(shown) == notice("te") and "నా డేటా" in said(shown) and "ఉపసంహరణ" in said(shown)
    assert buttons(shown) == ["privacy:accept:3", "privacy:decline"]
    assert not shown.effects and citizen.state.consented is None
    assert not [r for r in shown.replies if isinstance(r, ListOut)]  # no menu before consent


def test_accepting_records_the_version_language_and_purposes_then_opens_the_menu(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:hi")
    accepted = citizen.taps("privacy:accept:3")
    assert accepted.effects[0] == RecordConsent(notice="3", language="hi", purposes=PURPOSES)
    assert TEXTS.get("hi", "privacy.accepted", version="3") in said(accepted)
    assert isinstance(accepted.replies[-1], ListOut)  # the departments
    assert citizen.state.consented == "3"
    assert ConversationState.from_dict(citizen.state.to_dict()) == citizen.state


def test_nothing_a_citizen_sends_before_consent_is_processed(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    sent = CITIZEN, citizen.clock.now()
    for inbound in (
        MediaIn(message_id="m1", sender=sent[0], sent_at=sent[1], kind="audio", media_id="v1", voice=True),
        MediaIn(message_id="m2", sender=sent[0], sent_at=sent[1], kind="image", media_id="p1"),
        LocationIn(message_id="m3", sender=sent[0], sent_at=sent[1], latitude=16.5, longitude=80.6),
        ChoiceIn(
            message_id="m4", sender=sent[0], sent_at=sent[1], choice_id="svc:revenue.income-certificate", title=""
        ),
    ):
        result = citizen.send(inbound)
        assert not result.effects, inbound  # no transcription, no lookup, nothing stored
        assert not any(isinstance(e, Transcribe) for e in result.effects)
        assert said(result) == notice("en")
    assert citizen.state.held is None and citizen.state.draft is None


def test_a_poster_link_as_first_message_names_its_service_in_the_notice_and_opens_it_once_accepted(
    context: Context,
) -> None:
    citizen = Citizen(context)
    shown = citizen.says("ఆదాయ ధృవీకరణ పత్రం #REV-INC@kurnool-ws-12")
    assert "*ఆదాయ ధృవీకరణ పత్రం*" in said(shown) and notice("te") in said(shown)  # in the link's script
    assert not shown.effects  # the arrival is not even counted yet
    opened = citizen.taps("privacy:accept:3")
    assert isinstance(opened.effects[0], RecordConsent)
    arrive = next(e for e in opened.effects if isinstance(e, Arrive))
    assert (arrive.service_id, arrive.source, arrive.first) == ("revenue.income-certificate", "kurnool-ws-12", True)
    assert "form:start" in buttons(opened)
    assert citizen.state.held is None


def test_a_new_notice_version_asks_again_and_the_answer_given_meanwhile_goes_into_the_form(context: Context) -> None:
    earlier = replace(context, notice="2")
    citizen = Citizen(earlier)
    citizen.says("hi")
    citizen.taps("lang:en")
    citizen.taps("privacy:accept:2")
    citizen.taps("svc:revenue.income-certificate")
    citizen.taps("form:start")  # the first question: the applicant's name
    assert citizen.state.screen == "form" and citizen.state.draft is not None
    citizen.context = context  # notice 3 comes into force
    asked = citizen.says("Lakshmi Devi")
    assert said(asked) == notice("en") and not asked.effects
    assert citizen.state.draft["answers"] == {}  # nothing processed yet
    assert citizen.taps("privacy:accept:2").effects == ()  # the older notice's button consents to nothing
    went_on = citizen.taps("privacy:accept:3")
    assert went_on.effects[0] == RecordConsent(notice="3", language="en", purposes=PURPOSES)
    assert citizen.state.draft["answers"]["applicant_name"] == "Lakshmi Devi"
    assert "Question 2 of" in said(went_on)


@pytest.mark.parametrize("word", ["withdraw", "ఉపసంహరణ", "वापसी", "واپسی", "Withdraw consent."])
def test_one_word_withdraws_consent_in_the_middle_of_a_form_in_every_language(context: Context, word: str) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:te")
    citizen.taps("privacy:accept:3")
    citizen.taps("svc:revenue.income-certificate")
    citizen.taps("form:start")
    withdrawn = citizen.says(word)
    assert withdrawn.effects == (WithdrawConsent(),)
    assert citizen.state.consented is None and citizen.state.draft is None
    told = citizen.outcome(ConsentWithdrawn(kept=("AP-REV-INC-2026-000007",)))
    assert TEXTS.get("te", "privacy.withdrawn") in said(told)  # in the citizen's language, whatever the word's
    assert "AP-REV-INC-2026-000007" in said(told)
    again = citizen.says("హాయ్")
    assert said(again) == notice("te") and not again.effects  # writing again shows the notice again


def test_withdrawing_without_consent_says_so_and_records_nothing(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    result = citizen.says("withdraw")
    assert not result.effects and said(result) == TEXTS.get("en", "privacy.not_consented")


def test_declining_processes_nothing_and_declining_a_new_notice_withdraws_the_old_consent(context: Context) -> None:
    citizen = Citizen(context)
    citizen.says("hi")
    citizen.taps("lang:en")
    declined = citizen.taps("privacy:decline")
    assert not declined.effects and said(declined) == TEXTS.get("en", "privacy.declined")
    assert said(citizen.says("income certificate")) == notice("en")
    returning = Citizen(context, ConversationState(language="en", screen="departments", consented="2"))
    assert returning.taps("privacy:decline").effects == (WithdrawConsent(),)


def test_data_rights_work_before_consent_and_in_the_language_of_the_word(context: Context) -> None:
    citizen = Citizen(context)
    assert citizen.says("నా డేటా").effects == (ExportData(language="te"),)
    assert citizen.says("मेरा डेटा किसने देखा").effects == (ListAccesses(),)
    assert citizen.state.consented is None


def test_who_saw_my_data_lists_offices_and_roles_newest_first_with_the_rest_counted(context: Context) -> None:
    citizen = Citizen(context, ConversationState(language="en", screen="departments", consented="3"))
    assert citizen.says("who saw my data?").effects == (ListAccesses(),)
    older = FixedClock().now()
    accesses = (
        Access(
            at=older.replace(hour=11),
            reference="AP-REV-INC-2026-000001",
            action="approve",
            role="tahsildar",
            place="ntr/vijayawada-rural",
            department_id="revenue",
        ),
        Access(
            at=older.replace(hour=9),
            reference="AP-REV-INC-2026-000001",
            action="view",
            role="village_revenue_officer",
            place="ntr/vijayawada-rural/nidamanuru",
        ),
    )
    shown = said(citizen.outcome(AccessesListed(accesses=accesses, more=4)))
    lines = shown.splitlines()
    assert lines[0] == TEXTS.get("en", "privacy.accesses_title")
    assert "Tahsildar, Vijayawada Rural, Revenue: approved it (AP-REV-INC-2026-000001)" in lines[1]
    assert "opened the application" in lines[2]
    assert lines[-1] == TEXTS.get("en", "privacy.accesses_more", count=4)
    assert said(citizen.outcome(AccessesListed(accesses=(), more=0))) == TEXTS.get("en", "privacy.accesses_none")


def test_privacy_shows_the_notice_with_the_rights_as_buttons(context: Context) -> None:
    citizen = Citizen(context, ConversationState(language="hi", screen="departments", consented="3"))
    shown = citizen.says("गोपनीयता")
    assert notice("hi") in said(shown)
    assert buttons(shown) == ["privacy:my_data", "privacy:who_saw", "privacy:withdraw"]
    assert citizen.taps("privacy:withdraw").effects == (WithdrawConsent(),)


def test_help_lists_the_data_rights_words(context: Context) -> None:
    citizen = Citizen(context, ConversationState(language="en", screen="departments", consented="3"))
    helped = said(citizen.says("help"))
    assert all(word in helped for word in ('"privacy"', '"my data"', '"who saw my data"', '"withdraw"'))


def test_without_a_notice_configured_the_first_contact_is_as_before() -> None:
    citizen = Citizen(Context(catalogue=CATALOGUE, texts=TEXTS))
    citizen.says("hi")
    menu = citizen.taps("lang:en")
    assert isinstance(menu.replies[-1], ListOut) and not menu.effects


@pytest.mark.parametrize("language", ["te", "en", "hi"])
def test_the_notice_and_its_buttons_fit_whatsapp_unclipped_in_every_language(context: Context, language: str) -> None:
    service = CATALOGUE.service("revenue.income-certificate")
    assert service is not None
    linked = Citizen(context).says(prefilled(service, language))  # the longest notice: the service named first
    rights = Citizen(context, ConversationState(language=language, consented="3")).says("privacy")
    for result in (linked, rights):
        (message,) = [r for r in result.replies if isinstance(r, ButtonsOut)]
        assert notice(language) in message.body and len(message.body) <= 1024
        assert all(len(b.title) <= 20 and not b.title.endswith("…") for b in message.buttons)


@pytest.mark.skipif("words.erase" not in TEXTS.by_language["en"], reason="the erasure change is not in this tree")
def test_asking_to_erase_ones_data_needs_no_consent_first(context: Context) -> None:
    citizen = Citizen(context, ConversationState(language="en", screen="start"))  # withdrew earlier
    asked = citizen.says("delete my data")
    assert "privacy:accept:3" not in buttons(asked)
    assert any(b.startswith("erase:") for b in buttons(asked))
