"""The transparency log, composed: its rows, its files, its key, its witnesses; publishing and proofs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from sevamitra.actions.publish import Published, cosign, integrate
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.adapters.tlog.notes import NoteSigner, NoteVerificationError, verify_cosignature, verify_note
from sevamitra.adapters.tlog.witness_client import Conflict, request_cosignature
from sevamitra.core import logentries
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
        return LogStatus(state="included", position=entry.position, size=checkpoint.size, witnesses=witnesses)

    def _witnessed(self, note: Note) -> int:
        count = 0
        for witness in self.witnesses:
            try:
                verify_note(note, [witness.vkey])
                count += 1
            except NoteVerificationError:
                continue
        return count
