"""The transparency log, composed: its rows, its files, its key, its witnesses; publishing and proofs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from sevamitra.actions.anchor import AnchorPolicy, anchor_round
from sevamitra.actions.publish import Published, cosign, integrate
from sevamitra.adapters.chain.evm import EvmChain, sender_of
from sevamitra.adapters.sql.anchors import SqlAnchors
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.adapters.tlog.notes import NoteSigner, NoteVerificationError, verify_cosignature, verify_note
from sevamitra.adapters.tlog.witness_client import Conflict, request_cosignature
from sevamitra.core import logentries
from sevamitra.core.anchors import Anchor
from sevamitra.core.checkpoints import (
    Note,
    NoteSignature,
    TlogProof,
    format_note,
    format_proof,
    parse_checkpoint,
    parse_note,
)
from sevamitra.core.merkle import ProofError, inclusion_proof, leaf_hash, verify_inclusion
from sevamitra.core.ports import Clock
from sevamitra.core.tiles import TileHashes
from sevamitra.settings import Settings

ANCHOR_POLL_SECONDS = 5.0  # between anchoring rounds while one is in flight


@dataclass(frozen=True, slots=True)
class Witnessed:
    url: str
    vkey: str


def parse_witnesses(configured: Sequence[str]) -> list[Witnessed]:
    """`SEVAMITRA_LOG_WITNESSES` entries, each "<base URL> <vkey>"."""
    found = []
    for item in configured:
        url, _, vkey = item.strip().partition(" ")
        if not url or not vkey.strip():
            raise ValueError(f"a witness is '<base URL> <vkey>', not {item!r}")
        found.append(Witnessed(url=url.rstrip("/"), vkey=vkey.strip()))
    return found


def _cosigns(body: bytes, signature: NoteSignature, vkey: str) -> bool:
    try:
        verify_cosignature(body, signature, vkey)
    except (NoteVerificationError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class LogStatus:
    """What the verification page says about a certificate's place in the log."""

    state: str  # included | pending | missing | failed
    position: int | None = None
    size: int | None = None
    witnesses: int = 0
    problem: str = ""
    anchor: Anchor | None = None  # the first confirmed anchor covering the entry
    chain: str = ""  # the anchor's chain, by name


@dataclass
class TransparencyLog:
    store: SqlLog
    files: TileFiles
    signer: NoteSigner
    witnesses: list[Witnessed]
    clock: Clock
    http: httpx.AsyncClient
    interval: float
    batch: int
    anchors: SqlAnchors  # checkpoints anchored in a public chain, for certificates' statuses
    chain_name: str = ""
    _last: float = field(default=0.0, init=False)

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    def sign(self, body: bytes) -> bytes:
        return format_note(Note(text=body, signatures=(self.signer.sign(body),)))

    async def publish_once(self) -> Published | None:
        """Integrate what waits and gather cosignatures (at most once per interval)."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return None
        self._last = now
        published = await integrate(
            self.store, self.files, self.sign, origin=self.origin, now=self.clock.now(), limit=self.batch
        )
        if self.witnesses:
            await cosign(self.store, self.files, [w.url for w in self.witnesses], self._ask, now=self.clock.now())
        return published

    async def publish_all(self) -> int:
        """Integrate until nothing waits (the CLI and tests); returns the entries integrated."""
        total = 0
        while True:
            self._last = 0.0
            published = await self.publish_once()
            if published is None:
                return total
            total += published.entries

    async def _ask(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> Sequence[NoteSignature] | int:
        """A witness's cosignatures of `note`, keeping only those that verify with its configured key."""
        answer = await request_cosignature(self.http, url, old, proof, note)
        if isinstance(answer, Conflict):
            return answer.size
        vkey = next(w.vkey for w in self.witnesses if w.url == url)
        body = parse_note(note).text
        return [s for s in answer.signatures if _cosigns(body, s, vkey)]

    async def proof(self, number: str) -> bytes | None:
        """A C2SP tlog-proof of the certificate's issuance entry against the latest checkpoint."""
        latest = await self.store.latest()
        entries = await self.store.entries_of(number)
        if latest is None or not entries or entries[0].position >= latest.size:
            return None
        entry = entries[0]
        hashes = await asyncio.to_thread(
            lambda: inclusion_proof(entry.position, latest.size, TileHashes(latest.size, self.files.read_tile).hash_at)
        )
        salt = (entry.salt or b"").hex()
        proof = TlogProof(
            index=entry.position, hashes=tuple(hashes), checkpoint=parse_note(latest.note), extra=salt.encode()
        )
        return format_proof(proof)

    async def status(self, number: str, cose: bytes) -> LogStatus:
        """Check, from the served tiles and the signed checkpoint, that this certificate is logged."""
        latest = await self.store.latest()
        entries = await self.store.entries_of(number)
        if not entries:
            waiting = await self.store.pending_count()
            return LogStatus(state="pending" if waiting else "missing")
        if latest is None or entries[0].position >= latest.size:
            return LogStatus(state="pending")
        entry = entries[0]
        try:
            note = parse_note(latest.note)
            verify_note(note, [self.vkey])
            checkpoint = parse_checkpoint(note.text)
            parsed = logentries.parse_entry(entry.entry)
            if entry.salt is None or parsed.get("certificate") != logentries.certificate_hash(number, entry.salt).hex():
                raise ValueError("the logged entry is about another certificate")
            if parsed.get("record") != logentries.record_hash(cose).hex():
                raise ValueError("the logged entry is for another signed payload")
            hashes = TileHashes(checkpoint.size, self.files.read_tile)
            if await asyncio.to_thread(hashes.leaf, entry.position) != leaf_hash(entry.entry):
                raise ValueError(f"the served tile's leaf {entry.position} is not this entry's hash")
            proof = await asyncio.to_thread(inclusion_proof, entry.position, checkpoint.size, hashes.hash_at)
            verify_inclusion(leaf_hash(entry.entry), entry.position, checkpoint.size, proof, checkpoint.root)
        except (ProofError, NoteVerificationError, ValueError, OSError) as error:
            return LogStatus(state="failed", position=entry.position, size=latest.size, problem=str(error))
        witnesses = self._witnessed(note)
        anchor = await self.anchors.covering(entry.position)
        return LogStatus(
            state="included",
            position=entry.position,
            size=checkpoint.size,
            witnesses=witnesses,
            anchor=anchor,
            chain=chain_label(self.chain_name, anchor.chain_id) if anchor else "",
        )

    def _witnessed(self, note: Note) -> int:
        count = 0
        for witness in self.witnesses:
            try:
                verify_note(note, [witness.vkey])
                count += 1
            except NoteVerificationError:
                continue
        return count


def chain_label(name: str, chain_id: int) -> str:
    return name or f"chain {chain_id}"


@dataclass
class Anchoring:
    """Checkpoints anchored in an EVM chain, one round at a time (settings `ANCHOR_*`)."""

    store: SqlAnchors
    log: SqlLog
    chain: EvmChain
    policy: AnchorPolicy
    clock: Clock
    poll: float = ANCHOR_POLL_SECONDS
    _last: float = field(default=float("-inf"), init=False)

    async def round_once(self) -> Anchor | None:
        """One anchoring step, at most once per `poll` seconds (the worker's chores call it often)."""
        now = time.monotonic()
        if now - self._last < self.poll:
            return None
        self._last = now
        return await anchor_round(self.store, self.log, self.chain, self.policy, self.clock.now())


def anchoring(
    settings: Settings, log: SqlLog, anchors: SqlAnchors, clock: Clock, chain: EvmChain | None = None
) -> Anchoring | None:
    """The anchoring round when `ANCHOR_RPC_URL` is set (or a chain is given), else None."""
    if chain is None:
        if not settings.anchor_rpc_url:
            return None
        chain = EvmChain.at(
            settings.anchor_rpc_url,
            name=settings.anchor_chain_name,
            private_key=settings.anchor_private_key.get_secret_value(),
            to=settings.anchor_to,
            max_fee_gwei=settings.anchor_max_fee_gwei,
            gas_limit=settings.anchor_gas_limit,
        )
    policy = AnchorPolicy(
        interval=timedelta(seconds=settings.anchor_interval_seconds),
        confirmations=settings.anchor_confirmations,
        resend_after=timedelta(seconds=settings.anchor_resend_seconds),
    )
    return Anchoring(store=anchors, log=log, chain=chain, policy=policy, clock=clock)


async def published_anchors(store: SqlAnchors, chain_name: str) -> dict[str, Any]:
    """`GET /log/anchors`: the anchors mined so far (included or confirmed), oldest first, and the
    account that sent them (read from the signed transactions: it stands when anchoring is off)."""
    mined = [
        (a, a.transaction, a.inclusion)
        for a in await store.listed(published_only=True)
        if a.transaction is not None and a.inclusion is not None
    ]
    newest = mined[-1][0] if mined else None
    return {
        "chain": chain_label(chain_name, newest.chain_id) if newest else None,
        "chain_id": newest.chain_id if newest else None,
        "account": sender_of(mined[-1][1].raw) if mined else None,
        "anchors": [
            {
                "size": a.size,
                "checkpoint_sha256": a.checkpoint_hash.hex(),
                "state": a.state.value,
                "transaction": "0x" + sent.hash.hex(),
                "block": included.block,
                "block_hash": "0x" + included.block_hash.hex(),
                "anchored_at": a.created_at.isoformat(),
            }
            for a, sent, included in mined
        ],
    }
