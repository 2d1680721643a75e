"""Signed webhook delivery, at least once, in order per citizen, never blocking the caller.

Each citizen has a queue drained by its own task: an update is retried with exponential backoff
until the platform answers 200 (or the attempts run out) before the next one goes, as Meta does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from sevamitra.emulator.config import EmulatorConfig
from sevamitra.emulator.payloads import signature

log = logging.getLogger(__name__)

DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(kw_only=True)
class Delivery:
    """One update on its way to the platform, and how it went."""

    number: int
    key: str  # the citizen it concerns; deliveries with one key go out in order
    kind: str  # "message", "status" or "payment"
    message_id: str
    body: bytes
    on_result: Callable[[bool], None] | None = field(default=None, repr=False)
    attempts: int = 0
    state: DeliveryState = "pending"
    last_status: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "kind": self.kind,
            "message_id": self.message_id,
            "attempts": self.attempts,
            "state": self.state,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


class WebhookSender:
    """Delivers signed updates to `config.webhook_url` through an httpx client (made on first use if none given)."""

    def __init__(self, config: EmulatorConfig, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._http = http
        self._owns_http = http is None
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._numbers = itertools.count(1)
        self._closed = False
        self.history: deque[Delivery] = deque(maxlen=1000)

    def deliver(
        self,
        key: str,
        body: bytes,
        *,
        kind: str,
        message_id: str,
        on_result: Callable[[bool], None] | None = None,
    ) -> Delivery:
        """Queue an update behind the citizen's earlier ones and return at once."""
        delivery = Delivery(
            number=next(self._numbers), key=key, kind=kind, message_id=message_id, body=body, on_result=on_result
        )
        self.history.append(delivery)
        if self._closed:
            delivery.state, delivery.last_error = "failed", "emulator closed"
            return delivery
        self._queues.setdefault(key, deque()).append(delivery)
        worker = self._workers.get(key)
        if worker is None or worker.done():
            self._workers[key] = asyncio.create_task(self._drain(key), name=f"emulator-webhooks-{key}")
        return delivery

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        while queue:
            delivery = queue[0]
            ok = await self._deliver_with_retries(delivery)
            queue.popleft()
            delivery.state = "delivered" if ok else "failed"
            if delivery.on_result is not None:
                try:
                    delivery.on_result(ok)
                except Exception:  # a bookkeeping bug must not stop this citizen's deliveries
                    log.exception("webhook result callback failed")

    async def _deliver_with_retries(self, delivery: Delivery) -> bool:
        config = self._config
        for attempt in range(1, config.webhook_max_attempts + 1):
            if await self._attempt(delivery):
                return True
            if attempt < config.webhook_max_attempts:
                await asyncio.sleep(min(config.webhook_retry_base * 2 ** (attempt - 1), config.webhook_retry_cap))
        log.warning("gave up on webhook %s after %d attempts", delivery.message_id, delivery.attempts)
        return False

    async def _attempt(self, delivery: Delivery) -> bool:
        delivery.attempts += 1
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(delivery.body, self._config.app_secret),
            "User-Agent": "facebookexternalua",
        }
        try:
            response = await self._client().post(self._config.webhook_url, content=delivery.body, headers=headers)
        except Exception as exc:  # any failure to deliver is retried, as Meta does
            delivery.last_status, delivery.last_error = None, f"{type(exc).__name__}: {exc}"
            log.info("webhook %s attempt %d failed: %s", delivery.message_id, delivery.attempts, exc)
            return False
        delivery.last_status, delivery.last_error = response.status_code, None
        return response.status_code == 200

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._config.webhook_timeout)
        return self._http

    def pending(self) -> int:
        """How many updates are queued or being tried."""
        return sum(len(q) for q in self._queues.values())

    def busy(self) -> bool:
        return any(not t.done() for t in self._workers.values())

    async def wait_idle(self) -> None:
        """Return once every queued update has been delivered or given up."""
        while busy := [t for t in self._workers.values() if not t.done()]:
            await asyncio.gather(*busy, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop delivering (pending updates are dropped) and close the client if it was made here."""
        self._closed = True
        workers = [t for t in self._workers.values() if not t.done()]
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        self._http = None
