"""Citizens for crash tests: each applies for an income certificate through the emulator's chat API.

A citizen sends the walk's sixteen messages (hi, English, "I agree" to the privacy notice, Revenue,
"income certificate", Apply, seven answers, Submit) one every `gap` seconds, without waiting for the
replies; the citizens start one after another over `spread` seconds. The emulator signs each message
as a webhook and delivers it at least once, in the citizen's order, retrying until the platform
answers 200, as Meta does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

from sevamitra.core.idnumbers import verhoeff_digit


class Step(NamedTuple):
    kind: str  # text, button_reply or list_reply
    value: str  # the text, or the id of the button or row
    title: str = ""


AADHAAR = "<aadhaar>"  # the citizen's own number
NOTICE = "1"  # the consent notice the platform asks for (SEVAMITRA_CONSENT_NOTICE_VERSION)
WALK = (
    Step("text", "hi"),
    Step("button_reply", "lang:en", "English"),
    Step("button_reply", f"privacy:accept:{NOTICE}", "I agree"),
    Step("list_reply", "dept:revenue", "Revenue"),
    Step("text", "income certificate"),
    Step("button_reply", "form:start", "Apply"),
    Step("text", "Lakshmi Devi"),
    Step("text", AADHAAR),
    Step("text", "Venkata Ramana"),
    Step("list_reply", "place:guntur", "Guntur"),
    Step("list_reply", "place:guntur/chebrolu", "Chebrolu"),
    Step("list_reply", "place:guntur/chebrolu/chebrolu", "Chebrolu"),
    Step("text", "50000"),
    Step("text", "agriculture"),
    Step("list_reply", "answer:education", "Education or admission"),
    Step("button_reply", "form:submit", "Submit"),
)


def aadhaar(number: int) -> str:
    """A distinct valid Aadhaar number for each citizen (first digit 2-9, Verhoeff check digit)."""
    body = f"{2 + number // 10**10 % 8}{number % 10**10:010d}"
    return body + verhoeff_digit(body)


@dataclass(eq=False)
class Citizen:
    number: int
    wa_id: str
    aadhaar: str
    message_ids: list[str] = field(default_factory=list)  # in the order sent

    @property
    def submitted(self) -> bool:
        return len(self.message_ids) == len(WALK)


class CrowdFailed(Exception):
    """The emulator refused a citizen's message: the run cannot say anything about the platform."""


class Crowd:
    """`citizens` citizens walking WALK against the emulator at `emulator_url`."""

    def __init__(
        self, emulator_url: str, citizens: int, *, spread: float, gap: float, first: int = 1, concurrency: int = 32
    ) -> None:
        self.url = emulator_url.rstrip("/")
        self.spread = spread
        self.gap = gap
        self.citizens = [
            Citizen(number=n, wa_id=f"91{8_000_000_000 + n}", aadhaar=aadhaar(n))
            for n in range(first, first + citizens)
        ]
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def seconds(self) -> float:
        """How long the walk takes from the first message to the last, as planned."""
        return self.spread + (len(WALK) - 1) * self.gap

    @property
    def sent(self) -> int:
        return sum(len(c.message_ids) for c in self.citizens)

    async def run(self) -> None:
        # idle connections dropped well before the emulator's server closes them (5 s), so that a request is
        # never written into a connection the server is closing
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=1.0)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:  # a busy emulator is slow
            start = time.monotonic()
            count = len(self.citizens)
            await asyncio.gather(
                *(self._walk(http, c, start + self.spread * n / max(count, 1)) for n, c in enumerate(self.citizens))
            )

    async def _walk(self, http: httpx.AsyncClient, citizen: Citizen, start: float) -> None:
        for index, step in enumerate(WALK):
            delay = start + index * self.gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._slots:
                citizen.message_ids.append(await self._send(http, citizen, _content(step, citizen)))

    async def _send(self, http: httpx.AsyncClient, citizen: Citizen, content: dict[str, Any]) -> str:
        """The message's id at the emulator. A request that fails on the way is sent again only if the
        citizen's chat shows it did not arrive."""
        for _ in range(5):
            try:
                response = await http.post(f"{self.url}/_chat/{citizen.wa_id}/send", json=content)
            except httpx.TransportError:
                arrived = await self._sent_so_far(http, citizen)
                if len(arrived) > len(citizen.message_ids):
                    return arrived[len(citizen.message_ids)]
                continue
            if response.status_code != 201:
                raise CrowdFailed(f"the emulator answered {response.status_code}: {response.text[:200]}")
            message_id: str = response.json()["message"]["id"]
            return message_id
        raise CrowdFailed(f"the emulator did not take a message of {citizen.wa_id} in five tries")

    async def _sent_so_far(self, http: httpx.AsyncClient, citizen: Citizen) -> list[str]:
        for _ in range(5):
            try:
                response = await http.get(f"{self.url}/_chat/{citizen.wa_id}/messages", params={"after": 0})
            except httpx.TransportError:
                continue
            if response.status_code == 404:  # the emulator has not met this citizen: nothing arrived
                return []
            response.raise_for_status()
            return [m["id"] for m in response.json()["messages"] if m["direction"] == "in"]
        raise CrowdFailed(f"the emulator did not show the chat of {citizen.wa_id} in five tries")


def _content(step: Step, citizen: Citizen) -> dict[str, Any]:
    if step.kind == "text":
        return {"type": "text", "text": citizen.aadhaar if step.value == AADHAAR else step.value}
    return {"type": step.kind, "id": step.value, "title": step.title}
