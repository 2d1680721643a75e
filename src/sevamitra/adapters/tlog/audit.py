"""An auditor and a monitor for a C2SP tlog-tiles transparency log served over HTTP.

The auditor reads the log exactly as any outsider would: `B/log/checkpoint` (a signed note over a
checkpoint), the level-0 tiles of leaf hashes and the entry bundles up to the checkpoint's size
(a full tile standing in for a partial one), and the higher-level tiles. It checks the log
key's signature and the witnesses' cosignatures, that every entry hashes to its leaf and is
well formed, that the higher tiles agree with the level-0 tiles, that the tiles give the signed
root, and that the log still extends the last checkpoint it saw for the same origin. It also
flags back-dated issuances and revocations.

A full audit then reads `B/log/anchors`, the checkpoint hashes the log says it published in an EVM
chain, and checks each against the SHA-256 of the checkpoint body of that size that it computed
itself from the tiles. (Whether the chain holds those transactions is for the caller to check.)

One pass of the audit starts either at entry 0 (`audit`) or at the size of the saved checkpoint
(`monitor`, after its first pass). A pass that starts late reads the roots of the older full
level-0 tiles from the level-1 tiles; whatever it reads there is bound by checking that it gives
the saved root, as a consistency proof would be.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import httpx

from sevamitra.adapters.tlog.notes import NoteVerificationError, verify_cosignature, verify_note
from sevamitra.core import merkle
from sevamitra.core.anchors import checkpoint_hash
from sevamitra.core.checkpoints import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Checkpoint,
    FormatError,
    Note,
    b64decode,
    b64encode,
    parse_checkpoint,
    parse_note,
    parse_vkey,
)
from sevamitra.core.logentries import Entry, EntryError, parse_entry

CONCURRENCY = 8
"""Requests in flight at once."""
BATCH_TILES = 64
"""Level-0 tiles (with their bundles) fetched per batch; the next batch is fetched while one is checked."""
MAX_CHECKPOINT_BYTES = 1 << 20
MAX_TILE_BYTES = merkle.TILE_WIDTH * merkle.HASH_SIZE
MAX_BUNDLE_BYTES = merkle.TILE_WIDTH * (2 + 0xFFFF)
MAX_ANCHORS_BYTES = 16 << 20
BACKDATED_EVENTS = frozenset({"issuance", "revocation"})
ANCHOR_STATES = frozenset({"included", "confirmed"})
STATE_VERSION = 1
MAX_TREE_SIZE = (1 << 64) - 1
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_EVM_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

T = TypeVar("T")


class AuditError(Exception):
    """The audit could not run: the log is unreachable, or the keys or the saved state are unusable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """A checkpoint hash the log says it published on a chain: the call `anchor(size, checkpoint_sha256)`.

    `transaction` and `block_hash` are 0x-prefixed hex, as the log serves them.
    """

    size: int
    checkpoint_sha256: bytes
    state: str
    transaction: str
    block: int
    block_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """What one pass over a log found.

    `start` is the first entry the pass examined (0 for `audit`); `entries` holds the examined
    well-formed entries that the caller asked to keep. `forked` is set when the checkpoint
    contradicts the saved one: a smaller tree, or one that does not extend it.

    A full audit also lists the log's `anchors` (oldest first) with the `chain` they name
    (`chain_id`, and the `chain_account` that sends them): `anchors_matched` of them hash the
    checkpoint the auditor computed for their size, `anchors_ahead` are of a tree larger than
    this checkpoint's, so they cannot be checked yet.
    """

    origin: str
    size: int
    root: bytes
    witnesses_ok: int
    start: int = 0
    problems: list[str] = field(default_factory=list)
    entries: list[tuple[int, Entry]] = field(default_factory=list)
    forked: bool = False
    anchors: list[Anchor] = field(default_factory=list)
    chain: str | None = None
    chain_id: int | None = None
    chain_account: str | None = None
    anchors_matched: int = 0
    anchors_ahead: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedCheckpoint:
    """The last checkpoint accepted for an origin, and the latest entry time seen up to it."""

    origin: str
    size: int
    root: bytes
    latest_time: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorOutcome:
    """How a monitor stopped: after a fork, or after its one pass (`once`)."""

    forked: bool
    alerts: int
    passes: int


# Keys and saved state


@dataclass(frozen=True, slots=True)
class _Keys:
    log: str
    witnesses: tuple[tuple[str, bytes, str], ...]  # (name, key id, vkey)


def _keys(log_vkey: str, witness_vkeys: Iterable[str]) -> _Keys:
    try:
        name, key_type, _, _ = parse_vkey(log_vkey)
    except FormatError as error:
        raise AuditError(f"the log key is not a verifier key: {error}") from None
    if key_type != ED25519_TYPE:
        raise AuditError(f"the log key {name!r} is not an Ed25519 note key (type {ED25519_TYPE:#04x})")
    witnesses: dict[tuple[str, bytes], str] = {}
    for text in witness_vkeys:
        try:
            name, key_type, _, stated_id = parse_vkey(text)
        except FormatError as error:
            raise AuditError(f"a witness key is not a verifier key: {error}") from None
        if key_type != COSIGNATURE_TYPE:
            raise AuditError(f"the witness key {name!r} is not a cosignature key (type {COSIGNATURE_TYPE:#04x})")
        witnesses[name, stated_id] = text
    return _Keys(log_vkey, tuple((name, key_id, text) for (name, key_id), text in witnesses.items()))


class _StateStore:
    """Saved checkpoints, one small JSON file per origin under `directory` (or only in memory)."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._memory: dict[str, SavedCheckpoint] = {}

    @staticmethod
    def _path(directory: Path, origin: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", origin)[:64]
        digest = hashlib.sha256(origin.encode()).hexdigest()[:16]
        return directory / f"{readable}-{digest}.json"

    async def load(self, origin: str) -> SavedCheckpoint | None:
        if origin in self._memory or self._directory is None:
            return self._memory.get(origin)
        saved = await asyncio.to_thread(_read_state, self._path(self._directory, origin), origin)
        if saved is not None:
            self._memory[origin] = saved
        return saved

    async def save(self, saved: SavedCheckpoint) -> None:
        self._memory[saved.origin] = saved
        if self._directory is not None:
            await asyncio.to_thread(_write_state, self._path(self._directory, saved.origin), saved)


def _read_state(path: Path, origin: str) -> SavedCheckpoint | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise AuditError(f"the saved checkpoint {path} is unreadable: {error}") from None
    try:
        latest = document.get("latest_time")
        saved = SavedCheckpoint(
            origin=document["origin"],
            size=document["size"],
            root=b64decode(document["root"], "saved root"),
            latest_time=latest,
        )
        valid = (
            document.get("version") == STATE_VERSION
            and saved.origin == origin
            and isinstance(saved.size, int)
            and saved.size >= 0
            and len(saved.root) == merkle.HASH_SIZE
            and (latest is None or isinstance(latest, int))
        )
    except (AttributeError, KeyError, TypeError, FormatError):
        valid = False
    if not valid:
        raise AuditError(f"the saved checkpoint {path} is not one this auditor wrote for {origin!r}")
    return saved


def _write_state(path: Path, saved: SavedCheckpoint) -> None:
    document = {
        "version": STATE_VERSION,
        "origin": saved.origin,
        "size": saved.size,
        "root": b64encode(saved.root),
        "latest_time": saved.latest_time,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise AuditError(f"could not save the checkpoint to {path}: {error}") from None


# Fetching


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A tile's body, or why there is none; `stand_in` when a full tile replaced a partial one."""

    path: str
    body: bytes | str
    stand_in: bool = False


class _Fetcher:
    def __init__(self, http: httpx.AsyncClient, base_url: str, concurrency: int = CONCURRENCY) -> None:
        self._http = http
        self.base = base_url.rstrip("/")
        self._limit = asyncio.Semaphore(concurrency)

    async def get(self, path: str, max_bytes: int) -> bytes | str:
        """The body at `<base>/<path>`, or a reason it is missing or unusable; AuditError when unreachable."""
        url = f"{self.base}/{path}"
        async with self._limit:
            try:
                async with self._http.stream("GET", url) as response:
                    if response.status_code in (404, 410):
                        return f"missing (HTTP {response.status_code})"
                    if response.status_code != 200:
                        raise AuditError(f"GET {url} answered HTTP {response.status_code}")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            return f"larger than {max_bytes} bytes"
                    return bytes(body)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                raise AuditError(f"GET {url} failed: {type(error).__name__}: {error}") from None

    async def tile(self, path: Callable[[int], str], width: int, max_bytes: int) -> _Fetched:
        """A tile by its width, falling back to the full tile when a partial one is missing."""
        exact = path(width)
        body = await self.get(exact, max_bytes)
        if isinstance(body, bytes) or width == merkle.TILE_WIDTH:
            return _Fetched(exact, body)
        full = path(merkle.TILE_WIDTH)
        stand_in = await self.get(full, max_bytes)
        if isinstance(stand_in, bytes):
            return _Fetched(full, stand_in, stand_in=True)
        return _Fetched(exact, body)


def _hash_tile_path(level: int, index: int) -> Callable[[int], str]:
    return lambda width: "log/" + merkle.tile_path(level, index, width)


def _bundle_path(index: int) -> Callable[[int], str]:
    return lambda width: "log/" + merkle.entries_path(index, width)


async def _gather(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest and raise that failure."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failures:
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


def _split_bundle(data: bytes) -> tuple[list[bytes], str | None]:
    """The entries of a bundle (2-byte big-endian length, then the entry), and how it is truncated if it is."""
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            return entries, f"ends inside the length prefix of its entry {len(entries)}"
        length = int.from_bytes(data[position : position + 2], "big")
        if position + 2 + length > len(data):
            return entries, f"ends inside its entry {len(entries)}, which claims {length} bytes"
        entries.append(data[position + 2 : position + 2 + length])
        position += 2 + length
    return entries, None


# The tree as one pass knows it


class _Subtrees:
    """Complete-subtree hashes from the roots of full level-0 tiles and the leaf hashes of fetched tiles."""

    def __init__(self) -> None:
        self.tile_roots: dict[int, bytes] = {}
        self.leaves: dict[int, list[bytes]] = {}
        self._cache: dict[tuple[int, int], bytes] = {}

    def hash_at(self, level: int, index: int) -> bytes:
        """The hash `merkle.HashAt` asks for; KeyError when the pass does not know it."""
        if level < merkle.TILE_HEIGHT:
            tile, offset = divmod(index << level, merkle.TILE_WIDTH)
            hashes = self.leaves[tile][offset : offset + (1 << level)]
            if len(hashes) != 1 << level:
                raise KeyError((level, index))
            return merkle.root(hashes)
        key = (level, index)
        if key not in self._cache:
            span = 1 << (level - merkle.TILE_HEIGHT)
            self._cache[key] = merkle.root([self.tile_roots[tile] for tile in range(index * span, (index + 1) * span)])
        return self._cache[key]

    def root(self, size: int) -> bytes | None:
        """The root of the first `size` leaves, or None when a hash it needs is unknown."""
        try:
            return merkle.root_from(size, self.hash_at)
        except KeyError:
            return None


# One pass


class _Pass:
    """One audit pass over the log, from `start` up to the checkpoint's size."""

    def __init__(
        self,
        fetcher: _Fetcher,
        checkpoint: Checkpoint,
        *,
        start: int,
        saved: SavedCheckpoint | None,
        max_backdate_seconds: int,
        keep: Callable[[Entry], bool],
    ) -> None:
        self.fetcher = fetcher
        self.checkpoint = checkpoint
        self.start = start
        self.saved = saved
        self.max_backdate = max_backdate_seconds
        self.keep = keep
        self.problems: list[str] = []
        self.tree_ok = True
        self.forked = False
        self.entries: list[tuple[int, Entry]] = []
        self.latest_time = saved.latest_time if saved is not None and start > 0 else None
        self.subtrees = _Subtrees()
        self.upper: dict[int, list[bytes | None]] = {}
        self.upper_paths: dict[int, list[str]] = {}

    def problem(self, text: str, *, tree: bool = True) -> None:
        """Record a problem; a tree problem means the checkpoint is not shown to be backed by the tiles."""
        self.problems.append(text)
        if tree:
            self.tree_ok = False

    async def run(self) -> None:
        size = self.checkpoint.size
        await self._fetch_upper_tiles()
        first_tile = self.start // merkle.TILE_WIDTH
        self._adopt_level_one(first_tile)
        await self._scan_level_zero(first_tile, -(-size // merkle.TILE_WIDTH))
        self._check_upper_tiles()
        self._check_roots()

    # higher-level tiles

    async def _fetch_upper_tiles(self) -> None:
        size = self.checkpoint.size
        jobs: list[tuple[int, int, int]] = []
        level = 1
        while size >> (merkle.TILE_HEIGHT * level):
            count = size >> (merkle.TILE_HEIGHT * level)
            self.upper[level] = [None] * count
            self.upper_paths[level] = []
            for index in range(-(-count // merkle.TILE_WIDTH)):
                jobs.append((level, index, min(merkle.TILE_WIDTH, count - index * merkle.TILE_WIDTH)))
            level += 1
        fetched = await _gather(
            self.fetcher.tile(_hash_tile_path(level, index), width, MAX_TILE_BYTES) for level, index, width in jobs
        )
        for (level, index, width), tile in zip(jobs, fetched, strict=True):
            self.upper_paths[level].append(tile.path)
            hashes = self._hashes(f"level-{level} tile {index}", tile, width)
            if hashes is not None:
                self.upper[level][index * merkle.TILE_WIDTH : index * merkle.TILE_WIDTH + width] = hashes

    def _adopt_level_one(self, first_tile: int) -> None:
        """Take the roots of the full level-0 tiles before `first_tile` from the level-1 tiles."""
        level_one = self.upper.get(1, [])
        for tile in range(first_tile):
            value = level_one[tile] if tile < len(level_one) else None
            if value is None:
                self.problem(f"the root of level-0 tile {tile} is unknown, so the saved checkpoint cannot be checked")
                return
            self.subtrees.tile_roots[tile] = value

    def _check_upper_tiles(self) -> None:
        for level, hashes in self.upper.items():
            for position, value in enumerate(hashes):
                if value is None:
                    continue
                try:
                    expected = self.subtrees.hash_at(merkle.TILE_HEIGHT * level, position)
                except KeyError:
                    continue  # a level-0 tile below it is already reported
                if value != expected:
                    tile, offset = divmod(position, merkle.TILE_WIDTH)
                    self.problem(
                        f"level-{level} tile {tile} ({self.upper_paths[level][tile]}) holds {value.hex()} "
                        f"at position {offset}; the level-0 tiles give {expected.hex()}"
                    )

    # level-0 tiles and entry bundles

    async def _scan_level_zero(self, first_tile: int, end_tile: int) -> None:
        size = self.checkpoint.size

        def width(tile: int) -> int:
            return min(merkle.TILE_WIDTH, size - tile * merkle.TILE_WIDTH)

        async def fetch(tile: int) -> tuple[_Fetched, _Fetched]:
            hashes = self.fetcher.tile(_hash_tile_path(0, tile), width(tile), MAX_TILE_BYTES)
            bundle = self.fetcher.tile(_bundle_path(tile), width(tile), MAX_BUNDLE_BYTES)
            both = await _gather([hashes, bundle])
            return both[0], both[1]

        def start(batch: range) -> asyncio.Future[list[tuple[_Fetched, _Fetched]]]:
            return asyncio.ensure_future(_gather(fetch(tile) for tile in batch))

        batches = [range(low, min(low + BATCH_TILES, end_tile)) for low in range(first_tile, end_tile, BATCH_TILES)]
        upcoming: asyncio.Future[list[tuple[_Fetched, _Fetched]]] | None = None
        try:
            for number, batch in enumerate(batches):
                current = upcoming if upcoming is not None else start(batch)
                # fetch the next batch while this one is checked
                upcoming = start(batches[number + 1]) if number + 1 < len(batches) else None
                for tile, (hashes, bundle) in zip(batch, await current, strict=True):
                    self._check_tile(tile, width(tile), hashes, bundle)
        finally:
            if upcoming is not None:
                upcoming.cancel()

    def _hashes(self, what: str, tile: _Fetched, width: int) -> list[bytes] | None:
        what = f"{what} ({tile.path})"
        if isinstance(tile.body, str):
            self.problem(f"{what} is {tile.body}")
            return None
        stated = merkle.TILE_WIDTH if tile.stand_in else width
        if len(tile.body) != stated * merkle.HASH_SIZE:
            self.problem(
                f"{what} is {len(tile.body)} bytes; expected {stated * merkle.HASH_SIZE} ({stated} hashes of 32 bytes)"
            )
            return None
        data = tile.body
        return [data[offset : offset + merkle.HASH_SIZE] for offset in range(0, width * merkle.HASH_SIZE, 32)]

    def _bundle(self, tile: int, fetched: _Fetched, width: int) -> list[bytes]:
        what = f"entry bundle {tile} ({fetched.path})"
        if isinstance(fetched.body, str):
            self.problem(f"{what} is {fetched.body}")
            return []
        entries, truncated = _split_bundle(fetched.body)
        stated = merkle.TILE_WIDTH if fetched.stand_in else width
        if truncated is not None:
            self.problem(f"{what} {truncated}")
        elif len(entries) != stated:
            self.problem(f"{what} holds {len(entries)} entries; expected {stated}")
        return entries[:width]

    def _check_tile(self, tile: int, width: int, hashes: _Fetched, bundle: _Fetched) -> None:
        leaves = self._hashes(f"level-0 tile {tile}", hashes, width)
        if leaves is not None:
            self.subtrees.leaves[tile] = leaves
            if width == merkle.TILE_WIDTH:
                self.subtrees.tile_roots[tile] = merkle.root(leaves)
        entries = self._bundle(tile, bundle, width)
        base = tile * merkle.TILE_WIDTH
        for offset, data in enumerate(entries):
            index = base + offset
            if index < self.start:
                continue
            if leaves is not None and merkle.leaf_hash(data) != leaves[offset]:
                self.problem(
                    f"entry {index}: SHA-256(0x00 ‖ entry) is {merkle.leaf_hash(data).hex()}, "
                    f"but level-0 tile {tile} ({hashes.path}) holds {leaves[offset].hex()} at position {offset}"
                )
            self._check_entry(index, data)

    def _check_entry(self, index: int, data: bytes) -> None:
        try:
            entry = parse_entry(data)
            encoded = entry.encode()
        except EntryError as error:
            self.problem(f"entry {index} is malformed: {error}", tree=False)
            return
        if encoded != data:
            self.problem(f"entry {index} does not re-encode to the same bytes, so it is not canonical", tree=False)
            return
        latest = self.latest_time
        if latest is not None and entry.event in BACKDATED_EVENTS and latest - entry.time > self.max_backdate:
            self.problem(
                f"entry {index} ({entry.event}) is back-dated: its time {entry.time} is {latest - entry.time} s "
                f"before the latest earlier entry time {latest} (allowed: {self.max_backdate} s)",
                tree=False,
            )
        self.latest_time = entry.time if latest is None else max(latest, entry.time)
        if self.keep(entry):
            self.entries.append((index, entry))

    # roots

    def _check_roots(self) -> None:
        size = self.checkpoint.size
        computed = self.subtrees.root(size)
        root_ok = computed == self.checkpoint.root
        if computed is None:
            self.problem(f"the root of {size} entries cannot be recomputed: tiles are missing or malformed")
        elif not root_ok:
            self.problem(
                f"the root recomputed from the level-0 tiles is {b64encode(computed)}; "
                f"the checkpoint signs {b64encode(self.checkpoint.root)}"
            )
        saved = self.saved
        if saved is None or saved.size == 0:
            return
        old = self.subtrees.root(saved.size)
        if old is None:
            self.problem(
                f"the root of the first {saved.size} entries cannot be recomputed to check the saved checkpoint"
            )
        elif old != saved.root:
            self.problem(
                f"the log rewrote history: the first {saved.size} entries now give root {b64encode(old)}, "
                f"but the saved checkpoint signed {b64encode(saved.root)}"
            )
            self.forked = root_ok


# Anchors


class _MalformedAnchorsError(ValueError):
    """The anchors document is not the one `GET /log/anchors` is specified to serve."""


@dataclass(frozen=True, slots=True)
class _AnchorList:
    chain: str | None
    chain_id: int | None
    account: str | None
    anchors: list[Anchor]


def _field(document: dict[str, Any], key: str, what: str) -> Any:
    if key not in document:
        raise _MalformedAnchorsError(f"{what} has no {key!r}")
    return document[key]


def _count(value: Any, what: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_TREE_SIZE:
        raise _MalformedAnchorsError(f"{what} is {value!r}, not a whole number from {minimum} to 2**64-1")
    return value


def _matching(value: Any, pattern: re.Pattern[str], what: str, shape: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _MalformedAnchorsError(f"{what} is {value!r}, not {shape}")
    return value


def _parse_anchor(position: int, item: Any) -> Anchor:
    what = f"anchor {position}"
    if not isinstance(item, dict):
        raise _MalformedAnchorsError(f"{what} is not a JSON object")
    state = _field(item, "state", what)
    if state not in ANCHOR_STATES:
        raise _MalformedAnchorsError(f"{what} has state {state!r}, not one of {', '.join(sorted(ANCHOR_STATES))}")
    checkpoint_hash = _field(item, "checkpoint_sha256", what)
    return Anchor(
        size=_count(_field(item, "size", what), f"the size of {what}"),
        checkpoint_sha256=bytes.fromhex(
            _matching(checkpoint_hash, _HEX_SHA256, f"the checkpoint_sha256 of {what}", "64 hex digits")
        ),
        state=state,
        transaction=_matching(
            _field(item, "transaction", what), _EVM_HASH, f"the transaction of {what}", "0x and 64 hex digits"
        ),
        block=_count(_field(item, "block", what), f"the block of {what}"),
        block_hash=_matching(
            _field(item, "block_hash", what), _EVM_HASH, f"the block_hash of {what}", "0x and 64 hex digits"
        ),
    )


def _parse_anchors(data: bytes) -> _AnchorList:
    """The anchors document served at `B/log/anchors`; _MalformedAnchorsError says what is wrong with it."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise _MalformedAnchorsError(f"it is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise _MalformedAnchorsError("it is not a JSON object")
    listed = _field(document, "anchors", "it")
    if not isinstance(listed, list):
        raise _MalformedAnchorsError("its 'anchors' is not a list")
    chain = _field(document, "chain", "it")
    if chain is not None and not isinstance(chain, str):
        raise _MalformedAnchorsError(f"its chain is {chain!r}, not a name")
    chain_id = _field(document, "chain_id", "it")
    account = _field(document, "account", "it")
    if listed or chain_id is not None:
        chain_id = _count(chain_id, "its chain_id", minimum=1)
    if listed or account is not None:
        account = _matching(account, _EVM_ADDRESS, "its account", "0x and 40 hex digits")
    anchors = [_parse_anchor(position, item) for position, item in enumerate(listed)]
    return _AnchorList(chain=chain, chain_id=chain_id, account=account, anchors=anchors)


def _anchor_order_problems(anchors: Sequence[Anchor]) -> list[str]:
    """Anchors are sent one at a time in increasing tree size, so a larger tree is never in an earlier block."""
    problems: list[str] = []
    ordered = sorted(anchors, key=lambda anchor: (anchor.size, anchor.block))
    for earlier, later in pairwise(ordered):
        if later.size == earlier.size:
            problems.append(
                f"anchors out of order: size {later.size} is anchored twice, "
                f"in blocks {earlier.block} and {later.block}"
            )
        elif later.block < earlier.block:
            problems.append(
                f"anchors out of order: size {later.size} is anchored in block {later.block}, "
                f"before the smaller size {earlier.size} in block {earlier.block}"
            )
    return problems


async def _audit_anchors(report: AuditReport, fetcher: _Fetcher, subtrees: _Subtrees) -> AuditReport:
    """Check the log's anchors against the checkpoints of their sizes computed from this pass's tiles."""
    url = f"{fetcher.base}/log/anchors"
    try:
        body = await fetcher.get("log/anchors", MAX_ANCHORS_BYTES)
    except AuditError as error:
        return replace(report, problems=[*report.problems, f"the anchors could not be read: {error}"])
    if isinstance(body, str):
        if body.startswith("missing"):  # a log from before anchoring
            return report
        return replace(report, problems=[*report.problems, f"the anchors at {url} are {body}"])
    try:
        listed = _parse_anchors(body)
    except _MalformedAnchorsError as error:
        return replace(report, problems=[*report.problems, f"the anchors at {url} are malformed: {error}"])
    problems: list[str] = []
    matched = ahead = 0
    for anchor in listed.anchors:
        if anchor.size > report.size:
            ahead += 1  # the served checkpoint may lag behind the latest anchor
            continue
        where = f"the anchor of size {anchor.size} in block {anchor.block} (transaction {anchor.transaction})"
        root = subtrees.root(anchor.size)
        if root is None:
            problems.append(f"{where} cannot be checked: the root of {anchor.size} entries cannot be recomputed")
            continue
        computed = checkpoint_hash(Checkpoint(origin=report.origin, size=anchor.size, root=root).body())
        if computed != anchor.checkpoint_sha256:
            problems.append(
                f"{where} publishes checkpoint hash {anchor.checkpoint_sha256.hex()}, but the checkpoint of "
                f"{anchor.size} entries computed from the tiles hashes to {computed.hex()}"
            )
            continue
        matched += 1
    problems.extend(_anchor_order_problems(listed.anchors))
    return replace(
        report,
        problems=[*report.problems, *problems],
        anchors=listed.anchors,
        chain=listed.chain,
        chain_id=listed.chain_id,
        chain_account=listed.account,
        anchors_matched=matched,
        anchors_ahead=ahead,
    )


# The pass, start to end


async def _fetch_checkpoint(fetcher: _Fetcher) -> bytes:
    body = await fetcher.get("log/checkpoint", MAX_CHECKPOINT_BYTES)
    if isinstance(body, str):
        raise AuditError(f"the checkpoint at {fetcher.base}/log/checkpoint is {body}")
    return body


def _cosigners(note: Note, keys: _Keys) -> tuple[int, list[str]]:
    """How many of the given witnesses validly cosigned the note, and problems with the others' lines."""
    valid, problems = 0, []
    for name, key_id, vkey in keys.witnesses:
        lines = [s for s in note.signatures if (s.name, s.key_id) == (name, key_id)]
        if len(lines) > 1:
            problems.append(f"the checkpoint carries {len(lines)} cosignatures by witness {name}")
            continue
        if not lines:
            continue
        try:
            verify_cosignature(note.text, lines[0], vkey)
        except NoteVerificationError as error:
            problems.append(f"the checkpoint's cosignature by witness {name} does not verify: {error}")
            continue
        valid += 1
    return valid, problems


async def _audit_pass(
    fetcher: _Fetcher,
    keys: _Keys,
    store: _StateStore,
    *,
    incremental: bool,
    min_witnesses: int,
    max_backdate_seconds: int,
    keep: Callable[[Entry], bool],
) -> AuditReport:
    """Audit the log once: from entry 0, or (`incremental`) from the saved checkpoint's size."""
    data = await _fetch_checkpoint(fetcher)
    try:
        note = parse_note(data)
        checkpoint = parse_checkpoint(note.text)
    except (FormatError, ValueError) as error:
        problem = f"the checkpoint is not a well-formed signed checkpoint: {error}"
        return AuditReport(origin="", size=0, root=b"", witnesses_ok=0, problems=[problem])
    head = AuditReport(origin=checkpoint.origin, size=checkpoint.size, root=checkpoint.root, witnesses_ok=0)
    try:
        verify_note(note, [keys.log])
    except NoteVerificationError as error:
        return replace(head, problems=[f"the checkpoint's log signature does not verify: {error}"])
    witnesses_ok, problems = _cosigners(note, keys)
    if witnesses_ok < min_witnesses:
        problems.append(
            f"the checkpoint is cosigned by {witnesses_ok} of the given witnesses, not the {min_witnesses} required"
        )
    saved = await store.load(checkpoint.origin)
    if saved is not None and checkpoint.size < saved.size:
        problems.append(f"the log shrank: the saved checkpoint has {saved.size} entries, this one {checkpoint.size}")
        return replace(head, witnesses_ok=witnesses_ok, problems=problems, forked=True)
    if saved is not None and checkpoint.size == saved.size and checkpoint.root != saved.root:
        problems.append(
            f"the log forked: two signed checkpoints of {saved.size} entries have roots "
            f"{b64encode(saved.root)} (saved) and {b64encode(checkpoint.root)}"
        )
        return replace(head, witnesses_ok=witnesses_ok, problems=problems, forked=True)
    start = saved.size if incremental and saved is not None else 0
    if start == checkpoint.size and saved is not None:  # nothing new since the saved checkpoint
        return replace(head, witnesses_ok=witnesses_ok, start=start, problems=problems)
    one = _Pass(fetcher, checkpoint, start=start, saved=saved, max_backdate_seconds=max_backdate_seconds, keep=keep)
    one.problems.extend(problems)
    await one.run()
    if one.tree_ok and witnesses_ok >= min_witnesses:
        await store.save(
            SavedCheckpoint(
                origin=checkpoint.origin, size=checkpoint.size, root=checkpoint.root, latest_time=one.latest_time
            )
        )
    report = replace(
        head,
        witnesses_ok=witnesses_ok,
        start=start,
        problems=one.problems,
        entries=one.entries,
        forked=one.forked,
    )
    if incremental:
        return report
    return await _audit_anchors(report, fetcher, one.subtrees)


# Public entry points


async def audit(
    http: httpx.AsyncClient,
    base_url: str,
    *,
    log_vkey: str,
    witness_vkeys: Sequence[str] = (),
    min_witnesses: int = 0,
    state_dir: Path | None,
    max_backdate_seconds: int = 3600,
    keep_entries: bool = True,
) -> AuditReport:
    """Audit the whole log served under `base_url`, and check it extends the checkpoint saved in `state_dir`.

    The new checkpoint is saved when its signatures hold and the tiles back it. The log's anchors,
    when it serves any, are checked against the checkpoints the tiles give. Problems with the
    log are in the report; AuditError means the audit could not run at all.
    """
    keys = _keys(log_vkey, witness_vkeys)
    return await _audit_pass(
        _Fetcher(http, base_url),
        keys,
        _StateStore(state_dir),
        incremental=False,
        min_witnesses=min_witnesses,
        max_backdate_seconds=max_backdate_seconds,
        keep=lambda _: keep_entries,
    )


def _office_key(office: str) -> str:
    return " ".join(office.split()).casefold()


async def monitor(
    http: httpx.AsyncClient,
    base_url: str,
    *,
    log_vkey: str,
    witness_vkeys: Sequence[str] = (),
    state_dir: Path | None,
    watch_offices: Sequence[str],
    expected: set[str],
    interval: float,
    once: bool,
    alert: Callable[[str], None],
    min_witnesses: int = 0,
    max_backdate_seconds: int = 3600,
    on_pass: Callable[[AuditReport], None] | None = None,
) -> MonitorOutcome:
    """Audit the new part of the log every `interval` seconds and alert on what a watched office did not expect.

    Each pass starts where the saved checkpoint ends (the first, with none saved, at entry 0).
    Every problem is alerted; so is each issuance for one of `watch_offices` whose certificate
    hash is not in `expected`. A fork (a checkpoint that does not extend the saved one) is
    alerted and ends the monitor; so does the end of the pass when `once`.
    """
    keys = _keys(log_vkey, witness_vkeys)
    fetcher = _Fetcher(http, base_url)
    store = _StateStore(state_dir)
    watched = {_office_key(office) for office in watch_offices}
    known = {value.strip().lower() for value in expected}
    alerted: set[tuple[int, str]] = set()
    alerts = passes = 0

    def watched_issuance(entry: Entry) -> bool:
        return entry.event == "issuance" and _office_key(entry.get("office") or "") in watched

    def raise_alert(message: str) -> None:
        nonlocal alerts
        alerts += 1
        alert(message)

    while True:
        try:
            report = await _audit_pass(
                fetcher,
                keys,
                store,
                incremental=True,
                min_witnesses=min_witnesses,
                max_backdate_seconds=max_backdate_seconds,
                keep=watched_issuance,
            )
        except AuditError as error:
            if once:
                raise
            raise_alert(f"cannot audit {fetcher.base}: {error}")
        else:
            passes += 1
            if on_pass is not None:
                on_pass(report)
            name = report.origin or fetcher.base
            for problem in report.problems:
                raise_alert(f"log {name}: {problem}")
            for index, entry in report.entries:
                certificate = entry.get("certificate") or ""
                if certificate in known or (index, certificate) in alerted:
                    continue
                alerted.add((index, certificate))
                raise_alert(
                    f"log {name}: entry {index} issues a certificate the office {entry.get('office')!r} "
                    f"did not expect: certificate {certificate}, kind {entry.get('kind')}, "
                    f"service {entry.get('service')}, time {entry.time}, signing key {entry.get('key')}"
                )
            if report.forked:
                raise_alert(f"log {name}: fork detected; the monitor stops")
                return MonitorOutcome(forked=True, alerts=alerts, passes=passes)
        if once:
            return MonitorOutcome(forked=False, alerts=alerts, passes=passes)
        await asyncio.sleep(interval)
