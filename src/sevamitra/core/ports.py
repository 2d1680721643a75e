"""What the outside world must provide: the core and the actions depend on these, never on adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sevamitra.core.anchors import Anchor, Inclusion, SignedTransaction
from sevamitra.core.applications import ApplicationView, Status, Submission
from sevamitra.core.certificates import CertificateStatement
from sevamitra.core.checkpoints import NoteSignature
from sevamitra.core.decisions import BookingRequest
from sevamitra.core.erasure import ErasureScheduled
from sevamitra.core.messages import ChannelError, DeliveryStatus, Outbound, Recipient, SendResult
from sevamitra.core.privacy import Access, ConsentRecord, Holdings
from sevamitra.core.tiles import TileWrite
from sevamitra.core.workflow import Case


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SendBudget(Protocol):
    """How fast one WhatsApp number may send, shared by every sender of that number."""

    async def take(self, number: str, count: int = 1) -> list[float]:
        """Take `count` sends of the number (its phone number id); returns, for each, how many seconds to
        wait before making it (0: now), in order."""
        ...


class Messenger(Protocol):
    """The channel's sending side (the WhatsApp Graph API in production, the emulator in development)."""

    async def send(self, recipient: Recipient, message: Outbound) -> SendResult:
        """Send one message; never raises for channel errors, which come back in the result."""
        ...

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file and return its media id."""
        ...

    async def download_media(self, media_id: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """Fetch an inbound media file: its bytes and MIME type. Raises `MediaError` when the channel
        no longer has it, when it is larger than `max_bytes` (refused before download where the size
        is known), or on a failure."""
        ...


# ---------------------------------------------------------------- monitoring

Counted = Literal["webhook_deliveries", "messages_sent", "graph_api_throttled"]
Timed = Literal["turn_latency"]


class Meter(Protocol):
    """Operational counts and timings for monitoring. Labels are a few fixed words, never personal data."""

    def count(self, name: Counted, **labels: str) -> None: ...

    def observe(self, name: Timed, seconds: float, **labels: str) -> None: ...


class NoMeter:
    """Records nothing: the meter wherever nobody monitors (tests, one-off commands)."""

    def count(self, name: Counted, **labels: str) -> None:
        return None

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        return None


NO_METER = NoMeter()


# ---------------------------------------------------------------- storage


@dataclass(frozen=True, slots=True, kw_only=True)
class NewInboxItem:
    """One message, status or notice of a webhook delivery, keyed for idempotency."""

    key: str
    kind: str  # "message" | "status" | "errors" | "other" | "unreadable"
    address: str | None
    fragment: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxRecord:
    id: int
    key: str
    kind: str
    address: str | None
    fragment: dict[str, Any]
    attempts: int = 0
    received_at: datetime | None = None  # when the webhook delivered it


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRecord:
    id: int
    address: str
    recipient: Recipient
    payload: dict[str, Any]
    attempts: int


GaveUp = Literal["failed", "outside_window", "undeliverable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """What became of one claimed message: `sent`; `pending` again, to be tried at `at` (or, when it was
    not `tried` because an earlier message of the citizen must be retried first, at once); or given up."""

    record: OutboxRecord
    state: Literal["sent", "pending"] | GaveUp
    at: datetime  # when it was sent or given up, or when to try again
    message_id: str | None = None
    error: ChannelError | None = None
    tried: bool = True
    follow_up: dict[str, Any] | None = None  # a message queued in its place (a template outside the window)


class Inbox(Protocol):
    async def add(self, items: Sequence[NewInboxItem], received_at: datetime) -> int:
        """Store items durably, ignoring keys already stored; returns how many were new."""
        ...


# ---------------------------------------------------------------- certificates


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCertificate:
    """A certificate as stored: the signed QR payload and the signed PDF."""

    statement: CertificateStatement
    reference: str
    address: str
    language: str
    kid: bytes
    cose: bytes
    pdf: bytes
    download_token: str
    log_salt: bytes  # salts the certificate number's hash in the transparency log


class HolderAlerts(Protocol):
    async def alert(
        self, number: str, *, now: datetime, since: datetime, compose: Callable[[str], dict[str, Any]]
    ) -> bool:
        """Queue `compose(holder's language)` to the holder of `number` if they asked for notes on
        verification and none went out after `since`, claim and message in one transaction."""
        ...


class CertificateSink(Protocol):
    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        """Store a certificate in the current transaction."""
        ...


class CertificateMaker(Protocol):
    """Signs a statement (COSE) and renders it (a PAdES-signed PDF)."""

    public_url: str

    def sign(self, statement: CertificateStatement) -> tuple[bytes, bytes]:
        """The COSE_Sign1 payload and the kid that signed it."""
        ...

    def qr_text(self, cose: bytes) -> str: ...

    async def render(
        self,
        statement: CertificateStatement,
        qr_text: str,
        language: str,
        title: Mapping[str, str],
        lines: Sequence[tuple[Mapping[str, str], str]],
    ) -> bytes:
        """The signed PDF, rendered off the event loop."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApplication:
    submission: Submission
    recipient: Recipient
    reference_prefix: str
    status: Status
    submitted_at: datetime
    due_at: datetime
    fee_inr: int | None = None
    decision: dict[str, Any] | None = None
    department_id: str | None = None
    district: str | None = None  # the applicant's district, when the form asked
    case: Case | None = None  # reviewed services: the first step's desk and clock
    clock_at: datetime | None = None  # when the SLA clock first has something to do
    latitude: float | None = None  # a location the citizen shared (grievances: "me too" nearby)
    longitude: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnedApplication:
    reference: str
    service_id: str
    fields: tuple[str, ...]  # what to correct
    message: str  # the officer's words


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedGrievance:
    reference: str
    service_id: str
    case: Case
    answers: Mapping[str, Any]


class CitizenTurn(Protocol):
    """One citizen's pending messages and conversation, locked for one transaction."""

    @property
    def address(self) -> str:
        """The citizen's ordering key."""
        ...

    @property
    def pending(self) -> Sequence[InboxRecord]:
        """The citizen's unprocessed messages, in arrival order."""
        ...

    @property
    def state(self) -> dict[str, Any] | None:
        """The stored conversation state; None for a new citizen."""
        ...

    def done(self, record: InboxRecord, *, error: str | None = None) -> None: ...
    def defer(self, record: InboxRecord, until: datetime) -> None:
        """Leave a message pending, to be taken again no earlier than `until` (the citizen's pace)."""
        ...

    def save_state(self, state: dict[str, Any], recipient: Recipient, now: datetime) -> None: ...
    def enqueue(self, recipient: Recipient, payload: dict[str, Any], now: datetime, *, cause: int | None) -> None: ...

    async def submit(self, application: NewApplication) -> str:
        """Store an application in this turn's transaction; returns its reference number."""
        ...

    async def applications(self, reference: str | None, limit: int = 5) -> list[ApplicationView]:
        """This citizen's own applications: one by reference, or the latest."""
        ...

    async def book(
        self, application: NewApplication, request: BookingRequest, *, confirm: bool
    ) -> tuple[str, tuple[int, ...]] | None:
        """Store a granted booking and hold its places, all or nothing: (reference, seats held), or
        None when the places went to others first (nothing stored). `confirm`: no payment awaited."""
        ...

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        """Store a certificate in this turn's transaction."""
        ...

    async def add_payment(
        self,
        *,
        reference: str,
        provider: str,
        provider_ref: str,
        amount_paise: int,
        now: datetime,
        purpose: str = "",
        message: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an order this citizen pays in the chat (no link), in this turn's transaction."""
        ...

    async def correction(self, reference: str) -> ReturnedApplication | None:
        """This citizen's application waiting for their correction, with what the officer asked."""
        ...

    async def resubmit(self, reference: str, answers: Mapping[str, Any], now: datetime) -> bool:
        """Merge the corrected answers and put the application back on its officer's desk."""
        ...

    async def rate(self, reference: str, score: int, now: datetime) -> bool:
        """Keep the citizen's rating of a decided application of theirs (the last one counts)."""
        ...

    async def nearby_open(
        self, service_id: str, latitude: float, longitude: float, meters: int
    ) -> tuple[str, int] | None:
        """The closest open grievance of this service within `meters` of the point: (reference, metres)."""
        ...

    async def join(self, application: NewApplication, joined: str) -> str:
        """Store the citizen's report attached to an open grievance; returns its own reference."""
        ...

    async def change_alerts(
        self, recipient: Recipient, topics: Sequence[str], area: str | None, language: str, now: datetime
    ) -> int:
        """Subscribe to `topics` for `area`, or (area None) unsubscribe from them (no topics: all)."""
        ...

    async def learn(self, text: str, service_id: str, language: str, now: datetime) -> None:
        """Keep a phrasing the citizen confirmed by picking `service_id` from the assistant's list."""
        ...

    async def arrived(self, service_id: str, source: str | None, language: str, first: bool, now: datetime) -> None:
        """Count a citizen who came through a service's link or poster (`source`: its tag)."""
        ...

    async def comment(self, reference: str, text: str, now: datetime) -> bool:
        """Keep the citizen's comment with their rating of an application of theirs."""
        ...

    async def resolved_grievance(self, reference: str) -> ResolvedGrievance | None:
        """This citizen's grievance that an officer marked resolved, waiting for their answer."""
        ...

    async def settle_grievance(
        self, reference: str, *, status: Status, case: Case | None, clock_at: datetime | None, kind: str, now: datetime
    ) -> None:
        """Record the citizen's answer: closed, or reopened at a higher desk."""
        ...

    async def watch(self, number: str, on: bool) -> bool:
        """Turn the holder's verification notes on or off for a certificate of this citizen's;
        False when none of that number is theirs."""
        ...

    async def request_erasure(self, now: datetime, retention: timedelta) -> ErasureScheduled:
        """Record this citizen's request to erase their personal data (once: asked again, the first
        request stands) and when it falls due (core.erasure.erasure_due)."""
        ...


class Conversations(Protocol):
    async def addresses_waiting(self, limit: int, now: datetime | None = None) -> list[str]:
        """Citizens with pending messages, oldest first; with `now`, only messages not deferred past it count."""
        ...

    def turn(self, address: str, now: datetime) -> AbstractAsyncContextManager[CitizenTurn | None]:
        """Lock one citizen (None if another worker holds them) and commit on exit."""
        ...

    def turns(self, addresses: Sequence[str], now: datetime) -> AbstractAsyncContextManager[Sequence[CitizenTurn]]:
        """Lock these citizens (leaving out any that another worker holds) in one transaction, committed on
        exit: all of their turns, or none."""
        ...


class Outbox(Protocol):
    async def claim(self, limit: int, now: datetime, lease_seconds: float) -> list[OutboxRecord]:
        """Up to `limit` citizens whose queue has a head that is due: that head and the due messages after
        it, in order, leased to this sender. No other sender gets a citizen's messages while it holds them."""
        ...

    async def settle(self, outcomes: Sequence[Settled]) -> None:
        """Record what became of claimed messages, all in one transaction."""
        ...


class Statuses(Protocol):
    async def pending(self, limit: int, now: datetime) -> list[InboxRecord]: ...

    async def apply(self, record: InboxRecord, status: DeliveryStatus | None, now: datetime) -> bool:
        """Apply a delivery status to its outbound message; False when that message is not known yet."""
        ...

    async def postpone(self, record: InboxRecord, until: datetime, *, give_up: bool) -> None: ...


class Sealer(Protocol):
    """Encryption at rest for personal data."""

    def seal(self, plain: bytes) -> str: ...
    def open(self, sealed: str) -> bytes: ...


# --- the transparency log


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingEntry:
    id: int
    entry: bytes
    number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedCheckpoint:
    size: int
    root: bytes
    note: bytes  # the signed note, with the cosignatures gathered so far


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedEntry:
    position: int
    entry: bytes
    salt: bytes | None  # the certificate's log salt, to match the entry to it


class LogBatch(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def pending(self) -> Sequence[PendingEntry]: ...
    def integrated(self, size: int, root: bytes, note: bytes) -> None: ...


class LogStore(Protocol):
    def integration(self, limit: int, now: datetime) -> AbstractAsyncContextManager[LogBatch | None]:
        """The log's size and its pending entries under the integration lock; None if another holds it."""
        ...

    async def latest(self) -> LoggedCheckpoint | None: ...
    async def cosigned(self, size: int, signatures: Sequence[NoteSignature]) -> bytes:
        """Merge cosignatures into the stored checkpoint of `size`; the note as it now stands."""
        ...

    async def witness_size(self, url: str) -> int: ...
    async def set_witness_size(self, url: str, size: int, now: datetime) -> None: ...


class Chain(Protocol):
    """A public chain that anchors are published in, from the state's account."""

    @property
    def name(self) -> str: ...
    async def chain_id(self) -> int: ...
    async def sign_anchor(
        self, size: int, checkpoint_hash: bytes, *, nonce: int | None, outbid: SignedTransaction | None
    ) -> SignedTransaction:
        """A transaction carrying the anchor: at `nonce` (None: the account's next) and, replacing
        `outbid`, with fees high enough for the node to take the replacement. Raises ChainError."""
        ...

    async def broadcast(self, raw: bytes) -> None:
        """Hand a signed transaction to the node; raises ChainError when it is refused."""
        ...

    async def inclusion(self, transaction: bytes) -> Inclusion | None:
        """The transaction as mined in the canonical chain, or None."""
        ...

    async def holds(self, transaction: bytes) -> bool:
        """Whether the node knows the transaction (waiting or mined)."""
        ...

    async def mined_nonce(self) -> int:
        """The account's next nonce counting mined transactions only."""
        ...

    async def block_hash(self, number: int) -> bytes | None: ...
    async def height(self) -> int: ...


class AnchorStore(Protocol):
    def turn(self) -> AbstractAsyncContextManager[bool]:
        """The anchoring lock: True when this process holds it for the round."""
        ...

    async def open(self) -> Anchor | None:
        """The oldest anchor not yet confirmed."""
        ...

    async def newest(self) -> Anchor | None: ...
    async def add(self, size: int, checkpoint_hash: bytes, chain_id: int, now: datetime) -> Anchor: ...
    async def save(self, anchor: Anchor) -> None:
        """Store everything about the anchor that changes as it travels (by id)."""
        ...


class TileStorage(Protocol):
    def read_tile(self, level: int, index: int, width: int) -> bytes: ...
    def read_bundle(self, index: int, width: int) -> bytes: ...
    def write(self, writes: list[TileWrite]) -> None: ...
    def write_file(self, relative: str, data: bytes) -> None: ...
    def publish_checkpoint(self, note: bytes) -> bool:
        """Make `note` the public checkpoint unless a larger (or more cosigned) one is there."""
        ...


# --- officers' work


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRecord:
    """A reviewed application as its officer opens it (answers opened: personal data)."""

    reference: str
    service_id: str
    status: Status
    language: str
    address: str
    recipient: Recipient
    answers: Mapping[str, Any]
    submitted_at: datetime
    due_at: datetime
    case: Case | None
    district: str | None
    department_id: str | None
    fee_inr: int | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSummary:
    """An inbox row: no personal data."""

    reference: str
    service_id: str
    status: Status
    desk: str | None
    district: str | None
    submitted_at: datetime
    step_due_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEvent:
    at: datetime
    actor: str
    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxFilter:
    statuses: tuple[Status, ...] = ()
    service_id: str | None = None
    due_before: datetime | None = None
    limit: int = 50
    offset: int = 0


class CaseTransaction(Protocol):
    @property
    def record(self) -> CaseRecord: ...
    async def update(self, *, status: Status, case: Case | None, clock_at: datetime | None) -> None: ...
    async def event(self, actor: str, kind: str, detail: dict[str, Any] | None = None) -> None: ...
    async def notify(self, recipient: Recipient, address: str, payload: dict[str, Any]) -> None: ...
    async def attach(self, officer_id: int, content_type: str, data: bytes) -> int: ...
    async def add_certificate(self, certificate: IssuedCertificate) -> None: ...
    async def officers_at(self, desk: str) -> list[Recipient]: ...
    async def close_joined(self) -> list[tuple[str, Recipient, str, str]]: ...


class Cases(Protocol):
    def transaction(self, reference: str, now: datetime) -> AbstractAsyncContextManager[CaseTransaction | None]:
        """One application locked for a decision; None when there is no such reference."""
        ...

    async def due_on_clock(self, now: datetime, limit: int) -> list[str]: ...


# --- sending paused, operators' alerts, dead letters


@dataclass(frozen=True, slots=True, kw_only=True)
class SendingPause:
    """A number that sends nothing because Meta refused its access token (code 190), until a probe succeeds."""

    number: str  # the phone number id
    error_code: int
    reason: str
    paused_at: datetime
    next_probe_at: datetime  # when one process tries one message again
    probes: int  # tried so far


class SendingPauses(Protocol):
    """Numbers paused for every process (kept in the database)."""

    async def current(self) -> dict[str, SendingPause]:
        """Every paused number."""
        ...

    async def pause(self, number: str, error: ChannelError, now: datetime, probe_at: datetime, token: str) -> bool:
        """Pause the number; True when this call paused it, False when it was paused already. `token` is a
        fingerprint of the refused access token, never the token."""
        ...

    async def claim_probe(self, number: str, now: datetime, next_probe_at: datetime) -> bool:
        """Whether this process may try one message now: the probe was due, and every other process now waits
        for `next_probe_at`."""
        ...

    async def resume(self, number: str) -> bool:
        """Lift the pause; True when this call lifted it."""
        ...

    async def probe_sooner(self, token: str, now: datetime) -> int:
        """Make the probe due now (and the messages the refusal held back) for pauses taken under another token
        than `token` (a fingerprint): a process started with a new token tries at once. Returns how many."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorAlert:
    name: str  # stable, for alert rules: sending_paused, sending_resumed
    summary: str  # one line for people
    details: Mapping[str, str]
    at: datetime
    resolved: bool = False  # the end of an earlier alert of the same name


class OperatorAlerts(Protocol):
    async def raise_alert(self, alert: OperatorAlert) -> None:
        """Tell the operators; never raises (an alert that cannot go out is logged)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    """A message given up for good, as officers see it: whose (an address to mask), what, why, when."""

    id: int
    address: str
    kind: str
    state: str  # failed | undeliverable | outside_window
    error_code: int | None
    error: str | None
    attempts: int
    dead_at: datetime


class DeadLetters(Protocol):
    async def waiting(self, limit: int) -> tuple[list[DeadLetter], int]:
        """The dead letters not retried yet, newest first, and how many there are in all."""
        ...

    async def retry(self, ids: Sequence[int] | None, *, officer_id: int, now: datetime, ip: str | None) -> int:
        """Queue again, as new messages after the citizen's others, these dead letters (every waiting one when
        `ids` is None): marked retried by the officer and written to the audit log in the same transaction.
        Returns how many were queued."""
        ...


# --- citizens' data rights: consent, "my data", "who saw my data" (core.privacy)


class DataRights(Protocol):
    """A citizen's consents, holdings and officers' accesses, read and written in their turn's transaction."""

    async def consent(self, turn: CitizenTurn, record: ConsentRecord) -> None:
        """Keep a consent the citizen gave."""
        ...

    async def withdraw(self, turn: CitizenTurn, now: datetime) -> tuple[str, ...]:
        """Withdraw the citizen's consent and stop what runs on it (alerts, verification notes); returns the
        references of their applications still being decided, which the law keeps going."""
        ...

    async def holdings(self, turn: CitizenTurn) -> Holdings:
        """Everything held about the citizen, answers opened."""
        ...

    async def accesses(self, turn: CitizenTurn, limit: int) -> tuple[list[Access], int]:
        """Officers' accesses to the citizen's applications, newest first: up to `limit`, and how many in all."""
        ...

    async def requested(self, turn: CitizenTurn, kind: str, now: datetime) -> None:
        """Record that the citizen exercised a right (`kind`: export, accesses)."""
        ...

    async def last_requested(self, turn: CitizenTurn, kind: str) -> datetime | None:
        """When the citizen last exercised that right, or None."""
        ...


# --- erasure of citizens' personal data (core.erasure)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasureOutcome:
    """What one due erasure did: carried out (with the rows changed per table), or put off."""

    request_id: int
    done: bool
    erased: Mapping[str, int]  # table -> rows erased, deleted or anonymised
    postponed_to: datetime | None = None  # an application still open: looked at again then


class Erasures(Protocol):
    async def due(self, now: datetime, limit: int) -> list[int]:
        """Waiting erasure requests whose time has come, oldest due first."""
        ...

    async def carry_out(self, request_id: int, now: datetime, retention: timedelta) -> ErasureOutcome | None:
        """Erase one citizen's personal data in one transaction, or put it off while an application is still
        open; None when another worker holds the request or the citizen, or it is done already."""
        ...

    async def mask_processed_messages(self, now: datetime, limit: int) -> int:
        """Mask the Aadhaar numbers in the text of messages already processed; returns how many were read."""
        ...


class Resealer(Protocol):
    """A sealer that moves sealed values to its current master key (a rotation of the data key)."""

    def is_current(self, sealed: str) -> bool: ...
    def reseal(self, sealed: str) -> str: ...
