"""The sans-IO dialogue engine: `step(state, event, context, now) -> Step(state, replies, effects)`.

No I/O, no clock, no randomness: the same inputs always give the same replies, which is what lets
golden transcripts pin every conversation down. What needs the outside world (storing an
application, looking one up) leaves as an *effect*; the action performs it and feeds the outcome
back in as an event (`Submitted`, `Tracked`, `Watched`). Reply ids are small strings (`lang:te`,
`dept:revenue`, `svc:revenue.income-certificate`, `answer:yes`, `form:submit`) that come back as
`ChoiceIn.choice_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sevamitra.core.applications import ApplicationView, Submission, normalise_reference
from sevamitra.core.broadcasts import (
    Unsubscribe,
    area_name,
    parse_alert_command,
    resolve_area,
    subscribed_text,
    unsubscribed_text,
)
from sevamitra.core.catalogue import Catalogue, Department, Service
from sevamitra.core.clipping import clip
from sevamitra.core.decisions import Decision
from sevamitra.core.erasure import ErasureScheduled, RequestErasure, erasure_answer, erasure_question
from sevamitra.core.fees import fee_amount
from sevamitra.core.fields import FieldSpec
from sevamitra.core.forms import (
    PICKER_TYPES,
    Answer,
    Ui,
    edit_menu,
    field_to_edit,
    new_draft,
    photo_limit,
    pick_place,
    question,
    skip,
    store,
    summary,
)
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.links import marker_in, script_language
from sevamitra.core.messages import (
    Button,
    ButtonsOut,
    ChoiceIn,
    DocumentOut,
    Inbound,
    ListOut,
    ListRow,
    ListSection,
    LocationIn,
    MediaIn,
    Outbound,
    ReactionIn,
    SpeechOut,
    SystemIn,
    TextIn,
    TextOut,
)
from sevamitra.core.numberwords import number_word
from sevamitra.core.privacy import (
    HELD_LIMIT,
    AccessesListed,
    ConsentWithdrawn,
    DataExported,
    ExportData,
    ListAccesses,
    PrivacyEffect,
    PrivacyOutcome,
    RecordConsent,
    WithdrawConsent,
    accesses_text,
    awaits_consent,
    command_in,
)
from sevamitra.core.scamguard import assess
from sevamitra.core.search import ServiceIndex
from sevamitra.core.speech import Transcript, spoken
from sevamitra.core.texts import Texts
from sevamitra.core.understanding import Ask, DateReader, Lean, Router, Understanding
from sevamitra.core.validation import Invalid, LocationAnswer, MediaAnswer, PlaceAnswer, Valid, validate
from sevamitra.core.workflow import OPEN, Case, Desk, citizen_clock, shared_location

Screen = Literal["start", "language", "departments", "services", "service", "search", "form", "confirm"]
ROWS_PER_LIST = 10  # WhatsApp's limit on rows in one list message
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
BUTTON_TITLE_LIMIT = 20
BODY_LIMIT = 1024
IDLE_TIMEOUT = timedelta(minutes=30)
INDIA = timedelta(hours=5, minutes=30)  # dates a citizen reads are Indian dates
DATE_TYPES = frozenset({"date", "date_of_birth"})
HEARD_SURE = 0.45  # a transcript less sure than this is asked again, never guessed from
WRITTEN_IN = {"te": "te", "te_latn": "te", "hi": "hi", "en": "en"}  # how a text was written → the reply language


# ---------------------------------------------------------------- state, effects, outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationState:
    language: str | None = None
    screen: Screen = "start"
    department_id: str | None = None
    service_id: str | None = None
    page: int = 0
    last_active: datetime | None = None
    draft: dict[str, Any] | None = None  # a form being filled (see core.forms)
    results: tuple[str, ...] = ()  # service ids of the last search
    comment_on: str | None = None  # a reference just rated: the next text is a comment on it
    asked: str | None = None  # the free text whose candidate services are on screen (a pick teaches the router)
    voice_replies: bool = False  # key messages are also spoken, as voice notes in the citizen's language
    consented: str | None = None  # the consent notice (its version) the citizen accepted (core.privacy)
    held: dict[str, Any] | None = None  # a message waiting for that consent: {"text", "first": new citizen}

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "screen": self.screen,
            "department_id": self.department_id,
            "service_id": self.service_id,
            "page": self.page,
            "last_active": self.last_active.isoformat() if self.last_active else None,
            "draft": self.draft,
            "results": list(self.results),
            "comment_on": self.comment_on,
            "asked": self.asked,
            "voice_replies": self.voice_replies,
            "consented": self.consented,
            "held": self.held,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ConversationState:
        last_active = data.get("last_active")
        return ConversationState(
            language=data.get("language"),
            screen=data.get("screen", "start"),
            department_id=data.get("department_id"),
            service_id=data.get("service_id"),
            page=int(data.get("page", 0)),
            last_active=datetime.fromisoformat(last_active) if last_active else None,
            draft=data.get("draft"),
            results=tuple(data.get("results", ())),
            comment_on=data.get("comment_on"),
            asked=data.get("asked"),
            voice_replies=bool(data.get("voice_replies", False)),
            consented=data.get("consented"),
            held=data.get("held"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Learn:
    """The citizen picked `service_id` from the candidates of `text`: a phrasing to review as an alias."""

    text: str
    service_id: str
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rerank:
    """Several services fit `text`: ask the configured language model to pick among them (never more)."""

    text: str
    understood: Understanding


@dataclass(frozen=True, slots=True, kw_only=True)
class Reranked:
    """What the model made of it (`understood` unchanged when it gave no usable answer)."""

    text: str
    understood: Understanding


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrive:
    """A citizen came through a service's link or poster: counted by its source tag, for the dashboard."""

    service_id: str
    source: str | None
    language: str
    first: bool  # new to the platform


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrived:
    """Counted (nothing to tell the citizen)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcribe:
    """A voice note to turn into text (download, decode, transcribe), in the citizen's language."""

    media_id: str
    mime_type: str
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Heard:
    """What a voice note said, or why it could not be heard (`problem`: a `SpeechProblem` or media problem)."""

    transcript: Transcript | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Learned:
    """The phrasing is kept for review (nothing to tell the citizen)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit:
    """Store this application (and decide it at once when the service is instant)."""

    submission: Submission
    check_nearby: bool = False  # a grievance with a location: first look for an open one close by


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinGrievance:
    """ "Me too": attach this report to an open grievance nearby instead of opening a duplicate."""

    joined: str
    submission: Submission


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """Look up this citizen's applications: one by reference, or the latest ones."""

    reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """Turn on (or off) the holder's note each time this certificate of theirs is verified online."""

    number: str
    on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadCorrection:
    """Fetch what an officer asked this citizen to correct in an application of theirs."""

    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resubmit:
    """Send the corrected answers back to the officer."""

    reference: str
    answers: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """The citizen's rating of how their application was handled: 1 poor, 2 fair, 3 good."""

    reference: str
    score: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    """The citizen's words on an application they just rated."""

    reference: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerGrievance:
    """The citizen's answer to "is it fixed?" on a grievance an officer resolved."""

    reference: str
    fixed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeAlerts:
    """Opt in to alerts (`area` set) on a topic (None: every topic), or out of them (`area` None)."""

    topic: str | None
    area: str | None = None


Effect = (
    Submit
    | Track
    | Watch
    | LoadCorrection
    | Resubmit
    | Rate
    | Comment
    | AnswerGrievance
    | JoinGrievance
    | ChangeAlerts
    | Learn
    | Rerank
    | Transcribe
    | Arrive
    | RequestErasure
    | PrivacyEffect
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    reference: str
    service_id: str
    due_at: datetime
    decision: Decision | None = None  # instant services: decided at once
    amount_inr: int | None = None
    document: DocumentOut | None = None  # the certificate, receipt or pass issued at once
    payment: Outbound | None = None  # money due: the message with the link that pays it
    desk: str | None = None  # a reviewed application: the desk that holds it first
    direct: bool = False  # it went straight to a higher authority competent for its kind
    located: str | None = None  # the village or ward the shared location lies in, when it decided the desk


@dataclass(frozen=True, slots=True, kw_only=True)
class Tracked:
    asked: str | None
    applications: tuple[ApplicationView, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Watched:
    number: str
    on: bool
    found: bool  # False: no certificate of that number belongs to this citizen


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectionLoaded:
    reference: str
    service_id: str | None = None  # None: no application of theirs waits for a correction
    fields: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resubmitted:
    reference: str
    accepted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Rated:
    reference: str
    accepted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Commented:
    reference: str
    accepted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GrievanceAnswered:
    reference: str
    fixed: bool
    accepted: bool  # False: no grievance of theirs waits for this answer
    desk: str | None = None  # reopened: where it is now


@dataclass(frozen=True, slots=True, kw_only=True)
class NearbyFound:
    """An open grievance of the same kind lies close to the one being filed (nothing was stored)."""

    reference: str
    meters: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined:
    reference: str  # the citizen's own report
    joined: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertsChanged:
    topic: str | None
    area: str | None  # None: opted out


Outcome = (
    AlertsChanged
    | Submitted
    | Tracked
    | Watched
    | CorrectionLoaded
    | Resubmitted
    | Rated
    | Commented
    | GrievanceAnswered
    | NearbyFound
    | Joined
    | Learned
    | Reranked
    | Heard
    | Arrived
    | ErasureScheduled
    | PrivacyOutcome
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the engine reads besides the message: the catalogue, the texts, the places, the languages."""

    catalogue: Catalogue
    texts: Texts
    places: Jurisdictions | None = None
    languages: tuple[str, ...] = ("te", "en", "hi")
    idle_timeout: timedelta = IDLE_TIMEOUT
    index: ServiceIndex | None = field(default=None, compare=False)
    nearby_meters: int = 200  # "me too": how close an open grievance of the same kind must be
    own_numbers: tuple[str, ...] = ()  # the service's WhatsApp numbers (the scam guard vouches for these)
    own_hosts: tuple[str, ...] = ()  # and its web hosts
    router: Router | None = field(default=None, compare=False)  # the assistant; None: names and aliases only
    read_date: DateReader | None = field(default=None, compare=False)  # "repu", "కల్", "next Monday" as dates
    reranks: bool = False  # a language model re-ranks unclear candidates (the actions layer calls it)
    voice_seconds: int = 60  # the longest voice note transcribed (told to the citizen when longer)
    listens: bool = False  # voice notes are transcribed (a speech backend is configured)
    speaks: bool = False  # spoken replies can be made (a text-to-speech backend is configured)
    erasure_retention_days: int = 365  # personal data is kept this long after an erasure request (core.erasure)
    notice: str | None = None  # the consent notice in force (its version): accepted before anything else; None: none

    def named(self, text: str) -> Service | None:
        """The one service whose name or alias `text` is (filler words aside)."""
        return (self.index or ServiceIndex(self.catalogue)).exact(text)

    def search(self, text: str) -> list[Service]:
        """The service named exactly, else the best matches."""
        index = self.index or ServiceIndex(self.catalogue)
        exact = index.exact(text)
        return [exact] if exact else index.search(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    state: ConversationState
    replies: tuple[Outbound, ...]
    effects: tuple[Effect, ...] = ()


def rating_list(texts: Texts, language: str, reference: str) -> ListOut:
    """How was it, 5 (excellent) to 1 (very poor), as a list the citizen taps."""
    rows = tuple(
        ListRow(id=f"rate:{reference}:{score}", title=clip(texts.get(language, f"rating.{score}"), ROW_TITLE_LIMIT))
        for score in (5, 4, 3, 2, 1)
    )
    return ListOut(
        body=texts.get(language, "rating_ask"),
        button=clip(texts.get(language, "rating_button"), BUTTON_TITLE_LIMIT),
        sections=(ListSection(rows=rows),),
    )


def step(state: ConversationState, event: Inbound | Outcome, context: Context, now: datetime) -> Step:
    """Advance one citizen's conversation by one message (or by the outcome of an effect)."""
    if isinstance(event, ReactionIn | SystemIn):
        return Step(state=state, replies=())  # nothing to answer
    engine = _Engine(context, state, now)
    if isinstance(event, Outcome):
        return engine.finish(engine.outcome(event))
    if engine.awaits_consent():  # core.privacy: nothing of the citizen's is processed before consent
        return engine.finish(engine.consent_gate(event))
    if state.language is None:
        return engine.finish(engine.first_contact(event))
    if state.last_active is not None and now - state.last_active > context.idle_timeout:
        engine.say(engine.t("session_expired"))
        return engine.finish(engine.resume_or_menu())
    return engine.finish(engine.handle(event))


class _Engine:
    """One step's working memory: the state as it changes, the replies and effects gathered."""

    def __init__(self, context: Context, state: ConversationState, now: datetime) -> None:
        self.context = context
        self.state = state
        self.now = now
        self.replies: list[Outbound] = []
        self.effects: list[Effect] = []

    # ------------------------------------------------------------ helpers

    @property
    def language(self) -> str:
        return self.state.language or "en"

    @property
    def ui(self) -> Ui:
        return Ui(t=self.t, language=self.language, clip=clip, page_rows=self.page_rows)

    def t(self, key: str, /, **params: object) -> str:
        return self.context.texts.get(self.language, key, **params)

    def say(self, message: Outbound | str) -> None:
        self.replies.append(TextOut(body=clip(message, 4096)) if isinstance(message, str) else message)

    def finish(self, state: ConversationState) -> Step:
        return Step(
            state=replace(state, last_active=self.now), replies=tuple(self.replies), effects=tuple(self.effects)
        )

    def words(self, key: str) -> frozenset[str]:
        return frozenset(
            w.strip().casefold() for text in self.context.texts.variants(key) for w in text.split(",") if w.strip()
        )

    def local_date(self, moment: datetime) -> str:
        return (moment + INDIA).strftime("%d-%m-%Y")

    def button(self, choice_id: str, key: str) -> Button:
        return Button(id=choice_id, title=clip(self.t(key), BUTTON_TITLE_LIMIT))

    # ------------------------------------------------------------ dispatch

    def handle(self, inbound: Inbound) -> ConversationState:
        if (rights := self.rights_command(inbound)) is not None:  # "withdraw", "my data": at any point
            return rights
        if self.state.comment_on is not None:  # just rated: a text is the comment, anything else moves on
            reference, self.state = self.state.comment_on, replace(self.state, comment_on=None)
            if isinstance(inbound, TextIn) and inbound.body.strip():
                self.effects.append(Comment(reference=reference, text=inbound.body.strip()[:1000]))
                return self.state
            if isinstance(inbound, ChoiceIn) and inbound.choice_id == "comment:skip":
                self.say(self.t("rating_thanks", reference=reference))
                return self.state
        if isinstance(inbound, ChoiceIn):
            return self.choose(inbound.choice_id, inbound)
        if isinstance(inbound, MediaIn) and inbound.kind == "audio" and inbound.voice:
            if self.state.screen != "form":
                return self.listen(inbound)
            if not self.takes_voice():  # numbers such as Aadhaar or a PIN are never taken from speech
                self.say(self.t("voice.type_answer"))
                return self.ask_current()
        if self.state.screen == "form" and isinstance(inbound, MediaIn | LocationIn):
            return self.answer(_answer_of(inbound))
        if not isinstance(inbound, TextIn):
            self.say(self.t("cannot_read_this"))
            return self.state
        raw = inbound.body.strip()
        text = raw.casefold()
        first, _, rest = text.partition(" ")
        if inbound.forwarded and self.state.screen != "form":
            return self.check_message(raw)
        if self.state.screen != "form" and (linked := self.linked(raw, first=False)) is not None:
            return linked
        if self.state.screen not in ("form", "confirm") and (asked := self.alert_command(raw)) is not None:
            return asked
        if self.state.screen != "form" and (checked := self.check_words(raw)) is not None:
            return self.check_message(checked) if checked else self.say_how_to_check()
        if text in self.words("words.erase"):  # "delete my data": asked to confirm first
            self.say(erasure_question(self.context.texts, self.language, self.context.erasure_retention_days))
            return self.state
        if text in self.words("words.reset"):
            return self.show_departments(page=0)
        if text in self.words("words.language"):
            return self.ask_language()
        if text in self.words("words.help"):
            self.say(self.t("help"))
            return self.state
        if text in self.words("words.voice_on") | self.words("words.voice_off") and self.state.screen != "form":
            return self.voice_replies(on=text in self.words("words.voice_on"))
        if text in self.words("words.cancel") and self.state.draft is not None:
            return self.cancel_draft()
        if text in self.words("words.back"):
            return self.back()
        if first in self.words("words.track") and self.state.screen not in ("form",):
            return self.track(rest or None)
        if self.state.screen in ("form", "confirm") and first in self.words("words.edit") and rest:
            return self.edit_named(rest)
        if self.state.screen == "form":
            if text in self.words("words.skip"):
                return self.skip_field()
            return self.answer(raw)
        if self.state.screen == "confirm" and text in self.words("words.submit"):
            return self.submit()
        if self.state.screen == "language" and (chosen := self.language_named(text)) is not None:
            return self.choose(f"lang:{chosen}")
        number = int(text) if text.isdigit() else number_word(text)
        if number is not None:
            choice = self.numbered_choice(number)
            if choice is not None:
                return self.choose(choice)
        if self.context.router is not None:
            if (named := self.context.named(raw)) is not None:  # a service's own name or alias, exactly
                return self.show_service(named)
            return self.understand(raw, self.context.router.route(raw))
        if len(text) >= 3:
            return self.search(raw)
        self.say(self.t("not_understood"))
        return self.repeat_screen()

    def choose(self, choice_id: str, inbound: ChoiceIn | None = None) -> ConversationState:
        kind, _, value = choice_id.partition(":")
        catalogue = self.context.catalogue
        if kind == "lang" and value in self.context.languages:
            self.state = replace(self.state, language=value)
            self.say(self.t("language_set"))
            return self.resume_or_menu() if self.state.draft else self.show_departments(page=0)
        if kind == "dept" and catalogue.department(value) is not None:
            return self.show_services(value, page=0)
        if kind == "svc" and (service := catalogue.service(value)) is not None:
            if self.state.screen == "search" and self.state.asked and value in self.state.results:
                self.effects.append(Learn(text=self.state.asked, service_id=value, language=self.language))
                self.state = replace(self.state, asked=None)
            return self.show_service(service)
        if kind == "apply" and (service := catalogue.service(value)) is not None:
            return self.start(service)
        if self.state.screen == "form" and kind in ("answer", "place", "page"):
            return self.answer(value if kind == "answer" else choice_id, tapped=kind != "answer")
        if kind == "form":
            return self.form_action(value)
        if kind == "edit" and self.state.draft is not None:
            return self.edit_named(value)
        if kind == "page" and value.lstrip("-").isdigit():
            return self.turn_page(int(value))
        if kind == "track":
            return self.track(None)
        if kind == "privacy":
            return self.privacy_choice(value, inbound)
        if kind == "erase":
            return self.erase(confirmed=value == "yes")
        if kind == "voice":
            if value == "again":
                self.say(self.t("voice.say_again"))
                return self.state
            return self.voice_replies(on=value == "on")
        rated, _, score = value.rpartition(":")
        if kind == "rate" and score in ("1", "2", "3", "4", "5") and (reference := normalise_reference(rated)):
            self.effects.append(Rate(reference=reference, score=int(score)))
            return self.state
        answered, _, fixed = value.rpartition(":")
        if kind == "gfix" and fixed in ("yes", "no") and (reference := normalise_reference(answered)):
            self.effects.append(AnswerGrievance(reference=reference, fixed=fixed == "yes"))
            return self.state
        if kind == "metoo" and (reference := normalise_reference(value)):
            return self.join(reference)
        if kind == "fix" and (reference := normalise_reference(value)):
            self.effects.append(LoadCorrection(reference=reference))
            return self.state
        if kind == "alerts" and (switch := value.partition(":"))[0] in ("on", "off") and switch[2]:
            self.effects.append(Watch(number=switch[2], on=switch[0] == "on"))
            return self.state
        if kind == "nav":
            return self.back() if value == "back" else self.show_departments(page=0)
        if inbound is not None and self.state.screen == "form":
            return self.answer(inbound.title)
        self.say(self.t("not_understood"))
        return self.repeat_screen()

    # ------------------------------------------------------------ first contact and menus

    def first_contact(self, inbound: Inbound) -> ConversationState:
        """Before a language is chosen only a language choice is read (or a service's link followed);
        anything else is welcomed."""
        if isinstance(inbound, TextIn) and (linked := self.linked(inbound.body, first=True)) is not None:
            return linked
        if self.state.screen == "language":
            if isinstance(inbound, ChoiceIn) and inbound.choice_id.startswith("lang:"):
                return self.choose(inbound.choice_id)
            if isinstance(inbound, TextIn):
                text = inbound.body.strip().casefold()
                chosen = self.language_named(text)
                if chosen is None and text.isdigit() and 1 <= int(text) <= len(self.context.languages):
                    chosen = self.context.languages[int(text) - 1]
                if chosen is not None:
                    return self.choose(f"lang:{chosen}")
        if isinstance(inbound, TextIn) and self.context.router is not None:
            understood = self.context.router.route(inbound.body)
            language = WRITTEN_IN.get(understood.language)
            if understood.intent in ("apply", "ask") and language in self.context.languages:
                self.state = replace(self.state, language=language)
                return self.understand(inbound.body.strip(), understood)
        return self.welcome()

    def welcome(self) -> ConversationState:
        texts = self.context.texts
        self.say("\n\n".join(texts.get(lang, "welcome") for lang in ("te", "en")))
        return self.ask_language()

    def ask_language(self) -> ConversationState:
        texts = self.context.texts
        buttons = tuple(
            Button(id=f"lang:{lang}", title=clip(texts.get(lang, "language_name"), BUTTON_TITLE_LIMIT))
            for lang in self.context.languages[:3]
        )
        prompt = "\n".join(texts.get(lang, "choose_language") for lang in ("te", "en"))
        self.say(ButtonsOut(body=prompt, buttons=buttons))
        return replace(self.state, screen="language", page=0)

    def show_departments(self, page: int) -> ConversationState:
        departments = self.context.catalogue.departments
        rows, page = self.paged_rows([self.department_row(d) for d in departments], page, back_row=False)
        self.say(
            ListOut(
                body=self.t("departments_prompt"),
                button=clip(self.t("departments_button"), BUTTON_TITLE_LIMIT),
                sections=(ListSection(rows=rows),),
                footer=clip(self.t("menu_footer"), 60),
            )
        )
        return replace(self.state, screen="departments", department_id=None, service_id=None, page=page)

    def show_services(self, department_id: str, page: int) -> ConversationState:
        catalogue = self.context.catalogue
        department = catalogue.department(department_id)
        assert department is not None  # the callers checked
        services = catalogue.services_of(department_id)
        rows, page = self.paged_rows([self.service_row(s) for s in services], page, back_row=True)
        self.say(
            ListOut(
                body=self.t("services_prompt", department=department.name(self.language)),
                button=clip(self.t("services_button"), BUTTON_TITLE_LIMIT),
                sections=(ListSection(rows=rows),),
                footer=clip(self.t("menu_footer"), 60),
            )
        )
        return replace(self.state, screen="services", department_id=department_id, service_id=None, page=page)

    def fee_text(self, service: Service, answers: dict[str, Any] | None = None) -> str:
        fee = service.fee
        if fee.is_free:
            return self.t("fee_free")
        if fee.kind == "fixed":
            return self.t("fee_rupees", amount=fee.amount_inr)
        if fee.kind == "per_unit":
            amount = fee_amount(fee, answers or {})
            unit = fee.unit.get(self.language) or fee.unit.get("en", "")
            each = self.t("fee_per_unit", amount=fee.amount_inr, unit=unit)
            return each if amount is None else f"{self.t('fee_rupees', amount=amount)} ({each})"
        known = fee_amount(fee, answers or {})
        return self.t("fee_rupees", amount=f"{known:,}") if known is not None else self.t(f"fee_rule.{fee.rule}")

    def sla_text(self, service: Service) -> str:
        if service.sla.minutes is not None:
            return self.t("sla_minutes", minutes=service.sla.minutes)
        days = service.sla.days or 0
        if days == 0:
            return self.t("sla_instant")
        return self.t("sla_one_day") if days == 1 else self.t("sla_days", days=days)

    def show_service(self, service: Service) -> ConversationState:
        lang = self.language
        lines = [f"*{service.name(lang)}*", service.description(lang), ""]
        lines.append(f"{self.t('fee_label')}: {self.fee_text(service)}")
        lines.append(f"{self.t('time_label')}: {self.sla_text(service)}")
        if service.documents:
            lines += ["", self.t("documents_label")]
            lines += [f"• {d.get(lang) or d.get('en', '')}" for d in service.documents]
        if service.eligibility:
            lines += [
                "",
                f"{self.t('eligibility_label')}: {service.eligibility.get(lang) or service.eligibility.get('en')}",
            ]
        draft = self.state.draft
        continuing = draft is not None and draft["service"] == service.id
        first = self.button(
            f"form:{'continue' if continuing else 'start'}", "button_continue" if continuing else "button_apply"
        )
        if service.output.kind == "information" and not service.fields:
            first = self.button(f"apply:{service.id}", "button_answer")
        elif service.delivery.kind == "instant" and not continuing:
            first = self.button("form:start", "button_check")
        self.say(
            ButtonsOut(
                body=clip("\n".join(lines).strip(), BODY_LIMIT),
                buttons=(first, self.button("nav:back", "button_back"), self.button("nav:menu", "button_menu")),
            )
        )
        self.speak("\n".join(lines))
        return replace(self.state, screen="service", department_id=service.department_id, service_id=service.id)

    def understand(self, raw: str, understood: Understanding, *, reranked: bool = False) -> ConversationState:
        """Free text, as the assistant understood it: a service, a question about one, or an intent."""
        intent, catalogue = understood.intent, self.context.catalogue
        services = [s for c in understood.candidates if (s := catalogue.service(c.service_id)) is not None]
        if intent == "track":
            return self.track(understood.reference)
        if intent in ("apply", "ask") and services:
            if self.context.reranks and not reranked and not understood.clear and len(services) > 1:
                self.effects.append(Rerank(text=raw, understood=understood))
                return self.state
            if understood.clear or len(services) == 1:
                if intent == "ask" and understood.ask is not None:
                    return self.answer_about(services[0], understood.ask)
                return self.show_service(services[0])
            return self.offer(services, asked=raw)
        if intent == "greeting":
            self.say(self.t("nlu.greeting"))
            return self.show_departments(page=0)
        if intent == "thanks":
            self.say(self.t("nlu.thanks"))
            return self.state
        if intent == "language":
            return self.ask_language()
        if intent == "human":
            self.say(self.t("nlu.human"))
            return self.state
        self.say(self.t("nlu.not_understood"))
        return self.show_departments(page=0)

    def linked(self, text: str, *, first: bool) -> ConversationState | None:
        """A service's link or poster followed ("Income certificate #INC@kurnool-ws-12", however edited
        around its marker): that service, in the language the text is written in for a new citizen."""
        marker = marker_in(text)
        service = self.context.catalogue.service_by_code(marker.code) if marker else None
        if marker is None or service is None:
            return None
        if first:
            script = script_language(text)
            language = script if script in self.context.languages else self.context.languages[0]
            self.state = replace(self.state, language=language)
        self.effects.append(Arrive(service_id=service.id, source=marker.source, language=self.language, first=first))
        return self.show_service(service)

    # ------------------------------------------------------------ voice

    def listen(self, note: MediaIn) -> ConversationState:
        """A voice note outside a form: the worker transcribes it, then it is understood like text."""
        if not self.context.listens:
            self.say(self.t("voice.unavailable"))
            return self.state
        self.effects.append(
            Transcribe(media_id=note.media_id, mime_type=note.mime_type or "audio/ogg", language=self.language)
        )
        return self.state

    def takes_voice(self) -> bool:
        """Whether the question now asked takes a voice note as its answer (a grievance's description)."""
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None:
            return False
        spec = service.fields[draft["index"]]
        return spec.type == "text" and bool(spec.rules.get("voice"))

    def heard(self, event: Heard) -> ConversationState:
        """ "I heard: …", then the service to confirm (or a short list); unclear speech is asked again."""
        again, menu = self.button("voice:again", "voice.button_again"), self.button("nav:menu", "button_menu")
        said = event.transcript
        if said is None:
            self.say(self.t(f"voice.{event.problem or 'unavailable'}", seconds=self.context.voice_seconds))
            return self.state
        text = " ".join(said.text.split())
        if not text or said.confidence < HEARD_SURE:
            self.say(ButtonsOut(body=self.t("voice.unclear"), buttons=(again, menu)))
            return self.state
        heard = self.t("voice.heard", text=clip(text, 300))
        router = self.context.router
        if router is None:
            self.say(heard)
            return self.search(text)
        understood = router.route(text)
        catalogue = self.context.catalogue
        services = [s for c in understood.candidates if (s := catalogue.service(c.service_id)) is not None]
        if understood.intent in ("apply", "ask") and services and (understood.clear or len(services) == 1):
            name = services[0].name(self.language)
            yes = Button(id=f"svc:{services[0].id}", title=clip(self.t("voice.button_yes"), BUTTON_TITLE_LIMIT))
            body = f"{heard}\n{self.t('voice.is_it', service=name)}"
            self.say(ButtonsOut(body=clip(body, BODY_LIMIT), buttons=(yes, again, menu)))
            return self.state
        self.say(heard)
        return self.understand(text, understood)

    def voice_replies(self, *, on: bool) -> ConversationState:
        if on and not self.context.speaks:
            self.say(self.t("voice.replies_unavailable"))
            return self.state
        self.say(self.t("voice.replies_on" if on else "voice.replies_off"))
        return replace(self.state, voice_replies=on)

    def speak(self, text: str) -> None:
        """A key message (what a service needs, a status, an outcome) also as a voice note, when asked for."""
        if self.state.voice_replies and self.context.speaks:
            self.replies.append(SpeechOut(text=spoken(text), language=self.language))

    def answer_about(self, service: Service, ask: Ask) -> ConversationState:
        """A question about a service, answered from the catalogue's own facts, then its one-tap start."""
        lang = self.language
        written = service.faq.get(ask, {})
        fact = written.get(lang) or written.get("en") or self.fact_about(service, ask)
        if not fact:
            return self.show_service(service)
        body = f"*{service.name(lang)}*\n{self.t(f'nlu.ask.{ask}')}: {fact}"
        apply = self.button(f"svc:{service.id}", "button_more")
        self.say(ButtonsOut(body=clip(body, BODY_LIMIT), buttons=(apply, self.button("nav:menu", "button_menu"))))
        return replace(self.state, screen="service", department_id=service.department_id, service_id=service.id)

    def fact_about(self, service: Service, ask: Ask) -> str:
        """What the service's definition says on `ask` where its FAQ says nothing ("" for the office)."""
        lang = self.language
        if ask == "fee":
            return self.fee_text(service)
        if ask == "time":
            return self.sla_text(service)
        if ask == "documents":
            listed = "\n".join(f"• {d.get(lang) or d.get('en', '')}" for d in service.documents)
            return listed or self.t("nlu.no_documents")
        if ask == "eligibility":
            return service.eligibility.get(lang) or service.eligibility.get("en", "")
        return ""

    def offer(self, services: list[Service], *, asked: str) -> ConversationState:
        """Several services fit: the best few as a list to pick from (the pick teaches the router)."""
        rows = tuple(self.service_row(s) for s in services[:ROWS_PER_LIST])
        self.say(
            ListOut(
                body=self.t("nlu.candidates"),
                button=clip(self.t("services_button"), BUTTON_TITLE_LIMIT),
                sections=(ListSection(rows=rows),),
            )
        )
        shown = tuple(s.id for s in services[:ROWS_PER_LIST])
        return replace(self.state, screen="search", results=shown, page=0, asked=asked[:200])

    def search(self, text: str) -> ConversationState:
        found = self.context.search(text)
        if not found:
            self.say(self.t("not_understood"))
            return self.repeat_screen()
        if len(found) == 1:
            return self.show_service(found[0])
        rows = tuple(self.service_row(s) for s in found[:ROWS_PER_LIST])
        self.say(
            ListOut(
                body=self.t("search_results"),
                button=clip(self.t("services_button"), BUTTON_TITLE_LIMIT),
                sections=(ListSection(rows=rows),),
            )
        )
        return replace(self.state, screen="search", results=tuple(s.id for s in found[:ROWS_PER_LIST]), page=0)

    def repeat_screen(self) -> ConversationState:
        screen = self.state.screen
        if screen == "language":
            return self.ask_language()
        if screen == "services" and self.state.department_id:
            return self.show_services(self.state.department_id, self.state.page)
        if screen == "service" and self.state.service_id:
            service = self.context.catalogue.service(self.state.service_id)
            if service is not None:
                return self.show_service(service)
        if screen in ("form", "confirm") and self.state.draft is not None:
            return self.ask_current()
        return self.show_departments(self.state.page if screen == "departments" else 0)

    def back(self) -> ConversationState:
        screen, draft = self.state.screen, self.state.draft
        if screen == "form" and draft is not None:
            if draft.get("place"):
                return self.ask_current(replace(self.state, draft={**draft, "place": {}}))
            if draft["index"] > 0:
                return self.ask_current(replace(self.state, draft={**draft, "index": draft["index"] - 1}))
        if screen in ("form", "confirm") and draft is not None:
            service = self.context.catalogue.service(draft["service"])
            if service is not None:
                return self.show_service(service)
        if screen == "service" and self.state.department_id:
            return self.show_services(self.state.department_id, page=0)
        return self.show_departments(page=0)

    def turn_page(self, page: int) -> ConversationState:
        if self.state.screen == "services" and self.state.department_id:
            return self.show_services(self.state.department_id, page)
        return self.show_departments(page)

    # ------------------------------------------------------------ the form

    def service_of_draft(self) -> Service | None:
        draft = self.state.draft
        return self.context.catalogue.service(draft["service"]) if draft else None

    def start(self, service: Service) -> ConversationState:
        if service.output.kind == "information" and not service.fields:
            return self.inform(service)
        if not service.fields:
            return self.confirm(replace(self.state, draft=new_draft(service)))
        self.say(self.t("form_intro", service=service.name(self.language), count=len(service.fields)))
        return self.ask_current(replace(self.state, draft=new_draft(service)))

    def inform(self, service: Service) -> ConversationState:
        lang = self.language
        lines = [f"*{service.name(lang)}*", service.description(lang)]
        lines += [answer.get(lang) or answer.get("en", "") for answer in service.faq.values()]
        self.say(
            ButtonsOut(
                body=clip("\n\n".join(line for line in lines if line), BODY_LIMIT),
                buttons=(self.button("nav:back", "button_back"), self.button("nav:menu", "button_menu")),
            )
        )
        return replace(self.state, screen="service", service_id=service.id, department_id=service.department_id)

    def ask_current(self, state: ConversationState | None = None) -> ConversationState:
        state = state or self.state
        self.state = state
        service = self.service_of_draft()
        draft = state.draft
        if service is None or draft is None:  # the service left the catalogue since the draft began
            self.say(self.t("form_service_gone"))
            return self.show_departments(page=0)
        if draft["index"] >= len(service.fields):
            return self.confirm(state)
        for message in question(service, draft, self.ui, self.context.places):
            self.say(message)
        return replace(state, screen="form", service_id=service.id)

    def answer(self, given: Answer, *, tapped: bool = False) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None:
            return self.ask_current()
        spec = service.fields[draft["index"]]
        places = self.context.places
        if spec.type in PICKER_TYPES and places is not None and isinstance(given, str):
            choice = given if tapped else None
            moved = pick_place(spec, draft, choice, None if tapped else given, places)
            if moved.problem:
                self.say(self.t(moved.problem))
                return self.ask_current()
            if moved.place is not None:
                return self.ask_current(replace(self.state, draft={**draft, "place": moved.place}))
            given = moved.answer if moved.answer is not None else given
        today = (self.now + INDIA).date()
        result = validate(spec, given, today=today, language=self.language)
        reader = self.context.read_date
        if isinstance(result, Invalid) and spec.type in DATE_TYPES and isinstance(given, str) and reader:
            lean: Lean = "past" if spec.type == "date_of_birth" or spec.rules.get("past_only") else "future"
            if (day := reader(given, today, lean)) is not None:  # "repu", "next Monday"
                result = validate(spec, day.strftime("%d-%m-%Y"), today=today, language=self.language)
        if isinstance(result, Invalid):
            self.say(self.t(f"invalid.{result.code}", **result.params))
            return self.ask_current()
        if spec.type in PICKER_TYPES and places is not None:
            result = Valid(value=result.value, display=self.place_names(given))
        if (limit := photo_limit(spec)) > 1:
            return self.more_photos(spec, draft, result, limit)
        draft = store(draft, spec, result)
        return self.next_question(draft)

    def more_photos(self, spec: FieldSpec, draft: dict[str, Any], photo: Valid, limit: int) -> ConversationState:
        """One more photo of a field that takes several: the next is asked for until the limit or Done."""
        kept = draft["answers"].get(spec.id)
        photos = [*(kept if isinstance(kept, list) else []), photo.value][:limit]
        draft = store(draft, spec, Valid(value=photos, display=self.t("photos_shown", n=len(photos))))
        if len(photos) >= limit:
            return self.next_question(draft)
        done = self.button("form:photos_done", "button_photos_done")
        self.say(ButtonsOut(body=self.t("photo_more", n=len(photos), max=limit), buttons=(done,)))
        return replace(self.state, draft=draft)

    def photos_given(self) -> bool:
        """The current question takes several photos and has at least one."""
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None or draft["index"] >= len(service.fields):
            return False
        spec = service.fields[draft["index"]]
        return photo_limit(spec) > 1 and bool(draft["answers"].get(spec.id))

    def place_names(self, given: Answer) -> str:
        """A picked place as names the citizen reads: village, mandal, district."""
        places = self.context.places
        ids = [given.village, given.mandal, given.district] if isinstance(given, PlaceAnswer) else [str(given)]
        names = []
        for place_id in ids:
            place = places.get(place_id) if places else None
            names.append(place.name(self.language) if place else place_id.rpartition("~")[2])
        return ", ".join(names)

    def next_question(self, draft: dict[str, Any]) -> ConversationState:
        if draft.get("correcting"):
            return self.next_correction(draft)
        if draft.get("editing"):
            return self.confirm(
                replace(self.state, draft={**draft, "editing": False, "index": _end(self.service_of_draft())})
            )
        return self.ask_current(replace(self.state, draft={**draft, "index": draft["index"] + 1}))

    def skip_field(self) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None:
            return self.ask_current()
        spec = service.fields[draft["index"]]
        if self.photos_given():  # "skip" after some photos: done with them
            return self.next_question(draft)
        if spec.required:
            self.say(self.t("cannot_skip"))
            return self.ask_current()
        return self.next_question(skip(draft, spec))

    def confirm(self, state: ConversationState) -> ConversationState:
        self.state = state
        service, draft = self.service_of_draft(), state.draft
        if service is None or draft is None:  # the service left the catalogue since the draft began
            self.say(self.t("form_service_gone"))
            return self.show_departments(page=0)
        for message in summary(service, draft, self.ui, self.fee_text(service, draft["answers"])):
            self.say(message)
        return replace(state, screen="confirm")

    def form_action(self, action: str) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if action == "start" and self.state.service_id:
            chosen = self.context.catalogue.service(self.state.service_id)
            if chosen is not None:
                return self.start(chosen)
        if draft is None or service is None:
            return self.show_departments(page=0)
        if action == "continue":
            return self.ask_current()
        if action == "photos_done" and self.photos_given():
            return self.next_question(draft)
        if action == "restart":
            return self.start(service)
        if action == "cancel":
            return self.cancel_draft()
        if action == "edit":
            self.say(edit_menu(service, self.ui))
            return replace(self.state, screen="confirm")
        if action == "submit" and self.state.screen == "confirm":
            return self.submit()
        if action == "own" and draft.get("nearby"):
            self.state = replace(self.state, draft={**draft, "own": True})
            return self.submit()
        return self.repeat_screen()

    def edit_named(self, name: str) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None:
            return self.repeat_screen()
        index = next((i for i, f in enumerate(service.fields) if f.id == name), None)
        if index is None:
            index = field_to_edit(service, name, self.ui)
        if index is None:
            self.say(self.t("edit_unknown"))
            return self.repeat_screen()
        if photo_limit(service.fields[index]) > 1:  # the photos are taken again from the first
            draft = skip(draft, service.fields[index])
        return self.ask_current(replace(self.state, draft={**draft, "index": index, "editing": True, "place": {}}))

    def cancel_draft(self) -> ConversationState:
        self.say(self.t("form_cancelled"))
        self.state = replace(self.state, draft=None)
        return self.show_departments(page=0)

    def submit(self) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None:
            return self.repeat_screen()
        if service.delivery.registry == "applications":  # "track" services: a lookup, not an application
            reference = str(draft["answers"].get("reference_number", ""))
            self.state = replace(self.state, draft=None)
            return self.track(reference)
        submission = self.submission(service, draft)
        if service.output.kind == "grievance_ticket" and not draft.get("own") and shared_location(draft["answers"]):
            self.effects.append(Submit(submission=submission, check_nearby=True))
            return self.state  # the draft stays until it is stored, or joins one nearby
        self.effects.append(Submit(submission=submission))
        self.say(self.t("submitting"))
        return replace(self.state, draft=None, screen="service")

    def submission(self, service: Service, draft: dict[str, Any]) -> Submission:
        return Submission(
            service_id=service.id,
            service_version=draft["version"],
            definition_hash=draft["hash"],
            language=self.language,
            answers=dict(draft["answers"]),
        )

    def nearby(self, event: NearbyFound) -> ConversationState:
        """Offer to join the open grievance close by, or to file one's own."""
        join = self.button(f"metoo:{event.reference}", "button_me_too")
        own = self.button("form:own", "button_file_own")
        self.say(
            ButtonsOut(body=self.t("nearby_found", reference=event.reference, meters=event.meters), buttons=(join, own))
        )
        return replace(self.state, draft={**(self.state.draft or {}), "nearby": event.reference})

    def join(self, reference: str) -> ConversationState:
        service, draft = self.service_of_draft(), self.state.draft
        if service is None or draft is None or draft.get("nearby") != reference:
            self.say(self.t("not_understood"))
            return self.repeat_screen()
        self.effects.append(JoinGrievance(joined=reference, submission=self.submission(service, draft)))
        self.say(self.t("submitting"))
        return replace(self.state, draft=None, screen="service")

    def alert_command(self, raw: str) -> ConversationState | None:
        """Opting in to or out of alerts in words ("weather alerts Nunna", "stop alerts"), or None."""
        command = parse_alert_command(raw, self.context.texts, self.language)
        if command is None:
            return None
        if isinstance(command, Unsubscribe):
            self.effects.append(ChangeAlerts(topic=command.topic))
            return self.state
        if command.area is None:
            self.say(self.t("alerts.ask_area"))
            return self.state
        places = self.context.places
        area = resolve_area(command.area, self.context.texts, places) if places is not None else None
        if area is None:
            self.say(self.t("alerts.area_not_found", words=command.area))
            return self.state
        self.effects.append(ChangeAlerts(topic=command.topic, area=area))
        return self.state

    def check_words(self, raw: str) -> str | None:
        """The text after a "check" word ("" when nothing follows), or None when it is not a check."""
        text = raw.casefold()
        for word in sorted(self.words("words.check"), key=len, reverse=True):
            if text == word or text.startswith((word + " ", word + ":")):
                return raw[len(word) :].lstrip(" :").strip()
        return None

    def check_message(self, text: str) -> ConversationState:
        """The scam guard's answer on a forwarded or pasted message."""
        found = assess(text, numbers=self.context.own_numbers, hosts=self.context.own_hosts)
        if found.verdict == "suspicious":
            reasons = "\n".join(self.t(f"scam.reason.{f}") for f in found.findings)
            self.say(self.t("scam.suspicious", reasons=reasons))
        elif found.verdict == "ours":
            self.say(self.t("scam.ours"))
        else:
            number = self.context.own_numbers[0] if self.context.own_numbers else ""
            host = self.context.own_hosts[0] if self.context.own_hosts else ""
            self.say(self.t("scam.unknown", number=number, host=host))
        return self.state

    def say_how_to_check(self) -> ConversationState:
        self.say(self.t("scam.how"))
        return self.state

    def correct(self, event: CorrectionLoaded) -> ConversationState:
        """An officer returned an application: ask exactly the fields they named, one by one."""
        service = self.context.catalogue.service(event.service_id) if event.service_id else None
        wanted = [f for f in event.fields if service is not None and service.form_field(f) is not None]
        if service is None or not wanted:
            self.say(self.t("correction_not_found", reference=event.reference))
            return self.state
        first = next(i for i, f in enumerate(service.fields) if f.id == wanted[0])
        draft = {**new_draft(service), "index": first, "correcting": event.reference, "fix": wanted}
        self.say(self.t("correction_intro", reference=event.reference, message=event.message or "-"))
        return self.ask_current(replace(self.state, draft=draft, service_id=service.id))

    def next_correction(self, draft: dict[str, Any]) -> ConversationState:
        service = self.service_of_draft()
        fix: list[str] = draft["fix"]
        current = service.fields[draft["index"]].id if service else ""
        later = fix[fix.index(current) + 1 :] if current in fix else []
        if service is not None and later:
            index = next(i for i, f in enumerate(service.fields) if f.id == later[0])
            return self.ask_current(replace(self.state, draft={**draft, "index": index}))
        answers = {k: v for k, v in draft["answers"].items() if k in fix}
        self.effects.append(Resubmit(reference=draft["correcting"], answers=answers))
        self.say(self.t("submitting"))
        return replace(self.state, draft=None, screen="service")

    def resume_or_menu(self) -> ConversationState:
        service = self.service_of_draft()
        if service is None:
            return self.show_departments(page=0)
        self.say(
            ButtonsOut(
                body=self.t("draft_waiting", service=service.name(self.language)),
                buttons=(
                    self.button("form:continue", "button_continue"),
                    self.button("form:restart", "button_restart"),
                    self.button("nav:menu", "button_menu"),
                ),
            )
        )
        return replace(self.state, screen="service", service_id=service.id)

    def erase(self, *, confirmed: bool) -> ConversationState:
        """The citizen's answer to "delete my data?": the request recorded, or nothing done."""
        if confirmed:
            self.effects.append(RequestErasure())
        else:
            self.say(self.t("erasure.not_asked"))
        return self.state

    # ------------------------------------------------------------ consent and data rights (core.privacy)

    def awaits_consent(self) -> bool:
        return awaits_consent(self.state.consented, self.context.notice)

    def consent_gate(self, inbound: Inbound) -> ConversationState:
        """Until the citizen accepts the notice in force nothing of theirs is processed: a language is
        chosen, the notice shown, its buttons and the data-rights words read; a text waits for consent."""
        if (rights := self.rights_command(inbound)) is not None:
            return rights
        if isinstance(inbound, ChoiceIn) and inbound.choice_id.startswith("privacy:"):
            return self.privacy_choice(inbound.choice_id.removeprefix("privacy:"), inbound)
        if self.erasure_asked(inbound):  # a right too: it needs no consent
            return self.handle(inbound)
        language, held = self.notice_language(inbound)
        if language is None:
            return self.welcome()
        self.state = replace(self.state, language=language, held=held or self.state.held)
        return self.show_notice()

    def erasure_asked(self, inbound: Inbound) -> bool:
        """ "Delete my data", or the answer to its question."""
        if isinstance(inbound, ChoiceIn):
            return inbound.choice_id.startswith("erase:")
        return isinstance(inbound, TextIn) and inbound.body.strip().casefold() in self.words("words.erase")

    def notice_language(self, inbound: Inbound) -> tuple[str | None, dict[str, Any] | None]:
        """The language to show the notice in, and the text to act on once it is accepted. A new citizen's
        first text is kept only when it says what they came for (a service's link, a request)."""
        languages, current = self.context.languages, self.state.language
        kind, _, value = inbound.choice_id.partition(":") if isinstance(inbound, ChoiceIn) else ("", "", "")
        if kind == "lang" and value in languages:
            return value, None
        if not isinstance(inbound, TextIn) or not (raw := inbound.body.strip()):
            return current, None
        text, marker = raw.casefold(), marker_in(raw)
        if current is None and marker and self.context.catalogue.service_by_code(marker.code):
            script = script_language(raw)
            return (script if script in languages else languages[0]), {"text": raw[:HELD_LIMIT], "first": True}
        if self.state.screen == "language":
            chosen = self.language_named(text)
            if chosen is None and text.isdigit() and 1 <= int(text) <= len(languages):
                chosen = languages[int(text) - 1]
            if chosen is not None:
                return chosen, None
        if current is not None:
            return current, {"text": raw[:HELD_LIMIT], "first": False}
        if self.context.router is not None:
            understood = self.context.router.route(raw)
            language = WRITTEN_IN.get(understood.language)
            if understood.intent in ("apply", "ask") and language in languages:
                return language, {"text": raw[:HELD_LIMIT], "first": True}
        return None, None

    def show_notice(self) -> ConversationState:
        """The notice in force, in the citizen's language, to accept or decline (naming the service a new
        citizen's link asked for)."""
        held, body = self.state.held, self.t("privacy.notice", version=self.context.notice)
        marker = marker_in(str(held["text"])) if held and held.get("first") else None
        service = self.context.catalogue.service_by_code(marker.code) if marker else None
        if service is not None:
            body = f"{self.t('privacy.notice_for', service=service.name(self.language))}\n\n{body}"
        accept = self.button(f"privacy:accept:{self.context.notice}", "privacy.button_accept")
        decline = self.button("privacy:decline", "privacy.button_decline")
        self.say(ButtonsOut(body=clip(body, BODY_LIMIT), buttons=(accept, decline)))
        return replace(self.state, screen="start") if self.state.screen == "language" else self.state

    def show_rights(self) -> ConversationState:
        """The notice again for a citizen who accepted it, with their rights as buttons."""
        body = f"{self.t('privacy.notice', version=self.context.notice)}\n\n{self.t('privacy.consented')}"
        buttons = (
            self.button("privacy:my_data", "privacy.button_my_data"),
            self.button("privacy:who_saw", "privacy.button_who_saw"),
            self.button("privacy:withdraw", "privacy.button_withdraw"),
        )
        self.say(ButtonsOut(body=clip(body, BODY_LIMIT), buttons=buttons))
        return self.state

    def rights_command(self, inbound: Inbound) -> ConversationState | None:
        """ "withdraw", "my data", "who saw my data" or "privacy", in any language, or None."""
        found = command_in(inbound.body, self.context.texts) if isinstance(inbound, TextIn) else None
        if found is None:
            return None
        command, language = found
        if self.state.language is None and language in self.context.languages:
            self.state = replace(self.state, language=language)
        return self.privacy_choice(command, inbound)

    def privacy_choice(self, value: str, inbound: Inbound | None) -> ConversationState:
        name, _, version = value.partition(":")
        if name == "accept" and self.awaits_consent() and inbound is not None:
            return self.accept_notice(inbound, version)
        if name == "decline" and self.awaits_consent():
            return self.decline_notice()
        if name == "withdraw":
            return self.withdraw()
        if name == "my_data":
            self.effects.append(ExportData(language=self.language))
            return self.state
        if name == "who_saw":
            self.effects.append(ListAccesses())
            return self.state
        if name == "privacy" and self.context.notice is not None:
            return self.show_notice() if self.awaits_consent() else self.show_rights()
        return self.repeat_screen()

    def accept_notice(self, inbound: Inbound, version: str) -> ConversationState:
        """Consent to exactly the notice shown: a button of an older notice shows the one in force."""
        notice = self.context.notice
        if notice is None or version != notice or self.state.language is None:
            return self.welcome() if self.state.language is None else self.show_notice()
        held = self.state.held
        self.state = replace(self.state, consented=notice, held=None)
        self.effects.append(RecordConsent(notice=notice, language=self.language))
        self.say(self.t("privacy.accepted", version=notice))
        if held:
            text = TextIn(
                message_id=inbound.message_id, sender=inbound.sender, sent_at=inbound.sent_at, body=str(held["text"])
            )
            return self.first_contact(text) if held.get("first") else self.handle(text)
        return self.resume_or_menu() if self.state.draft else self.show_departments(page=0)

    def decline_notice(self) -> ConversationState:
        """Not now: nothing is processed; a citizen who accepted an earlier notice withdraws that consent."""
        if self.state.consented is not None:
            return self.withdraw()
        self.say(self.t("privacy.declined"))
        return replace(self.state, held=None)

    def withdraw(self) -> ConversationState:
        """Consent withdrawn: the draft and any waiting message are dropped, the next message shows the notice."""
        if self.state.consented is None:
            self.say(self.t("privacy.not_consented"))
            return replace(self.state, held=None)
        self.effects.append(WithdrawConsent())
        return replace(
            self.state, consented=None, held=None, draft=None, comment_on=None, asked=None, results=(), screen="start"
        )

    def privacy_outcome(self, event: PrivacyOutcome) -> ConversationState:
        if isinstance(event, ConsentWithdrawn):
            kept = ", ".join(event.kept)
            extra = f"\n\n{self.t('privacy.withdrawn_kept', references=kept)}" if kept else ""
            self.say(self.t("privacy.withdrawn") + extra)
        elif isinstance(event, DataExported):
            if event.problem is not None:
                self.say(self.t(f"privacy.export_{event.problem}"))
                return self.state
            for document in event.documents:
                self.say(document)
            self.say(self.t("privacy.exported"))
        elif isinstance(event, AccessesListed):
            places, catalogue = self.context.places, self.context.catalogue
            self.say(accesses_text(event, self.context.texts, self.language, places, catalogue))
        return self.state

    # ------------------------------------------------------------ tracking and outcomes

    def track(self, typed: str | None) -> ConversationState:
        reference = normalise_reference(typed) if typed else None
        if typed and reference is None:
            self.say(self.t("track_bad_reference"))
            return self.state
        self.effects.append(Track(reference=reference))
        return self.state

    def outcome(self, event: Outcome) -> ConversationState:
        if isinstance(event, Tracked):
            return self.tracked(event)
        if isinstance(event, PrivacyOutcome):
            return self.privacy_outcome(event)
        if isinstance(event, ErasureScheduled):
            days = self.context.erasure_retention_days
            self.say(erasure_answer(self.context.texts, self.language, event, days, self.local_date))
            return self.state
        if isinstance(event, Watched):
            return self.watched(event)
        if isinstance(event, CorrectionLoaded):
            return self.correct(event)
        if isinstance(event, Rated):
            if not event.accepted:
                self.say(self.t("not_understood"))
                return self.state
            skip = self.button("comment:skip", "button_skip_comment")
            self.say(ButtonsOut(body=self.t("rating_comment_ask"), buttons=(skip,)))
            return replace(self.state, comment_on=event.reference)
        if isinstance(event, AlertsChanged):
            if event.area is None:
                self.say(unsubscribed_text(self.context.texts, self.language, event.topic))
            else:
                places = self.context.places
                name = area_name(self.context.texts, places, event.area, self.language) if places else event.area
                self.say(subscribed_text(self.context.texts, self.language, event.topic, name))
            return self.state
        if isinstance(event, NearbyFound):
            return self.nearby(event)
        if isinstance(event, Joined):
            self.say(self.t("joined", reference=event.reference, joined=event.joined))
            return replace(self.state, draft=None)
        if isinstance(event, GrievanceAnswered):
            if not event.accepted:
                self.say(self.t("grievance_not_waiting", reference=event.reference))
            elif event.fixed:
                self.say(self.t("grievance_closed", reference=event.reference))
                self.say(rating_list(self.context.texts, self.language, event.reference))
            else:
                role = self.t(f"role.{(event.desk or '').partition('@')[0]}")
                self.say(self.t("grievance_reopened", reference=event.reference, role=role))
            return self.state
        if isinstance(event, Learned):
            return self.state
        if isinstance(event, Reranked):
            return self.understand(event.text, event.understood, reranked=True)
        if isinstance(event, Heard):
            return self.heard(event)
        if isinstance(event, Arrived):
            return self.state
        if isinstance(event, Commented):
            self.say(self.t("rating_comment_thanks", reference=event.reference))
            return self.state
        if isinstance(event, Resubmitted):
            self.say(self.t("correction_sent" if event.accepted else "correction_refused", reference=event.reference))
            return self.state
        self.state = replace(self.state, draft=None, screen="service")  # stored: a kept draft is done with
        service = self.context.catalogue.service(event.service_id)
        name = service.name(self.language) if service else event.service_id
        decision = event.decision
        lines: list[str]
        if decision is None:
            lines = [
                self.t("submitted_reviewed", service=name, reference=event.reference, due=self.local_date(event.due_at))
            ]
            lines += self.routed_lines(event)
        else:
            lines = [self.t(f"decision.{decision.outcome}", service=name)]
            lines += [f"{self.t(label)}: {value}" if value else self.t(label) for label, value in decision.facts]
            if decision.outcome == "granted":
                if event.amount_inr:
                    lines.append(self.t("amount_due", amount=f"{event.amount_inr:,}"))
                lines.append(self.t("reference_line", reference=event.reference))
        buttons = [self.button("track:", "button_track"), self.button("nav:menu", "button_menu")]
        self.speak("\n".join(lines))
        if event.payment is not None:
            self.say(ButtonsOut(body=clip("\n".join(lines), BODY_LIMIT), buttons=tuple(buttons)))
            self.say(event.payment)
            return self.state
        if event.document is not None:
            self.say(event.document)
            buttons.insert(0, self.button(f"alerts:on:{event.reference}", "button_alerts_on"))
        self.say(ButtonsOut(body=clip("\n".join(lines), BODY_LIMIT), buttons=tuple(buttons)))
        return self.state

    def routed_lines(self, event: Submitted) -> list[str]:
        """Who holds a new case when that is not the usual first desk of the citizen's place."""
        lines: list[str] = []
        places = self.context.places
        if event.located:
            found = places.get(event.located) if places else None
            lines.append(self.t("routed_by_location", place=found.name(self.language) if found else event.located))
        if event.direct and event.desk:
            lines.append(self.t("routed_direct", role=self.t(f"role.{Desk.parse(event.desk).role}")))
        return lines

    def watched(self, event: Watched) -> ConversationState:
        if not event.found:
            self.say(self.t("alerts_not_found", number=event.number))
        elif event.on:
            off = self.button(f"alerts:off:{event.number}", "button_alerts_off")
            self.say(ButtonsOut(body=self.t("alerts_on", number=event.number), buttons=(off,)))
        else:
            self.say(self.t("alerts_off", number=event.number))
        return self.state

    def tracked(self, event: Tracked) -> ConversationState:
        if not event.applications:
            self.say(self.t("track_not_found" if event.asked else "track_none"))
            return self.state
        lines = [self.t("track_title")]
        for app in event.applications:
            service = self.context.catalogue.service(app.service_id)
            lines.append(
                self.t(
                    "track_line",
                    reference=app.reference,
                    service=service.name(self.language) if service else app.service_id,
                    status=self.t(f"status.{app.status.value}"),
                    due=self.local_date(app.due_at),
                )
            )
            if service is not None and app.workflow and app.status in OPEN:
                lines.append("  " + self.clock_line(Case.from_dict(app.workflow), service, app.submitted_at))
        self.say(clip("\n".join(lines), 4096))
        self.speak("\n".join(lines))
        return self.state

    def clock_line(self, case: Case, service: Service, submitted_at: datetime) -> str:
        """ "Day 4 of 7; moves to the Tahsildar on day 8"."""
        clock = citizen_clock(case, service, submitted_at, self.now)
        if clock.next_role is None:
            return self.t("clock_day", day=clock.day, of=clock.of_days)
        role = self.t(f"role.{clock.next_role}")
        return self.t("clock_day_moves", day=clock.day, of=clock.of_days, role=role, next_day=clock.next_day)

    # ------------------------------------------------------------ lists

    def department_row(self, department: Department) -> ListRow:
        lang = self.language
        return ListRow(
            id=f"dept:{department.id}",
            title=clip(department.name(lang), ROW_TITLE_LIMIT),
            description=clip(department.description(lang), ROW_DESCRIPTION_LIMIT) or None,
        )

    def service_row(self, service: Service) -> ListRow:
        lang = self.language
        return ListRow(
            id=f"svc:{service.id}",
            title=clip(service.name(lang), ROW_TITLE_LIMIT),
            description=clip(service.description(lang), ROW_DESCRIPTION_LIMIT) or None,
        )

    def page_rows(self, entries: list[ListRow], page: int) -> tuple[tuple[ListRow, ...], int]:
        return self.paged_rows(entries, page, back_row=False)

    def paged_rows(self, entries: list[ListRow], page: int, *, back_row: bool) -> tuple[tuple[ListRow, ...], int]:
        """One page of `entries` plus navigation rows, never more than WhatsApp's ten rows."""
        back = [ListRow(id="nav:back", title=clip(self.t("row_back"), ROW_TITLE_LIMIT))] if back_row else []
        if len(entries) + len(back) <= ROWS_PER_LIST:
            return tuple(entries + back), 0
        per_page = ROWS_PER_LIST - 2 - len(back)  # room for "previous" and "next"
        pages = -(-len(entries) // per_page)
        page = min(max(page, 0), pages - 1)
        rows = entries[page * per_page : (page + 1) * per_page]
        if page > 0:
            rows.append(ListRow(id=f"page:{page - 1}", title=clip(self.t("row_previous"), ROW_TITLE_LIMIT)))
        if page < pages - 1:
            rows.append(
                ListRow(
                    id=f"page:{page + 1}",
                    title=clip(self.t("row_next"), ROW_TITLE_LIMIT),
                    description=self.t("page_of", page=page + 2, pages=pages),
                )
            )
        return tuple(rows + back), page

    def numbered_choice(self, number: int) -> str | None:
        """A typed number picks that row of the menu on screen (for citizens who prefer typing)."""
        screen = self.state.screen
        if screen == "language" and 1 <= number <= len(self.context.languages):
            return f"lang:{self.context.languages[number - 1]}"
        catalogue = self.context.catalogue
        if screen == "departments":
            entries = [self.department_row(d) for d in catalogue.departments]
            rows, _ = self.paged_rows(entries, self.state.page, back_row=False)
        elif screen == "services" and self.state.department_id:
            entries = [self.service_row(s) for s in catalogue.services_of(self.state.department_id)]
            rows, _ = self.paged_rows(entries, self.state.page, back_row=True)
        elif screen == "search":
            rows = tuple(ListRow(id=f"svc:{s}", title=s) for s in self.state.results)
        else:
            return None
        return rows[number - 1].id if 1 <= number <= len(rows) else None

    def language_named(self, text: str) -> str | None:
        texts = self.context.texts
        for lang in self.context.languages:
            names = {n.strip().casefold() for n in texts.get(lang, "language_aliases").split(",")}
            if text in names:
                return lang
        return None


def _answer_of(inbound: MediaIn | LocationIn) -> Answer:
    if isinstance(inbound, LocationIn):
        return LocationAnswer(latitude=inbound.latitude, longitude=inbound.longitude)
    return MediaAnswer(
        media_id=inbound.media_id, mime_type=inbound.mime_type or "", size_bytes=None, filename=inbound.filename
    )


def _end(service: Service | None) -> int:
    return len(service.fields) if service else 0
