"""The outbound sender: drains the outbox under a token bucket, retrying what may be retried."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from sevamitra.core.ports import Clock, Messenger, Outbox, OutboxRecord, SendBudget
from sevamitra.core.ratelimit import TokenBucket
from sevamitra.core.speech import SpeechError, TextToSpeech

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Sender:
    outbox: Outbox
    messenger: Messenger
    clock: Clock
    bucket: TokenBucket
    jitter: Callable[[], float]  # uniform in [0, 1)
    max_attempts: int = 8
    reengagement_template: TemplateOut | None = None
    lease_seconds: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    speak: TextToSpeech | None = None  # spoken replies: synthesised, uploaded, then sent as audio
    budget: SendBudget | None = None  # the number's budget shared by all processes; None: `bucket`, this one's

    async def drain(self, limit: int = 200) -> int:
        """Send the due head of each citizen's queue; returns how many were attempted."""
        records = await self.outbox.claim(limit, self.clock.now(), self.lease_seconds)
        await asyncio.gather(*(self._send(record) for record in records))
        return len(records)

    async def _send(self, record: OutboxRecord) -> None:
        delay = await self.budget.take() if self.budget else self.bucket.take(self.monotonic())
        if delay:
            await asyncio.sleep(delay)
        payload = dict(record.payload)
        fallback = payload.pop("fallback", None)  # the template for this message outside the 24-hour window
        message = outbound_from_dict(payload)
        if isinstance(message, SpeechOut):
            voiced = await self._voiced(message)
            result = voiced if isinstance(voiced, SendResult) else await self.messenger.send(record.recipient, voiced)
        else:
            result = await self.messenger.send(record.recipient, message)
        now = self.clock.now()
        attempts = record.attempts + 1
        match after_send(result, attempts, self.max_attempts):
            case Next.DONE:
                await self.outbox.sent(record, result.message_id, now)
            case Next.RETRY:
                wait = max(backoff_seconds(attempts, self.jitter()), result.retry_after_seconds or 0.0)
                await self.outbox.retry(record, result.error, now + timedelta(seconds=wait))
            case Next.NEEDS_TEMPLATE:
                template = self.reengagement_template
                replace = template is not None and not isinstance(message, TemplateOut | MarkRead)
                follow_up = fallback or (outbound_to_dict(template) if replace and template else None)
                await self.outbox.give_up(record, "outside_window", result.error, now, follow_up)
            case Next.UNDELIVERABLE:
                await self.outbox.give_up(record, "undeliverable", result.error, now)
            case Next.FAILED:
                log.warning("outbox %s failed after %s attempts: %s", record.id, attempts, result.error)
                await self.outbox.give_up(record, "failed", result.error, now)

    async def _voiced(self, message: SpeechOut) -> Outbound | SendResult:
        """The reply as an uploaded voice note, or why not: no voice for it (given up), or a failed upload
        (retried like any transient failure)."""
        if self.speak is None:
            return SendResult(ok=False, error=ChannelError(code=0, title="no text-to-speech configured"))
        try:
            audio = await self.speak.speak(message.text, message.language)
        except SpeechError as exc:
            return SendResult(ok=False, error=ChannelError(code=0, title=f"speech: {exc}"))
        try:
            media_id = await self.messenger.upload_media(audio, "audio/ogg", "reply.ogg")
        except Exception as exc:  # the channel's failure, whatever its adapter raises: try again later
            log.warning("a spoken reply could not be uploaded: %s", exc)
            return SendResult(ok=False, retryable=True, error=ChannelError(code=0, title="audio upload failed"))
        return AudioOut(media_id=media_id)
