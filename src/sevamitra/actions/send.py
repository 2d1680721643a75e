"""The outbound sender: drains the outbox within the number's send budget, retrying what may be retried.

- Rate limits (HTTP 429, 130429 and the other throttling codes) are retried after the backoff or
  `Retry-After`, and the number's shared budget is drawn down for that long, so every process sending
  for the number slows down, not this message alone.
- 5xx answers, timeouts and dropped connections are retried with exponential backoff and jitter.
- 131047 (outside the 24-hour window) queues the message's template, else the re-engagement template.
- 131026 (undeliverable) and every other refusal, and retries exhausted, give the message up: it goes
  to the dead letters, which officers may queue again.
- 190 (the access token is invalid or has expired) pauses the number for every process (`SendingPauses`)
  and raises an operators' alert; its messages stay pending, untouched. Every `probe_seconds` one process
  sends one message as a probe: a success lifts the pause (and resolves the alert). A process started
  with another token probes at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sevamitra.core.delivery import Next, after_send, backoff_seconds
from sevamitra.core.messages import (
    AudioOut,
    ChannelError,
    Outbound,
    SendResult,
    SpeechOut,
    TemplateOut,
    outbound_from_dict,
    outbound_to_dict,
)
from sevamitra.core.ports import (
    Clock,
    Messenger,
    OperatorAlert,
    OperatorAlerts,
    Outbox,
    OutboxRecord,
    SendBudget,
    SendingPause,
    SendingPauses,
    Settled,
)
from sevamitra.core.ratelimit import TokenBucket
from sevamitra.core.speech import SpeechError, TextToSpeech

log = logging.getLogger(__name__)

TOKEN_REFUSED = 190  # Meta: the access token is invalid, expired or revoked
THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})  # as the Graph adapter counts rate limits
SLOW_DOWN_CAP = 60.0  # seconds: the most one rate limit holds back a number's shared budget
PAUSES_READ_EVERY = 1.0  # seconds a process keeps its view of the paused numbers


def replacement(payload: Mapping[str, Any], template: TemplateOut | None) -> dict[str, Any] | None:
    """What goes in place of a message refused outside the 24-hour window: its own template (`fallback`), else
    the re-engagement template (never in place of a template or a read receipt), else nothing."""
    fallback = payload.get("fallback")
    if isinstance(fallback, dict):
        return dict(fallback)
    if template is None or payload.get("kind") in ("template", "mark_read"):
        return None
    return outbound_to_dict(template)


def token_refused(result: SendResult) -> bool:
    """Whether Meta refused the access token itself (190, or a bare 401)."""
    code = result.error.code if result.error else None
    return not result.ok and (code == TOKEN_REFUSED or result.details.get("http_status") == 401)


def throttled(result: SendResult) -> bool:
    code = result.error.code if result.error else None
    return not result.ok and (result.details.get("http_status") == 429 or code in THROTTLING_CODES)


@dataclass(slots=True)
class LocalSendBudget:
    """Each number's budget in this process alone: right where one process sends (SQLite's one worker)."""

    rate: float  # sends a second
    capacity: float  # the largest burst
    monotonic: Callable[[], float] = time.monotonic
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    async def take(self, number: str, count: int = 1) -> list[float]:
        bucket = self._buckets.setdefault(number, TokenBucket(rate=self.rate, capacity=self.capacity))
        return bucket.take_many(self.monotonic(), count)


@dataclass(slots=True)
class Sender:
    outbox: Outbox
    messenger: Messenger
    clock: Clock
    budget: SendBudget  # each number's sends a second, shared by every process that sends for it
    number: str  # the main WhatsApp number (phone number id), which `messenger` sends from
    jitter: Callable[[], float]  # uniform in [0, 1)
    max_attempts: int = 8
    reengagement_template: TemplateOut | None = None
    lease_seconds: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    speak: TextToSpeech | None = None  # spoken replies: synthesised, uploaded, then sent as audio
    others: Mapping[str, Messenger] = field(default_factory=dict)  # the deployment's other numbers, by id
    pauses: SendingPauses | None = None  # numbers paused for every process; None: a 190 fails like any refusal
    alerts: OperatorAlerts | None = None
    probe_seconds: float = 60.0  # how often one process tries a paused number again
    token: str = ""  # a fingerprint of the access token this process sends with (never the token)
    rate: float = 0.0  # each number's budget in sends a second, drawn down after a rate limit (0: not drawn)
    _paused: dict[str, SendingPause] = field(default_factory=dict, init=False)
    _paused_until: float = field(default=-math.inf, init=False)  # monotonic time when `_paused` is read again
    _halted: dict[str, ChannelError | None] = field(default_factory=dict, init=False)  # refused during this drain
    _slowed: set[str] = field(default_factory=set, init=False)  # numbers whose budget this drain drew down

    def _number(self, record: OutboxRecord) -> str:
        """The number that answers: the one the citizen last wrote to, when this deployment serves it."""
        via = record.recipient.via
        return via if via is not None and via in self.others else self.number

    async def drain(self, limit: int = 200) -> int:
        """Send what is due for up to `limit` citizens: each citizen's messages one after another, in order,
        the citizens side by side; the outcomes are recorded together. Returns how many were attempted."""
        now = self.clock.now()
        paused = await self._current_pauses()
        if paused and not self._may_send(paused, now):
            return 0
        records = await self.outbox.claim(limit, now, self.lease_seconds)
        if not records:
            return 0
        self._halted.clear()
        self._slowed.clear()
        started = self.monotonic()
        by_number: dict[str, list[OutboxRecord]] = {}
        for record in records:
            by_number.setdefault(self._number(record), []).append(record)
        outcomes: list[Settled] = []
        for number in [n for n in by_number if n in paused]:  # a paused number: one probe at most
            outcomes += await self._probe_or_hold(paused[number], by_number.pop(number), now)
        due: dict[int, float] = {}
        for number, sending in by_number.items():  # each number within its own budget
            waits = await self.budget.take(number, len(sending))
            due |= {record.id: started + wait for record, wait in zip(sending, waits, strict=True)}
        runs: dict[str, list[OutboxRecord]] = {}
        for record in records:
            if record.id in due:
                runs.setdefault(record.address, []).append(record)
        settled = await asyncio.gather(*(self._send_run(run, due) for run in runs.values()))
        outcomes += [outcome for run in settled for outcome in run]
        for number, error in self._halted.items():
            await self._pause(number, error, now)
        await self.outbox.settle(outcomes)
        return sum(1 for outcome in outcomes if outcome.tried)

    async def _pause(self, number: str, error: ChannelError | None, now: datetime) -> None:
        """Stop every process sending from `number`; the process that paused it alerts the operators."""
        assert self.pauses is not None  # numbers are halted only where pauses are kept
        self._paused_until = -math.inf
        error = error or ChannelError(code=TOKEN_REFUSED, title="access token refused")
        probe_at = now + timedelta(seconds=self.probe_seconds)
        if not await self.pauses.pause(number, error, now, probe_at, self.token):
            return
        alert = _paused_alert(number, error.code, error.message or error.title, now)
        log.critical("ALERT %s: %s: %s", alert.name, alert.summary, alert.details["error"])
        await self._alert(alert)

    async def _resume(self, number: str, now: datetime) -> None:
        assert self.pauses is not None
        self._paused_until = -math.inf
        if not await self.pauses.resume(number):
            return
        summary = f"WhatsApp number {number}: a probe send succeeded; sending resumed"
        log.warning("ALERT resolved sending_paused: %s", summary)
        alert = OperatorAlert(name="sending_paused", summary=summary, details={"number": number}, at=now, resolved=True)
        await self._alert(alert)

    async def _alert(self, alert: OperatorAlert) -> None:
        if self.alerts is not None:
            await self.alerts.raise_alert(alert)

    async def _current_pauses(self) -> dict[str, SendingPause]:
        """The paused numbers, read at most every `PAUSES_READ_EVERY` seconds."""
        if self.pauses is None:
            return {}
        if self.monotonic() >= self._paused_until:
            self._paused = await self.pauses.current()
            self._paused_until = self.monotonic() + PAUSES_READ_EVERY
        return self._paused

    def _may_send(self, paused: Mapping[str, SendingPause], now: datetime) -> bool:
        """Whether a claim may find something to send: a number not paused, or a probe due."""
        numbers = (self.number, *self.others)
        return any(n not in paused or paused[n].next_probe_at <= now for n in numbers)

    async def _probe_or_hold(self, pause: SendingPause, records: list[OutboxRecord], now: datetime) -> list[Settled]:
        """A paused number's claimed messages: when its probe is due and this process wins it, the first is
        sent; the rest wait (for the next round when the probe lifted the pause, else for the next probe). When
        another process has the probe, they wait for it, or (when this process's view may be stale) go back at
        once to be claimed after a fresh look at the pauses."""
        assert self.pauses is not None  # numbers are paused only where pauses are kept
        number, every = pause.number, timedelta(seconds=self.probe_seconds)
        probing = pause.next_probe_at <= now and await self.pauses.claim_probe(number, now, now + every)
        outcomes: list[Settled] = []
        until = max(pause.next_probe_at, now)
        self._paused_until = -math.inf  # read the pauses again next round, whatever became of this one
        if probing:
            probe, records = records[0], records[1:]
            outcome, result = await self._attempt(probe)
            outcomes.append(outcome)
            if _token_works(result):
                await self._resume(number, now)
                until = now
            else:
                until = now + every
                log.warning("sending from %s stays paused: the probe answered %s", number, result.error)
                await self._alert(_paused_alert(number, pause.error_code, pause.reason, pause.paused_at))  # still on
        return outcomes + [Settled(record=r, state="pending", at=until, tried=False) for r in records]

    async def _send_run(self, run: list[OutboxRecord], due: dict[int, float]) -> list[Settled]:
        """One citizen's messages in order; after one that must be retried, the rest wait for it."""
        outcomes: list[Settled] = []
        for record in run:
            if outcomes and outcomes[-1].state == "pending":
                outcomes.append(Settled(record=record, state="pending", at=self.clock.now(), tried=False))
                continue
            delay = due[record.id] - self.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._number(record) in self._halted:  # refused meanwhile: not sent, attempts unchanged
                at = self.clock.now() + timedelta(seconds=self.probe_seconds)
                outcomes.append(Settled(record=record, state="pending", at=at, tried=False))
                continue
            outcomes.append(await self._send(record))
        return outcomes

    async def _send(self, record: OutboxRecord) -> Settled:
        return (await self._attempt(record))[0]

    async def _attempt(self, record: OutboxRecord) -> tuple[Settled, SendResult]:
        """One try of one message: what becomes of it, and the channel's answer."""
        number = self._number(record)
        messenger = self.others[number] if number != self.number else self.messenger
        payload = dict(record.payload)
        payload.pop("fallback", None)  # the template for this message outside the 24-hour window (`replacement`)
        message = outbound_from_dict(payload)
        if isinstance(message, SpeechOut):
            voiced = await self._voiced(message, messenger)
            result = voiced if isinstance(voiced, SendResult) else await messenger.send(record.recipient, voiced)
        else:
            result = await messenger.send(record.recipient, message)
        return await self._settled(record, number, result), result

    async def _settled(self, record: OutboxRecord, number: str, result: SendResult) -> Settled:
        now = self.clock.now()
        attempts = record.attempts + 1
        error = result.error
        if self.pauses is not None and token_refused(result):  # the token, not the message: wait, untouched
            self._halted[number] = error
            return Settled(
                record=record, state="pending", at=now + timedelta(seconds=self.probe_seconds), error=error, tried=False
            )
        match after_send(result, attempts, self.max_attempts):
            case Next.DONE:
                return Settled(record=record, state="sent", at=now, message_id=result.message_id)
            case Next.RETRY:
                wait = max(backoff_seconds(attempts, self.jitter()), result.retry_after_seconds or 0.0)
                if throttled(result):
                    await self._slow_down(number, wait)
                return Settled(record=record, state="pending", at=now + timedelta(seconds=wait), error=error)
            case Next.NEEDS_TEMPLATE:
                follow_up = replacement(record.payload, self.reengagement_template)
                return Settled(record=record, state="outside_window", at=now, error=error, follow_up=follow_up)
            case Next.UNDELIVERABLE:
                return Settled(record=record, state="undeliverable", at=now, error=error)
            case Next.FAILED:
                log.warning("outbox %s failed after %s attempts: %s", record.id, attempts, error)
                return Settled(record=record, state="failed", at=now, error=error)
        raise AssertionError("every next step is handled above")  # pragma: no cover

    async def _slow_down(self, number: str, seconds: float) -> None:
        """Meta says this number sends too fast: draw its shared budget down for `seconds` (once a drain), so
        that every process sending for it waits, not only this message."""
        if self.rate <= 0 or number in self._slowed:
            return
        self._slowed.add(number)
        try:  # the bucket holds at most a second of sends (as `bootstrap` builds it): that second, then `seconds`
            await self.budget.take(number, math.ceil(self.rate * (min(seconds, SLOW_DOWN_CAP) + 1.0)))
        except Exception:  # the budget's store failing must not lose the outcomes of this drain
            log.warning("the send budget of %s could not be drawn down after a rate limit", number, exc_info=True)

    async def _voiced(self, message: SpeechOut, messenger: Messenger) -> Outbound | SendResult:
        """The reply as an uploaded voice note, or why not: no voice for it (given up), or a failed upload
        (retried like any transient failure)."""
        if self.speak is None:
            return SendResult(ok=False, error=ChannelError(code=0, title="no text-to-speech configured"))
        try:
            audio = await self.speak.speak(message.text, message.language)
        except SpeechError as exc:
            return SendResult(ok=False, error=ChannelError(code=0, title=f"speech: {exc}"))
        try:
            media_id = await messenger.upload_media(audio, "audio/ogg", "reply.ogg")
        except Exception as exc:  # the channel's failure, whatever its adapter raises: try again later
            log.warning("a spoken reply could not be uploaded: %s", exc)
            refused = getattr(exc, "error", None)  # the channel's own error, where its adapter names one
            if isinstance(refused, ChannelError) and refused.code == TOKEN_REFUSED:
                return SendResult(ok=False, error=refused)  # the token: the number pauses
            return SendResult(ok=False, retryable=True, error=ChannelError(code=0, title="audio upload failed"))
        return AudioOut(media_id=media_id)


def _token_works(result: SendResult) -> bool:
    """Whether a probe shows the token accepted: sent, or refused for another reason than the token by an
    answer that is not a server's failure (a rate limit, a closed window, a bad number)."""
    if result.ok:
        return True
    status = result.details.get("http_status")
    return not token_refused(result) and isinstance(status, int) and status < 500


def _paused_alert(number: str, code: int, error: str, since: datetime) -> OperatorAlert:
    summary = f"WhatsApp number {number}: Meta refused the access token ({code}); sending paused"
    details = {"number": number, "error_code": str(code), "error": error}
    return OperatorAlert(name="sending_paused", summary=summary, details=details, at=since)
