"""A C2SP tlog-witness: cosigns a log's checkpoint only if it extends the last one it cosigned.

`Witness.add_checkpoint` answers the body of a `POST <prefix>/add-checkpoint` request the way
c2sp.org/tlog-witness says, status code by status code. For every configured log it keeps one
record, the latest checkpoint it cosigned, in a `WitnessState` directory; the record is checked
and replaced under a per-origin lock, and written durably before any cosignature leaves. One
process per state directory: the locks live in that process.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sevamitra.adapters.tlog.notes import (
    SEED_SIZE,
    CosignatureSigner,
    NoteVerificationError,
    cosignature_signer_from_seed,
    verify_note,
)
from sevamitra.core.checkpoints import (
    ED25519_TYPE,
    HASH_SIZE,
    Checkpoint,
    Note,
    b64decode,
    b64encode,
    parse_checkpoint,
    parse_decimal,
    parse_note,
    parse_vkey,
)
from sevamitra.core.merkle import EMPTY_ROOT, ProofError, verify_consistency

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessAnswer:
    """An HTTP answer to one add-checkpoint request."""

    status: int
    body: bytes
    content_type: str = TEXT_CONTENT_TYPE


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessedCheckpoint:
    """The latest checkpoint the witness cosigned for one log, and the signed note it came in."""

    origin: str
    size: int
    root: bytes
    note: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint body: the old size, the consistency proof and the signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    signed_note: bytes
    note: Note
    checkpoint: Checkpoint


class MalformedRequest(ValueError):
    """An add-checkpoint body that does not follow the format."""


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """`old <size>`, up to 63 base64 hashes, an empty line, then a signed checkpoint note."""
    split = body.find(b"\n\n")
    if split < 0:
        raise MalformedRequest("no empty line between the old size and proof and the checkpoint")
    try:
        head = body[:split].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedRequest("the old size and proof lines are not ASCII") from None
    first, *proof_lines = head.split("\n")
    signed_note = body[split + 2 :]
    if not first.startswith("old "):
        raise MalformedRequest("the request does not start with an `old <size>` line")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedRequest(f"{len(proof_lines)} consistency proof lines, more than {MAX_PROOF_LINES}")
    try:
        old_size = parse_decimal(first.removeprefix("old "), "old size")
        proof = tuple(b64decode(line, "consistency proof hash") for line in proof_lines)
        note = parse_note(signed_note)
        checkpoint = parse_checkpoint(note.text)
    except ValueError as error:  # FormatError, and anything the types refuse
        raise MalformedRequest(str(error)) from None
    if any(len(item) != HASH_SIZE for item in proof):
        raise MalformedRequest(f"a consistency proof hash is not {HASH_SIZE} bytes")
    return AddCheckpointRequest(
        old_size=old_size, proof=proof, signed_note=signed_note, note=note, checkpoint=checkpoint
    )


def _origin_key(origin: str) -> str:
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the directory."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


class WitnessState:
    """A directory of one small JSON file per log (named by SHA-256 of its origin), replaced atomically."""

    __slots__ = ("directory",)

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, origin: str) -> Path:
        return self.directory / f"{_origin_key(origin)}.json"

    def load(self, origin: str) -> WitnessedCheckpoint | None:
        """The latest cosigned checkpoint of `origin`, or None if the witness never cosigned one."""
        path = self._path(origin)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        try:
            record = WitnessedCheckpoint(
                origin=data["origin"],
                size=int(data["size"]),
                root=b64decode(data["root"], "stored root"),
                note=str(data.get("note", "")).encode("utf-8"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"witness state {path} is corrupt: {error}") from None
        if record.origin != origin or record.size < 0 or len(record.root) != HASH_SIZE:
            raise ValueError(f"witness state {path} does not hold a checkpoint of {origin!r}")
        return record

    def save(self, record: WitnessedCheckpoint) -> None:
        """Replace the record of `record.origin` durably: temp file, fsync, rename, fsync the directory."""
        data = {
            "origin": record.origin,
            "size": record.size,
            "root": b64encode(record.root),
            "note": record.note.decode("utf-8"),
        }
        _write_atomically(self._path(record.origin), json.dumps(data, indent=1).encode("utf-8") + b"\n")

    def keep_evidence(self, origin: str, request: bytes, reason: str) -> Path:
        """Keep a log-signed request the witness refused (a fork or a bad proof) as evidence."""
        evidence = self.directory / "evidence"
        evidence.mkdir(exist_ok=True)
        name = f"{_origin_key(origin)[:16]}-{hashlib.sha256(request).hexdigest()[:16]}"
        path = evidence / f"{name}.txt"
        _write_atomically(path, f"# {reason}\n".encode() + request)
        return path


def _answer(status: int, message: str) -> WitnessAnswer:
    return WitnessAnswer(status=status, body=message.encode("utf-8") + b"\n")


def _check_log_keys(logs: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    checked: dict[str, tuple[str, ...]] = {}
    for origin, vkeys in logs.items():
        if not vkeys:
            raise ValueError(f"log {origin!r} has no verifier key")
        for text in vkeys:
            name, key_type, _, _ = parse_vkey(text)
            if key_type != ED25519_TYPE:
                raise ValueError(f"log key {name!r} has type {key_type:#04x}, not Ed25519 ({ED25519_TYPE:#04x})")
        checked[origin] = tuple(vkeys)
    return checked


class Witness:
    """Cosigns checkpoints of the configured logs that are consistent with what it cosigned before."""

    __slots__ = ("_clock", "_locks", "_logs", "_signer", "_state")

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Mapping[str, Sequence[str]],
        state: WitnessState,
        clock: Callable[[], int],
    ) -> None:
        self._signer = signer
        self._logs = _check_log_keys(logs)
        self._state = state
        self._clock = clock
        self._locks = {origin: asyncio.Lock() for origin in self._logs}

    @property
    def name(self) -> str:
        """The witness's key name, which its cosignature lines carry."""
        return self._signer.name

    @property
    def vkey(self) -> str:
        """The witness's verifier key (type 0x04, cosignature/v1)."""
        return self._signer.vkey

    @property
    def origins(self) -> tuple[str, ...]:
        """The origins of the logs this witness accepts checkpoints from."""
        return tuple(self._logs)

    async def add_checkpoint(self, request_body: bytes) -> WitnessAnswer:
        """Answer an add-checkpoint request body: a cosignature, or the status the spec prescribes."""
        try:
            request = parse_add_checkpoint(request_body)
        except MalformedRequest as error:
            return _answer(400, f"malformed add-checkpoint request: {error}")
        origin = request.checkpoint.origin
        vkeys = self._logs.get(origin)
        if vkeys is None:
            return _answer(404, f"unknown log {origin!r}")
        try:
            verify_note(request.note, vkeys)
        except NoteVerificationError as error:
            return _answer(403, f"checkpoint of {origin!r} is not signed by the log: {error}")
        if request.old_size > request.checkpoint.size:
            return _answer(400, f"old size {request.old_size} is larger than the checkpoint size")
        async with self._locks[origin]:
            return await self._check_and_cosign(request, request_body)

    async def _check_and_cosign(self, request: AddCheckpointRequest, request_body: bytes) -> WitnessAnswer:
        checkpoint = request.checkpoint
        origin = checkpoint.origin
        latest = await asyncio.to_thread(self._state.load, origin)
        latest_size, latest_root = (latest.size, latest.root) if latest else (0, EMPTY_ROOT)
        if request.old_size != latest_size:
            return WitnessAnswer(status=409, body=b"%d\n" % latest_size, content_type=SIZE_CONTENT_TYPE)
        if checkpoint.size == latest_size and checkpoint.root != latest_root:
            reason = (
                f"FORK: log {origin!r} signed root {b64encode(checkpoint.root)} at size {checkpoint.size}, "
                f"but this witness cosigned root {b64encode(latest_root)} at that size"
            )
            return await self._refuse(409, origin, request_body, reason)
        try:
            if request.old_size == 0 and checkpoint.size > 0:
                if request.proof:
                    raise ProofError("the consistency proof from size 0 must be empty")
            else:
                verify_consistency(latest_size, checkpoint.size, latest_root, checkpoint.root, request.proof)
        except ProofError as error:
            reason = f"log {origin!r}: no consistency from size {latest_size} to {checkpoint.size}: {error}"
            return await self._refuse(422, origin, request_body, reason)
        if checkpoint.size != latest_size or latest is None:
            record = WitnessedCheckpoint(
                origin=origin,
                size=checkpoint.size,
                root=checkpoint.root,
                note=request.signed_note,
            )
            await asyncio.to_thread(self._state.save, record)
        cosignature = self._signer.cosign(request.note.text, self._clock())
        return WitnessAnswer(status=200, body=cosignature.line().encode("utf-8") + b"\n")

    async def _refuse(self, status: int, origin: str, request_body: bytes, reason: str) -> WitnessAnswer:
        try:
            path = await asyncio.to_thread(self._state.keep_evidence, origin, request_body, reason)
        except OSError:
            logger.exception("%s (and the evidence could not be kept)", reason)
        else:
            logger.error("%s (evidence kept in %s)", reason, path)
        return _answer(status, reason)


def load_witness_key(path: Path, name: str) -> CosignatureSigner:
    """The witness's cosigner from a 32-byte seed file; a new random seed (mode 0600) if it is missing."""
    try:
        seed = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = secrets.token_bytes(SEED_SIZE)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(seed)
            file.flush()
            os.fsync(file.fileno())
        _fsync_directory(path.parent)
    if len(seed) != SEED_SIZE:
        raise ValueError(f"witness key file {path} holds {len(seed)} bytes, not a {SEED_SIZE}-byte Ed25519 seed")
    return cosignature_signer_from_seed(name, seed)
