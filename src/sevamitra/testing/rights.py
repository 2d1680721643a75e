"""Consent and data rights for tests and the terminal chat: an in-memory store, and citizens who start
out having accepted the notice in force (for tests about something else than the first contact)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sevamitra.core.conversation import ConversationState
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import CitizenTurn, Conversations, DataRights
from sevamitra.core.privacy import (
    KEPT_UNDER_LAW,
    PURPOSES,
    Access,
    ConsentRecord,
    HeldApplication,
    HeldCertificate,
    HeldRequest,
    Holdings,
)
from sevamitra.testing.memory import MemoryTurn


@dataclass
class MemoryRights:
    """The `DataRights` port over `MemoryTurn`s; officers' accesses are whatever a test puts in `seen`."""

    consents: dict[str, list[ConsentRecord]] = field(default_factory=dict)
    requests: dict[str, list[HeldRequest]] = field(default_factory=dict)
    seen: list[Access] = field(default_factory=list)  # officers' accesses, to any citizen's applications

    async def consent(self, turn: CitizenTurn, record: ConsentRecord) -> None:
        self.consents.setdefault(turn.address, []).append(record)

    async def withdraw(self, turn: CitizenTurn, now: datetime) -> tuple[str, ...]:
        given = self.consents.get(turn.address, [])
        self.consents[turn.address] = [c if c.withdrawn_at else replace(c, withdrawn_at=now) for c in given]
        memory = _memory(turn)
        memory.alerts.clear()
        return tuple(ref for ref, app in memory.stored if app.status in KEPT_UNDER_LAW)

    async def holdings(self, turn: CitizenTurn) -> Holdings:
        memory = _memory(turn)
        applications = tuple(
            HeldApplication(
                reference=ref,
                service_id=app.submission.service_id,
                status=app.status.value,
                language=app.submission.language,
                answers=dict(app.submission.answers),
                submitted_at=app.submitted_at,
                due_at=app.due_at,
                fee_inr=app.fee_inr,
            )
            for ref, app in memory.stored
        )
        certificates = tuple(
            HeldCertificate(
                number=c.statement.number,
                reference=c.reference,
                service_id=c.statement.service_id,
                kind=c.statement.kind,
                issued_at=c.statement.issued_at,
                valid_until=c.statement.valid_until,
                status="valid",
            )
            for c in memory.certificates
        )
        return Holdings(
            address=turn.address,
            wa_id=turn.address,
            conversation=memory.state,
            consents=tuple(self.consents.get(turn.address, ())),
            applications=applications,
            certificates=certificates,
            requests=tuple(self.requests.get(turn.address, ())),
        )

    async def accesses(self, turn: CitizenTurn, limit: int) -> tuple[list[Access], int]:
        own = {ref for ref, _ in _memory(turn).stored}
        mine = sorted((a for a in self.seen if a.reference in own), key=lambda a: a.at, reverse=True)
        return mine[:limit], len(mine)

    async def requested(self, turn: CitizenTurn, kind: str, now: datetime) -> None:
        self.requests.setdefault(turn.address, []).append(HeldRequest(kind=kind, at=now))

    async def last_requested(self, turn: CitizenTurn, kind: str) -> datetime | None:
        times = [r.at for r in self.requests.get(turn.address, ()) if r.kind == kind]
        return max(times, default=None)


def _memory(turn: CitizenTurn) -> MemoryTurn:
    if not isinstance(turn, MemoryTurn):
        raise TypeError(f"MemoryRights works with MemoryTurn, not {type(turn).__name__}")
    return turn


async def consented(
    conversations: Conversations, rights: DataRights, *, wa_id: str, notice: str, now: datetime, language: str = "en"
) -> None:
    """A citizen who accepted `notice` before writing (their language not chosen yet): the consent kept and
    their conversation saved as the turn worker would, in one transaction."""
    async with conversations.turn(wa_id, now) as turn:
        if turn is None:
            raise RuntimeError(f"another worker holds {wa_id}")
        record = ConsentRecord(notice=notice, language=language, purposes=PURPOSES, given_at=now)
        await rights.consent(turn, record)
        state = ConversationState.from_dict(turn.state) if turn.state else ConversationState()
        turn.save_state(replace(state, consented=notice).to_dict(), Recipient(wa_id=wa_id), now)
