"""The outbound sender: drains the outbox within the number's send budget, retrying what may be retried."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sevamitra.core.delivery import Next, after_send, backoff_seconds
from sevamitra.core.messages import (
    AudioOut,
    ChannelError,
    MarkRead,
    Outbound,
    SendResult,
    SpeechOut,
    TemplateOut,
    outbound_from_dict,
    outbound_to_dict,
)
from sevamitra.core.ports import Clock, Messenger, Outbox, OutboxRecord, SendBudget, Settled
from sevamitra.core.ratelimit import TokenBucket
from sevamitra.core.speech import SpeechError, TextToSpeech

log = logging.getLogger(__name__)


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

    def _number(self, record: OutboxRecord) -> str:
        """The number that answers: the one the citizen last wrote to, when this deployment serves it."""
        via = record.recipient.via
        return via if via is not None and via in self.others else self.number

    async def drain(self, limit: int = 200) -> int:
        """Send what is due for up to `limit` citizens: each citizen's messages one after another, in order,
        the citizens side by side; the outcomes are recorded together. Returns how many were attempted."""
        records = await self.outbox.claim(limit, self.clock.now(), self.lease_seconds)
        if not records:
            return 0
        started = self.monotonic()
        by_number: dict[str, list[OutboxRecord]] = {}
        for record in records:
            by_number.setdefault(self._number(record), []).append(record)
        due: dict[int, float] = {}
        for number, sending in by_number.items():  # each number within its own budget
            waits = await self.budget.take(number, len(sending))
            due |= {record.id: started + wait for record, wait in zip(sending, waits, strict=True)}
        runs: dict[str, list[OutboxRecord]] = {}
        for record in records:
            runs.setdefault(record.address, []).append(record)
        settled = await asyncio.gather(*(self._send_run(run, due) for run in runs.values()))
        outcomes = [outcome for run in settled for outcome in run]
        await self.outbox.settle(outcomes)
        return sum(1 for outcome in outcomes if outcome.tried)

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
            outcomes.append(await self._send(record))
        return outcomes

    async def _send(self, record: OutboxRecord) -> Settled:
        number = self._number(record)
        messenger = self.others[number] if number != self.number else self.messenger
        payload = dict(record.payload)
        fallback = payload.pop("fallback", None)  # the template for this message outside the 24-hour window
        message = outbound_from_dict(payload)
        if isinstance(message, SpeechOut):
            voiced = await self._voiced(message, messenger)
            result = voiced if isinstance(voiced, SendResult) else await messenger.send(record.recipient, voiced)
        else:
            result = await messenger.send(record.recipient, message)
        now = self.clock.now()
        attempts = record.attempts + 1
        error = result.error
        match after_send(result, attempts, self.max_attempts):
            case Next.DONE:
                return Settled(record=record, state="sent", at=now, message_id=result.message_id)
            case Next.RETRY:
                wait = max(backoff_seconds(attempts, self.jitter()), result.retry_after_seconds or 0.0)
                return Settled(record=record, state="pending", at=now + timedelta(seconds=wait), error=error)
            case Next.NEEDS_TEMPLATE:
                template = self.reengagement_template
                replace = template is not None and not isinstance(message, TemplateOut | MarkRead)
                follow_up = fallback or (outbound_to_dict(template) if replace and template else None)
                return Settled(record=record, state="outside_window", at=now, error=error, follow_up=follow_up)
            case Next.UNDELIVERABLE:
                return Settled(record=record, state="undeliverable", at=now, error=error)
            case Next.FAILED:
                log.warning("outbox %s failed after %s attempts: %s", record.id, attempts, error)
                return Settled(record=record, state="failed", at=now, error=error)
        raise AssertionError("every next step is handled above")  # pragma: no cover

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
            return SendResult(ok=False, retryable=True, error=ChannelError(code=0, title="audio upload failed"))
        return AudioOut(media_id=media_id)
