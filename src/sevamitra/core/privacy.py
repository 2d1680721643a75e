"""Citizens' data rights under India's DPDP Act, 2023: the consent notice, the words that exercise a
right, and the documents that answer "my data" and "who saw my data".

Pure: what the platform holds about a citizen comes in as `Holdings`, officers' accesses as `Access`
rows; this module shapes them into the JSON export (complete: it is the citizen's own data) and the
readable document the PDF draws (identifiers masked), and names the effects the conversation asks the
actions to perform (`RecordConsent`, `WithdrawConsent`, `ExportData`, `ListAccesses`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sevamitra.core.applications import Status
from sevamitra.core.broadcasts import area_name
from sevamitra.core.catalogue import Catalogue, Service
from sevamitra.core.display import shown_answers
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.localtime import local_date, local_time
from sevamitra.core.messages import DocumentOut
from sevamitra.core.texts import Texts

PURPOSES: Final = ("services", "tracking", "payments", "grievances")
"""What a citizen consents to: applying for services, tracking them, paying fees, raising grievances."""
EXPORT_FORMAT: Final = "sevamitra-my-data/1"
HELD_LIMIT: Final = 4096  # a message kept until consent is at most one WhatsApp text
KEPT_UNDER_LAW: Final = frozenset(
    {Status.SUBMITTED, Status.UNDER_REVIEW, Status.RETURNED, Status.RESOLVED, Status.JOINED, Status.APPROVED}
)
"""Applications still being decided: a withdrawal does not stop them (the office must finish what it holds)."""
MASKED_TYPES: Final = frozenset({"mobile", "pan", "epic_number", "ration_card_number"})
"""Identifier field types shown with only their last four characters (Aadhaar: `mask_aadhaar`)."""
SHOWN_DETAIL: Final = frozenset({"desk", "to", "from", "fields", "reason"})
"""What of an application event's detail the citizen gets: offices and reasons, never officers' names."""
TOLD_MESSAGES: Final = frozenset({"rejected", "returned"})  # events whose officer's message went to the citizen

Command = Literal["withdraw", "my_data", "who_saw", "privacy"]
COMMANDS: Final[tuple[Command, ...]] = ("withdraw", "my_data", "who_saw", "privacy")
_PUNCTUATION = re.compile(r"[\s.!?।,;:]+$")


# ---------------------------------------------------------------- consent


def awaits_consent(consented: str | None, notice: str | None) -> bool:
    """Whether the citizen must see the notice in force first: none given yet, or given to an older one."""
    return notice is not None and consented != notice


def normalised(text: str) -> str:
    """Text as the command words are compared: case-folded, single spaces, no trailing punctuation."""
    return _PUNCTUATION.sub("", " ".join(text.casefold().split()))


def words_of(texts: Texts, language: str, command: Command) -> frozenset[str]:
    """The comma-separated words of one language that mean `command`."""
    listed = texts.by_language.get(language, {}).get(f"privacy.words.{command}", "")
    return frozenset(normalised(w) for w in listed.split(",") if w.strip())


def command_in(text: str, texts: Texts) -> tuple[Command, str] | None:
    """The command the whole of `text` is, in any language, and the language whose word it is."""
    return _commands(texts).get(normalised(text)) if text else None


_TABLES: dict[int, tuple[Texts, dict[str, tuple[Command, str]]]] = {}  # every message is looked up: a few μs


def _commands(texts: Texts) -> dict[str, tuple[Command, str]]:
    """Each command word, in every language, to its command and language (the first listed wins)."""
    kept = _TABLES.get(id(texts))
    if kept is not None and kept[0] is texts:
        return kept[1]
    table: dict[str, tuple[Command, str]] = {}
    for command in COMMANDS:
        for language in texts.by_language:
            for word in words_of(texts, language, command):
                table.setdefault(word, (command, language))
    if len(_TABLES) > 16:  # texts are loaded once per process; tests make a few
        _TABLES.clear()
    _TABLES[id(texts)] = (texts, table)
    return table


def purpose_of(service: Service | None) -> str:
    """The purpose an application's data serves: a grievance, or a service (its own service id binds it)."""
    return "grievances" if service is not None and service.output.kind == "grievance_ticket" else "services"


# ---------------------------------------------------------------- effects and their outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordConsent:
    """Keep the citizen's consent to notice `notice`, given in `language` for `purposes`."""

    notice: str
    language: str
    purposes: tuple[str, ...] = PURPOSES


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawConsent:
    """Stop processing the citizen's new data; what the law keeps stays."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportData:
    """Everything the platform holds about the citizen, as a JSON file and a readable PDF, in `language`."""

    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAccesses:
    """Officers' accesses to the citizen's applications, newest first."""


PrivacyEffect = RecordConsent | WithdrawConsent | ExportData | ListAccesses


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentKept:
    """Recorded (nothing more to tell the citizen)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentWithdrawn:
    kept: tuple[str, ...]  # references of applications still being decided, which stay


@dataclass(frozen=True, slots=True, kw_only=True)
class DataExported:
    documents: tuple[DocumentOut, ...] = ()
    problem: Literal["too_soon", "failed"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    """One officer's access to an application, as the citizen may see it: the office, never the person."""

    at: datetime
    reference: str
    action: str
    role: str
    place: str  # a place id, or "state"
    department_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessesListed:
    accesses: tuple[Access, ...]
    more: int  # earlier accesses left out


PrivacyOutcome = ConsentKept | ConsentWithdrawn | DataExported | AccessesListed


# ---------------------------------------------------------------- what is held


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    notice: str
    language: str
    purposes: tuple[str, ...]
    given_at: datetime
    withdrawn_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldEvent:
    at: datetime
    kind: str
    actor: str  # as stored: "citizen", "clock", "payment" or an officer's username (never exported)
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldApplication:
    reference: str
    service_id: str
    status: str
    language: str
    answers: Mapping[str, Any]
    submitted_at: datetime
    due_at: datetime
    decided_at: datetime | None = None
    fee_inr: int | None = None
    decision: Mapping[str, Any] | None = None
    history: tuple[HeldEvent, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldPayment:
    reference: str
    provider: str
    amount_paise: int
    status: str
    created_at: datetime
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldCertificate:
    number: str
    reference: str
    service_id: str
    kind: str
    issued_at: datetime
    valid_until: datetime | None
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldRating:
    reference: str
    score: int
    at: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldAlert:
    topic: str
    area: str
    language: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldRequest:
    kind: str  # "export" | "accesses"
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Holdings:
    """Everything the platform holds about one citizen."""

    address: str
    wa_id: str | None = None
    user_id: str | None = None
    conversation: Mapping[str, Any] | None = None  # the conversation state (a draft holds answers)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    consents: tuple[ConsentRecord, ...] = ()
    applications: tuple[HeldApplication, ...] = ()
    payments: tuple[HeldPayment, ...] = ()
    certificates: tuple[HeldCertificate, ...] = ()
    ratings: tuple[HeldRating, ...] = ()
    alerts: tuple[HeldAlert, ...] = ()
    requests: tuple[HeldRequest, ...] = ()
    messages_received: int = 0
    messages_sent: int = 0


def citizen_event(event: HeldEvent) -> dict[str, Any]:
    """An application event as the citizen gets it: who in general (never which officer), offices, reasons."""
    by = event.actor if event.actor in ("citizen", "clock", "payment") else "officer"
    detail = {k: v for k, v in event.detail.items() if k in SHOWN_DETAIL}
    if event.kind in TOLD_MESSAGES and event.detail.get("message"):
        detail["message"] = event.detail["message"]
    return {"at": _iso(event.at), "event": event.kind, "by": by, **({"detail": detail} if detail else {})}


# ---------------------------------------------------------------- the JSON export


def export_document(holdings: Holdings, catalogue: Catalogue, generated_at: datetime) -> dict[str, Any]:
    """The machine-readable copy: every value complete, times in UTC (ISO 8601)."""
    ratings = {r.reference: r for r in holdings.ratings}
    applications: list[dict[str, Any]] = []
    grievances: list[dict[str, Any]] = []
    for app in holdings.applications:
        service = catalogue.service(app.service_id)
        purpose = purpose_of(service)
        entry: dict[str, Any] = {
            "reference": app.reference,
            "service": {"id": app.service_id, "name": service.name("en") if service else app.service_id},
            "purpose": {"category": purpose, "service": app.service_id},
            "status": app.status,
            "language": app.language,
            "submitted_at": _iso(app.submitted_at),
            "due_at": _iso(app.due_at),
            "decided_at": _iso(app.decided_at),
            "fee_inr": app.fee_inr,
            "answers": dict(app.answers),
            "decision": dict(app.decision) if app.decision else None,
            "history": [citizen_event(e) for e in app.history],
        }
        if (rating := ratings.get(app.reference)) is not None:
            entry["rating"] = {"score": rating.score, "comment": rating.comment, "at": _iso(rating.at)}
        (grievances if purpose == "grievances" else applications).append(entry)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(generated_at),
        "citizen": {
            "wa_id": holdings.wa_id,
            "user_id": holdings.user_id,
            "first_contact": _iso(holdings.first_seen),
            "last_message": _iso(holdings.last_seen),
        },
        "conversation": dict(holdings.conversation) if holdings.conversation else None,
        "consents": [
            {
                "notice": c.notice,
                "language": c.language,
                "purposes": list(c.purposes),
                "given_at": _iso(c.given_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in holdings.consents
        ],
        "applications": applications,
        "grievances": grievances,
        "payments": [
            {
                "reference": p.reference,
                "provider": p.provider,
                "amount_inr": p.amount_paise / 100,
                "status": p.status,
                "created_at": _iso(p.created_at),
                "paid_at": _iso(p.paid_at),
            }
            for p in holdings.payments
        ],
        "certificates": [
            {
                "number": c.number,
                "reference": c.reference,
                "service": c.service_id,
                "kind": c.kind,
                "issued_at": _iso(c.issued_at),
                "valid_until": _iso(c.valid_until),
                "status": c.status,
            }
            for c in holdings.certificates
        ],
        "ratings": [
            {"reference": r.reference, "score": r.score, "comment": r.comment, "at": _iso(r.at)}
            for r in holdings.ratings
        ],
        "alerts": [
            {"topic": a.topic, "area": a.area, "language": a.language, "since": _iso(a.created_at)}
            for a in holdings.alerts
        ],
        "data_requests": [{"kind": r.kind, "at": _iso(r.at)} for r in holdings.requests],
        "messages": {"received": holdings.messages_received, "sent": holdings.messages_sent},
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# ---------------------------------------------------------------- the readable copy


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadableEntry:
    heading: str | None
    rows: tuple[tuple[str, str], ...]  # (label, value), identifiers masked


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadableSection:
    title: str
    entries: tuple[ReadableEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadableDocument:
    """What the PDF prints, every word already in the citizen's language."""

    language: str
    title: str
    lines: tuple[str, ...]  # under the title: when it was made, what the JSON file adds
    sections: tuple[ReadableSection, ...]
    empty: str  # what a section with nothing in it says


def mask_identifier(value: str) -> str:
    """All but the last four letters or digits replaced by X."""
    kept = [ch for ch in value if ch.isalnum()]
    return "X" * max(len(kept) - 4, 4 - len(kept[-4:])) + "".join(kept[-4:])


@dataclass(frozen=True, slots=True)
class _Words:
    texts: Texts
    language: str

    def __call__(self, key: str, /, **params: object) -> str:
        return self.texts.get(self.language, key, **params)

    def optional(self, key: str, fallback: str) -> str:
        """A text some keys lack (an event or status of a kind not worded yet): the fallback then."""
        known = self.texts.by_language.get(self.language, {}).get(key) or self.texts.by_language.get("en", {}).get(key)
        return known if known is not None else fallback


def readable_document(
    holdings: Holdings,
    catalogue: Catalogue,
    texts: Texts,
    places: Jurisdictions | None,
    language: str,
    generated_at: datetime,
) -> ReadableDocument:
    """The PDF's content: every section, with Aadhaar and other identifiers masked."""
    t = _Words(texts, language)
    sections = [
        ReadableSection(title=t("privacy.pdf.about"), entries=(_about(holdings, catalogue, places, t),)),
        ReadableSection(title=t("privacy.pdf.consents"), entries=tuple(_consents(holdings, t))),
    ]
    ratings = {r.reference: r for r in holdings.ratings}
    for purpose, key in (("services", "privacy.pdf.applications"), ("grievances", "privacy.pdf.grievances")):
        entries = tuple(
            _application(app, catalogue, places, t, ratings.get(app.reference))
            for app in holdings.applications
            if purpose_of(catalogue.service(app.service_id)) == purpose
        )
        sections.append(ReadableSection(title=t(key), entries=entries))
    sections += [
        ReadableSection(title=t("privacy.pdf.payments"), entries=tuple(_payments(holdings, t))),
        ReadableSection(title=t("privacy.pdf.certificates"), entries=tuple(_certificates(holdings, catalogue, t))),
        ReadableSection(title=t("privacy.pdf.requests"), entries=tuple(_requests(holdings, t))),
    ]
    return ReadableDocument(
        language=language,
        title=t("privacy.pdf.title"),
        lines=(t("privacy.pdf.made", time=local_time(generated_at)), t("privacy.pdf.masked")),
        sections=tuple(sections),
        empty=t("privacy.pdf.none"),
    )


def _about(holdings: Holdings, catalogue: Catalogue, places: Jurisdictions | None, t: _Words) -> ReadableEntry:
    state = holdings.conversation or {}
    rows = [
        (t("privacy.pdf.number"), mask_identifier(holdings.wa_id) if holdings.wa_id else "-"),
        (t("privacy.pdf.language"), t.optional(f"privacy.language.{state.get('language')}", "-")),
        (t("privacy.pdf.first_contact"), local_time(holdings.first_seen)),
        (t("privacy.pdf.last_message"), local_time(holdings.last_seen)),
        (
            t("privacy.pdf.messages"),
            t("privacy.pdf.message_counts", received=holdings.messages_received, sent=holdings.messages_sent),
        ),
    ]
    draft = state.get("draft")
    if isinstance(draft, Mapping) and (service := catalogue.service(str(draft.get("service")))) is not None:
        rows.append((t("privacy.pdf.draft"), service.name(t.language)))
    for alert in holdings.alerts:
        topic = t.optional(f"alerts.topic.{alert.topic}", alert.topic)
        area = area_name(t.texts, places, alert.area, t.language) if places else alert.area
        rows.append((t("privacy.pdf.alert"), f"{topic} · {area} ({local_date(alert.created_at)})"))
    return ReadableEntry(heading=None, rows=tuple(rows))


def _consents(holdings: Holdings, t: _Words) -> Iterator[ReadableEntry]:
    for consent in holdings.consents:
        purposes = ", ".join(t(f"privacy.purpose.{p}") for p in consent.purposes)
        withdrawn = local_time(consent.withdrawn_at) if consent.withdrawn_at else t("privacy.pdf.in_force")
        yield ReadableEntry(
            heading=t("privacy.pdf.notice", version=consent.notice),
            rows=(
                (t("privacy.pdf.given"), local_time(consent.given_at)),
                (t("privacy.pdf.purposes"), purposes),
                (t("privacy.pdf.withdrawn"), withdrawn),
            ),
        )


def _application(
    app: HeldApplication, catalogue: Catalogue, places: Jurisdictions | None, t: _Words, rating: HeldRating | None
) -> ReadableEntry:
    service = catalogue.service(app.service_id)
    name = service.name(t.language) if service else app.service_id
    rows = [
        (t("privacy.pdf.status"), t.optional(f"status.{app.status}", app.status)),
        (t("privacy.pdf.submitted"), local_time(app.submitted_at)),
        (t("privacy.pdf.due"), local_date(app.due_at)),
    ]
    if app.decided_at is not None:
        rows.append((t("privacy.pdf.decided"), local_time(app.decided_at)))
    if app.fee_inr:
        rows.append((t("privacy.pdf.fee"), f"₹{app.fee_inr:,}"))
    rows += _answers(service, app.answers, places, t)
    for event in app.history:
        said = t.optional(f"privacy.event.{event.kind}", event.kind.replace("_", " "))
        by = t("privacy.by." + citizen_event(event)["by"])
        rows.append((local_time(event.at), f"{said} ({by})"))
    if rating is not None:
        rows.append((t("privacy.pdf.rating"), f"{rating.score}/5" + (f": {rating.comment}" if rating.comment else "")))
    return ReadableEntry(heading=f"{name} · {app.reference}", rows=tuple(rows))


def _answers(
    service: Service | None, answers: Mapping[str, Any], places: Jurisdictions | None, t: _Words
) -> list[tuple[str, str]]:
    """The answers as shown: Aadhaar masked by `shown_answers`, other identifiers here; fields of a
    service no longer in the catalogue by their ids, every identifier-like value masked."""
    if service is None:
        return [(key, mask_identifier(str(value))) for key, value in answers.items()]
    shown = shown_answers(service, answers, places, t.language)
    rows = []
    for spec in service.fields:
        if spec.id not in shown:
            continue
        label = spec.labels.get(t.language) or spec.labels.get("en") or t.optional(f"label.{spec.type}", spec.id)
        value = shown[spec.id]
        if spec.type in MASKED_TYPES:
            value = mask_identifier(str(answers[spec.id]))
        rows.append((label, value))
    return rows


def _payments(holdings: Holdings, t: _Words) -> Iterator[ReadableEntry]:
    for payment in holdings.payments:
        rows = (
            (t("privacy.pdf.amount"), f"₹{payment.amount_paise / 100:,.2f}"),
            (t("privacy.pdf.status"), t.optional(f"privacy.payment.{payment.status}", payment.status)),
            (t("privacy.pdf.created"), local_time(payment.created_at)),
            (t("privacy.pdf.paid"), local_time(payment.paid_at)),
        )
        yield ReadableEntry(heading=payment.reference, rows=rows)


def _certificates(holdings: Holdings, catalogue: Catalogue, t: _Words) -> Iterator[ReadableEntry]:
    for certificate in holdings.certificates:
        service = catalogue.service(certificate.service_id)
        rows = (
            (t("privacy.pdf.service"), service.name(t.language) if service else certificate.service_id),
            (t("privacy.pdf.issued"), local_date(certificate.issued_at)),
            (t("privacy.pdf.valid_until"), local_date(certificate.valid_until)),
            (t("privacy.pdf.status"), t.optional(f"privacy.certificate.{certificate.status}", certificate.status)),
        )
        yield ReadableEntry(heading=certificate.number, rows=rows)


def _requests(holdings: Holdings, t: _Words) -> Iterator[ReadableEntry]:
    rows = tuple((local_time(r.at), t(f"privacy.request.{r.kind}")) for r in holdings.requests)
    if rows:
        yield ReadableEntry(heading=None, rows=rows)


# ---------------------------------------------------------------- who saw my data


def accesses_text(
    listed: AccessesListed,
    texts: Texts,
    language: str,
    places: Jurisdictions | None,
    catalogue: Catalogue,
) -> str:
    """Officers' accesses, newest first, by office and role; the count of earlier ones left out."""
    t = _Words(texts, language)
    if not listed.accesses:
        return t("privacy.accesses_none")
    lines = [t("privacy.accesses_title")]
    for access in listed.accesses:
        lines.append(
            t(
                "privacy.access_line",
                time=local_time(access.at),
                role=t.optional(f"role.{access.role}", access.role.replace("_", " ")),
                office=office_name(access, t, places, catalogue),
                what=t.optional(f"privacy.access.{_access_kind(access.action)}", access.action),
                reference=access.reference,
            )
        )
    if listed.more:
        lines.append(t("privacy.accesses_more", count=listed.more))
    return "\n".join(lines)


def office_name(access: Access, t: _Words, places: Jurisdictions | None, catalogue: Catalogue) -> str:
    """The office an officer works at: their place, and their department when they have one."""
    place = places.get(access.place) if places is not None and access.place != "state" else None
    if access.place == "state":
        where = t("privacy.office_state")
    else:
        where = place.name(t.language) if place else access.place.rpartition("/")[2]
    department = catalogue.department(access.department_id) if access.department_id else None
    return f"{where}, {department.name(t.language)}" if department else where


def _access_kind(action: str) -> str:
    if action.endswith("_refused"):
        return "refused"
    if action in ("view_document", "view_attachment"):
        return "document"
    return action if action in ("view", "approve", "reject", "return", "forward", "note", "reroute") else "other"
