"""The sans-IO dialogue engine: `step(state, inbound, context, now) -> Step(state, replies)`.

No I/O, no clock, no randomness: the same inputs always give the same replies, which is what lets
golden transcripts pin every conversation down. Reply ids are small strings (`lang:te`,
`dept:revenue`, `svc:income-certificate`, `nav:next`) that come back as `ChoiceIn.choice_id`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sevamitra.core.catalogue import Catalogue, Department, Service
from sevamitra.core.messages import (
    Button,
    ButtonsOut,
    ChoiceIn,
    Inbound,
    ListOut,
    ListRow,
    ListSection,
    Outbound,
    ReactionIn,
    SystemIn,
    TextIn,
    TextOut,
)
from sevamitra.core.texts import Texts

Screen = Literal["start", "language", "departments", "services", "service"]
ROWS_PER_LIST = 10  # WhatsApp's limit on rows in one list message
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
BUTTON_TITLE_LIMIT = 20
IDLE_TIMEOUT = timedelta(minutes=30)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut, never inside a syllable."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and not _syllable_boundary(text, cut):
        cut -= 1
    return text[:cut].rstrip() + "…"


def _syllable_boundary(text: str, i: int) -> bool:
    """Whether a cut before `text[i]` keeps every syllable whole (no orphan vowel sign, virama, conjunct)."""
    joiners = "\u200c\u200d"
    here, before = text[i], text[i - 1]
    return not (
        unicodedata.category(here).startswith("M")
        or here in joiners
        or before in joiners
        or unicodedata.combining(before) == _VIRAMA_CLASS
    )


_VIRAMA_CLASS = 9  # Unicode canonical combining class of viramas: the next letter joins this one


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationState:
    language: str | None = None
    screen: Screen = "start"
    department_id: str | None = None
    service_id: str | None = None
    page: int = 0
    last_active: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "screen": self.screen,
            "department_id": self.department_id,
            "service_id": self.service_id,
            "page": self.page,
            "last_active": self.last_active.isoformat() if self.last_active else None,
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
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the engine reads besides the message: the catalogue, the texts, the languages offered."""

    catalogue: Catalogue
    texts: Texts
    languages: tuple[str, ...] = ("te", "en", "hi")
    idle_timeout: timedelta = IDLE_TIMEOUT


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    state: ConversationState
    replies: tuple[Outbound, ...]


def step(state: ConversationState, inbound: Inbound, context: Context, now: datetime) -> Step:
    """Advance one citizen's conversation by one inbound message."""
    if isinstance(inbound, ReactionIn | SystemIn):
        return Step(state=state, replies=())  # nothing to answer
    engine = _Engine(context, state)
    if state.language is None:
        return engine.finish(engine.first_contact(inbound), now)
    if state.last_active is not None and now - state.last_active > context.idle_timeout:
        engine.say(engine.t("session_expired"))
        return engine.finish(engine.show_departments(page=0), now)
    return engine.finish(engine.handle(inbound), now)


class _Engine:
    """One step's working memory: the state as it changes and the replies gathered."""

    def __init__(self, context: Context, state: ConversationState) -> None:
        self.context = context
        self.state = state
        self.replies: list[Outbound] = []

    # ------------------------------------------------------------ helpers

    @property
    def language(self) -> str:
        return self.state.language or "en"

    def t(self, key: str, /, **params: object) -> str:
        return self.context.texts.get(self.language, key, **params)

    def say(self, message: Outbound | str) -> None:
        self.replies.append(TextOut(body=message) if isinstance(message, str) else message)

    def finish(self, state: ConversationState, now: datetime) -> Step:
        return Step(state=replace(state, last_active=now), replies=tuple(self.replies))

    def words(self, key: str) -> frozenset[str]:
        return frozenset(
            w.strip().casefold() for text in self.context.texts.variants(key) for w in text.split(",") if w.strip()
        )

    # ------------------------------------------------------------ dispatch

    def handle(self, inbound: Inbound) -> ConversationState:
        if isinstance(inbound, ChoiceIn):
            return self.choose(inbound.choice_id)
        if not isinstance(inbound, TextIn):
            self.say(self.t("cannot_read_this"))
            return self.state
        text = inbound.body.strip().casefold()
        if text in self.words("words.reset"):
            return self.show_departments(page=0)
        if text in self.words("words.language"):
            return self.ask_language()
        if text in self.words("words.help"):
            self.say(self.t("help"))
            return self.state
        if text in self.words("words.back"):
            return self.back()
        if self.state.screen == "language":
            chosen = self.language_named(text)
            if chosen is not None:
                return self.choose(f"lang:{chosen}")
        if text.isdigit():
            choice = self.numbered_choice(int(text))
            if choice is not None:
                return self.choose(choice)
        self.say(self.t("not_understood"))
        return self.repeat_screen()

    def choose(self, choice_id: str) -> ConversationState:
        kind, _, value = choice_id.partition(":")
        if kind == "lang" and value in self.context.languages:
            self.state = replace(self.state, language=value)
            self.say(self.t("language_set"))
            return self.show_departments(page=0)
        if kind == "dept" and self.context.catalogue.department(value) is not None:
            return self.show_services(value, page=0)
        if kind == "svc" and (service := self.context.catalogue.service(value)) is not None:
            return self.show_service(service)
        if kind == "page" and value.lstrip("-").isdigit():
            return self.turn_page(int(value))
        if kind == "nav":
            return self.back() if value == "back" else self.show_departments(page=0)
        self.say(self.t("not_understood"))
        return self.repeat_screen()

    # ------------------------------------------------------------ screens

    def first_contact(self, inbound: Inbound) -> ConversationState:
        """Before a language is chosen only a language choice is read; anything else is welcomed."""
        if self.state.screen == "language":
            if isinstance(inbound, ChoiceIn) and inbound.choice_id.startswith("lang:"):
                return self.choose(inbound.choice_id)
            if isinstance(inbound, TextIn):
                text = inbound.body.strip().casefold()
                chosen = self.language_named(text) or (self.numbered_choice(int(text)) if text.isdigit() else None)
                if chosen is not None:
                    return self.choose(chosen if ":" in chosen else f"lang:{chosen}")
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
                footer=self.t("menu_footer"),
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
                footer=self.t("menu_footer"),
            )
        )
        return replace(self.state, screen="services", department_id=department_id, service_id=None, page=page)

    def show_service(self, service: Service) -> ConversationState:
        lang = self.language
        fee = self.t("fee_free") if not service.fee_rupees else self.t("fee_rupees", amount=service.fee_rupees)
        if not service.sla_days:
            sla = self.t("sla_instant")
        else:
            sla = self.t("sla_one_day") if service.sla_days == 1 else self.t("sla_days", days=service.sla_days)
        self.say(
            ButtonsOut(
                body=self.t(
                    "service_details",
                    name=service.name(lang),
                    description=service.description(lang),
                    fee=fee,
                    sla=sla,
                ),
                buttons=(
                    Button(id="nav:back", title=clip(self.t("button_back"), BUTTON_TITLE_LIMIT)),
                    Button(id="nav:menu", title=clip(self.t("button_menu"), BUTTON_TITLE_LIMIT)),
                ),
            )
        )
        return replace(self.state, screen="service", department_id=service.department_id, service_id=service.id)

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
        return self.show_departments(self.state.page if screen == "departments" else 0)

    def back(self) -> ConversationState:
        if self.state.screen == "service" and self.state.department_id:
            return self.show_services(self.state.department_id, page=0)
        return self.show_departments(page=0)

    def turn_page(self, page: int) -> ConversationState:
        if self.state.screen == "services" and self.state.department_id:
            return self.show_services(self.state.department_id, page)
        return self.show_departments(page)

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
