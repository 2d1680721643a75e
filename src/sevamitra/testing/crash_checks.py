"""What a crash run must leave behind, checked from the database and from Meta's side (the emulator).

- Every message a citizen sent is in the inbox and processed.
- Every processed message got one read receipt and at least one reply; every reply was sent and
  reached the citizen's chat at the emulator; each citizen's replies per message match most
  citizens' (the walk is the same for all, so a lost or doubled reply shows).
- Every citizen who pressed Submit has exactly one application, with a reference the citizen was
  told, their own Aadhaar number, and otherwise the same answers as everyone else (all gave the same).
- A message at the emulator that no outbox row recorded is a duplicate: a sender took it to the
  Graph API and died (or lost its database) before noting the answer, and the row went again once
  its lease ran out. For each citizen and message body there may be at most as many as the rows
  with that body that were in flight (`sending`) at a kill or the database restart.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.stores import unseal_json
from sevamitra.adapters.sql.tables import applications, inbox, outbox
from sevamitra.testing.crowd import AADHAAR, Citizen

MARK_READ = "mark_read"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    messages: int  # sent by the citizens
    not_stored: int  # never reached the inbox
    not_processed: int  # stored but not done
    unanswered: int  # processed without any reply
    receipts_wrong: int  # messages without exactly one read receipt
    replies: int  # outbox rows answering the citizens (read receipts not counted)
    not_sent: int  # outbox rows (read receipts included) not sent
    not_delivered: int  # replies recorded as sent that the citizen's chat does not hold
    odd_transcripts: int  # citizens whose replies per message differ from most citizens'
    applications_expected: int
    applications_intact: int
    broken_applications: tuple[str, ...]  # what is wrong, one line each (the first few)
    duplicates: int  # messages at the emulator no outbox row recorded
    unexplained_duplicates: int  # beyond the rows in flight at the kills and the restart
    duplicate_details: tuple[str, ...]  # what each unexplained one was (the first few)

    @property
    def lost(self) -> int:
        """Messages never stored, processed or answered, and replies that never reached the citizen."""
        return self.not_stored + self.not_processed + self.unanswered + self.not_sent + self.not_delivered

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.receipts_wrong
            or self.odd_transcripts
            or self.broken_applications
            or self.unexplained_duplicates
            or self.applications_intact != self.applications_expected
        )


async def verify(
    engine: AsyncEngine,
    emulator_url: str,
    citizens: Sequence[Citizen],
    in_flight: Mapping[int, int],
    sealer: AesGcmSealer,
) -> Verdict:
    """Check the run; `in_flight` counts, for each outbox row, the kills and restarts it was `sending` at."""
    async with engine.connect() as connection:
        stored = (
            await connection.execute(select(inbox.c.id, inbox.c.key, inbox.c.state).where(inbox.c.kind == "message"))
        ).all()
        columns = (
            *(outbox.c.id, outbox.c.address, outbox.c.payload, outbox.c.cause, outbox.c.state, outbox.c.message_id),
            *(outbox.c.attempts, outbox.c.error),
        )
        rows = (await connection.execute(select(*columns).order_by(outbox.c.id))).all()
        found = (
            await connection.execute(select(applications.c.reference, applications.c.wa_id, applications.c.answers))
        ).all()
    chats = await _chats(emulator_url, [c.wa_id for c in citizens])

    by_key = {row.key: row for row in stored}
    replies: Counter[int] = Counter()
    receipts: Counter[int] = Counter()
    for row in rows:
        (receipts if row.payload.get("kind") == MARK_READ else replies)[row.cause] += 1
    not_stored = not_processed = unanswered = receipts_wrong = 0
    shapes: dict[str, tuple[int, ...]] = {}
    for citizen in citizens:
        shape = []
        for message_id in citizen.message_ids:
            message = by_key.get(message_id)
            if message is None:
                not_stored += 1
                continue
            not_processed += message.state != "done"
            unanswered += message.state == "done" and not replies[message.id]
            receipts_wrong += message.state == "done" and receipts[message.id] != 1
            shape.append(replies[message.id])
        if citizen.submitted:
            shapes[citizen.wa_id] = tuple(shape)
    common = Counter(shapes.values()).most_common(1)
    odd = sum(1 for shape in shapes.values() if common and shape != common[0][0])

    answers = [row for row in rows if row.payload.get("kind") != MARK_READ]
    duplicates = count_duplicates(answers, chats, in_flight)
    expected = [c for c in citizens if c.submitted]
    intact, broken = _applications(expected, found, chats, sealer)
    return Verdict(
        messages=sum(len(c.message_ids) for c in citizens),
        not_stored=not_stored,
        not_processed=not_processed,
        unanswered=unanswered,
        receipts_wrong=receipts_wrong,
        replies=len(answers),
        not_sent=sum(1 for row in rows if row.state != "sent"),
        not_delivered=duplicates.not_delivered,
        odd_transcripts=odd,
        applications_expected=len(expected),
        applications_intact=intact,
        broken_applications=tuple(broken[:10]),
        duplicates=duplicates.total,
        unexplained_duplicates=duplicates.unexplained,
        duplicate_details=duplicates.details[:10],
    )


async def _chats(emulator_url: str, wa_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each citizen's chat at the emulator: what they sent and what reached them, in order."""
    chats: dict[str, list[dict[str, Any]]] = {}
    slots = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=emulator_url.rstrip("/"), timeout=60) as http:

        async def fetch(wa_id: str) -> None:
            async with slots:
                for attempt in range(3):
                    try:
                        response = await http.get(f"/_chat/{wa_id}/messages", params={"after": 0})
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
            chats[wa_id] = response.json()["messages"] if response.status_code == 200 else []

        await asyncio.gather(*(fetch(wa_id) for wa_id in wa_ids))
    return chats


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Duplicates:
    not_delivered: int  # replies recorded as sent that the citizen's chat lacks
    total: int  # messages in the chats that no outbox row recorded
    unexplained: int  # of those, beyond the rows with the same body in flight at a kill or restart
    details: tuple[str, ...]  # each unexplained one: the citizen, the body, its rows' attempts and last error


def count_duplicates(
    answers: Sequence[Any], chats: Mapping[str, list[dict[str, Any]]], in_flight: Mapping[int, int]
) -> Duplicates:
    """`answers`: outbox rows (id, address, state, message_id, attempts, error); `chats`: each citizen's
    messages at the emulator; `in_flight`: for each row id, at how many kills (or restarts) it was
    `sending`."""
    recorded: dict[str, Any] = {row.message_id: row for row in answers if row.message_id}
    not_delivered = duplicates = unexplained = 0
    details: list[str] = []
    by_citizen: dict[str, list[Any]] = defaultdict(list)
    for row in answers:
        by_citizen[row.address].append(row)
    for address, own in by_citizen.items():
        delivered = {m["id"]: m for m in chats.get(address, []) if m.get("direction") == "out"}
        allowed: Counter[str] = Counter()
        rows_by_body: dict[str, list[Any]] = defaultdict(list)
        for row in own:
            if row.state != "sent":
                continue
            message = delivered.get(row.message_id)
            if message is None:
                not_delivered += 1
                continue
            body = _canonical(message.get("body"))
            allowed[body] += in_flight.get(row.id, 0)
            rows_by_body[body].append(row)
        extra = Counter(_canonical(m.get("body")) for i, m in delivered.items() if i not in recorded)
        duplicates += sum(extra.values())
        for body, n in extra.items():
            if n > allowed[body]:
                unexplained += n - allowed[body]
                rows = ", ".join(f"{r.id} ({r.attempts} attempts, last error {r.error!r})" for r in rows_by_body[body])
                details.append(f"{address}: {n} extra, {allowed[body]} in flight; rows {rows or '-'}: {body[:160]}")
    return Duplicates(not_delivered, duplicates, unexplained, tuple(details))


def _applications(
    expected: Sequence[Citizen],
    found: Sequence[Any],
    chats: Mapping[str, list[dict[str, Any]]],
    sealer: AesGcmSealer,
) -> tuple[int, list[str]]:
    """How many submitted citizens have one intact application, and what is wrong with the others."""
    by_citizen: dict[str, list[Any]] = defaultdict(list)
    for row in found:
        by_citizen[row.wa_id].append(row)
    opened = {row.reference: json.dumps(unseal_json(sealer, row.answers), sort_keys=True) for row in found}
    # everyone gave the same answers but their own Aadhaar number: the most common answers, that number aside
    usual = Counter(
        answers.replace(c.aadhaar, AADHAAR)
        for c in expected
        for r in by_citizen.get(c.wa_id, [])
        if (answers := opened[r.reference])
    )
    common = usual.most_common(1)[0][0] if usual else ""
    intact, broken = 0, []
    for citizen in expected:
        own = by_citizen.get(citizen.wa_id, [])
        if len(own) != 1:
            broken.append(f"{citizen.wa_id}: {len(own)} applications")
            continue
        reference = own[0].reference
        answers = opened[reference]
        told = any(reference in _canonical(m.get("body")) for m in chats.get(citizen.wa_id, []))
        problems = [
            *([] if reference else ["no reference"]),
            *([] if told else [f"never told {reference}"]),
            *([] if citizen.aadhaar in answers else ["not their Aadhaar number"]),
            *([] if answers.replace(citizen.aadhaar, AADHAAR) == common else [f"answers unlike the others: {answers}"]),
        ]
        if problems:
            broken.append(f"{citizen.wa_id} {reference}: {', '.join(problems)}")
        else:
            intact += 1
    return intact, broken
