"""`sevamitra bench log`: the transparency log's appends per second, inclusion-proof times at 1 and 10
million entries, and the bytes it stores per entry.

Figures, each measured in the run, each in a fresh temporary directory:
1. appends: a freshly migrated database (a SQLite file, or `database_url` in a private schema) takes
   `count` issuance entries (`core.logentries.issuance`, random salts and hashes) through
   `append_log_entries`, 1,000 to a transaction and a statement (batched); then
   `actions.publish.integrate` gives them positions, writes the tiles and signs checkpoints,
   10,000 a round, until nothing waits. Entries per second for each phase and end to end. The
   last checkpoint's root must equal `core.merkle.root` of every entry's leaf hash, and the public
   checkpoint file must carry a note that verifies with the log's key.
2. proofs: a tree of each size built directly as tiles and entry bundles (`core.tiles.appended`,
   65,536 tiny synthetic entries a call, written through `TileFiles`), then random leaves proved
   (`inclusion_proof` over a `TileHashes`) and verified (`verify_inclusion` of the entry's leaf
   hash against the root): a cold reader builds a new `TileHashes` per proof, so every tile it
   needs is read from its file; a warm server shares one `TileHashes` (and its tile cache).
   The root the tiles give must equal a root computed from the leaf hashes as they were made.
3. storage: the tile directory of (1) per entry, split into entry bundles and hash tiles, and the
   database per entry.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sevamitra.actions.publish import integrate
from sevamitra.adapters.sql.engine import create_engine, normalise_url
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.adapters.sql.stores import append_log_entries
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.adapters.tlog.notes import note_signer_from_seed, verify_note
from sevamitra.core import logentries
from sevamitra.core.checkpoints import Note, format_note, parse_checkpoint, parse_note
from sevamitra.core.merkle import (
    EMPTY_ROOT,
    ProofError,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from,
    verify_inclusion,
)
from sevamitra.core.tiles import TileHashes, appended

ORIGIN = "bench.sevamitra.example/log"
APPEND_TARGET = 10_000.0  # entries per second
PROOF_TARGET_MS = 1.0  # p99 of building and verifying one inclusion proof
TRANSACTION = 1_000  # entries sequenced per transaction
ROUND = 10_000  # entries integrated per round
CHUNK = 65_536  # synthetic entries per `appended` call when building a tree for proofs
WARMUP = 100  # untimed proofs before the warm server's timed ones
SEED = 20260
T = TypeVar("T")

SERVICES = (  # (service id, certificate kind, number prefix), from the shipped catalogue
    ("revenue.income-certificate", "revenue-certificate", "AP-REV-INC"),
    ("revenue.integrated-certificate", "revenue-certificate", "AP-REV-INT"),
    ("revenue.ews-certificate", "revenue-certificate", "AP-REV-EWS"),
    ("revenue.family-membership-certificate", "revenue-certificate", "AP-REV-FMC"),
    ("revenue.local-status-certificate", "revenue-certificate", "AP-REV-LSC"),
    ("revenue.no-earning-member-certificate", "revenue-certificate", "AP-REV-NEM"),
)
OFFICES = (
    "Revenue, Vijayawada Rural",
    "Revenue, Vijayawada Urban",
    "Revenue, Guntur East",
    "Revenue, Tenali",
    "Revenue, Visakhapatnam Rural",
    "Revenue, Tirupati Urban",
    "Revenue, Kurnool",
    "Revenue, Nellore Rural",
    "Revenue, Rajahmundry Urban",
    "Revenue, Anantapur",
)


class BenchFailed(RuntimeError):
    """A check of the benchmark's own results failed: the figures it printed are not to be trusted."""


# ---------------------------------------------------------------------------- helpers


class Frontier:
    """The roots of a tree's complete subtrees, largest first, grown leaf by leaf: a tree's root from
    its leaf hashes as they stream by, in memory logarithmic in its size and independent of any tile."""

    __slots__ = ("peaks", "size")

    def __init__(self) -> None:
        self.size = 0
        self.peaks: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        n, node = self.size, leaf
        while n & 1:
            node = node_hash(self.peaks.pop(), node)
            n >>= 1
        self.peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        node = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            node = node_hash(peak, node)
        return node


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop  # the loop `sevamitra serve` runs on
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """Bytes of a log directory's files, by kind."""

    bundles: int = 0  # tile/entries/..., full and partial
    tiles: int = 0  # tile/<L>/..., full
    partial_tiles: int = 0  # tile/<L>/....p/<W>: a round's right edge, superseded by later rounds
    other: int = 0  # the checkpoint

    @property
    def total(self) -> int:
        return self.bundles + self.tiles + self.partial_tiles + self.other


def stored(folder: Path) -> Stored:
    sizes = {"bundles": 0, "tiles": 0, "partial_tiles": 0, "other": 0}
    for path in folder.rglob("*"):
        if path.is_file():
            parts = path.relative_to(folder).parts
            if parts[:2] == ("tile", "entries"):
                kind = "bundles"
            elif parts[:1] == ("tile",):
                kind = "partial_tiles" if any(part.endswith(".p") for part in parts) else "tiles"
            else:
                kind = "other"
            sizes[kind] += path.stat().st_size
    return Stored(**sizes)


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{os.cpu_count()} CPUs ({usable} usable), {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.platform()}"
    )


# ---------------------------------------------------------------------------- 1. appends


@dataclass(frozen=True, slots=True, kw_only=True)
class Appends:
    transactions_s: tuple[float, ...]  # each sequencing transaction, begin to commit
    rounds_s: tuple[float, ...]  # each integration round

    @property
    def sequencing_s(self) -> float:
        return sum(self.transactions_s)

    @property
    def integration_s(self) -> float:
        return sum(self.rounds_s)

    problems: tuple[str, ...]  # what the root check found wrong
    files: Stored


@dataclass(frozen=True, slots=True, kw_only=True)
class Database:
    what: str  # what its size includes
    size: int  # bytes, as the run left it
    compacted: int | None = None  # bytes after SQLite's VACUUM


POSTGRES_SIZE = (
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
)


def _issuance(rng: random.Random, n: int, time_s: int) -> tuple[bytes, str]:
    """A realistic issuance entry and its certificate number."""
    service, kind, prefix = SERVICES[n % len(SERVICES)]
    number = f"{prefix}-2026-{n:07d}"
    entry = logentries.issuance(
        number=number,
        salt=rng.randbytes(logentries.SALT_BYTES),
        time=time_s,
        kind=kind,
        service=service,
        office=OFFICES[rng.randrange(len(OFFICES))],
        kid=rng.randbytes(8),
        cose=rng.randbytes(rng.randrange(220, 320)),  # about the size of a signed QR payload
    )
    return entry.encode(), number


async def _appends(url: str, log_dir: Path, count: int, rng: random.Random) -> tuple[Appends, int]:
    """Sequence and integrate `count` entries; the figures, and (PostgreSQL) the schema's bytes."""
    engine = create_engine(url)
    store = SqlLog(engine)
    files = TileFiles(log_dir)
    signer = note_signer_from_seed(ORIGIN, rng.randbytes(32))

    def sign(body: bytes) -> bytes:
        return format_note(Note(text=body, signatures=(signer.sign(body),)))

    leaves: list[bytes] = []
    transactions: list[float] = []
    rounds: list[float] = []
    try:
        for start in range(0, count, TRANSACTION):
            now = datetime.now(UTC)
            batch = [_issuance(rng, n, int(now.timestamp())) for n in range(start, min(count, start + TRANSACTION))]
            leaves += [leaf_hash(entry) for entry, _ in batch]
            began = time.perf_counter()
            async with engine.begin() as connection:
                await append_log_entries(connection, batch, now)
            transactions.append(time.perf_counter() - began)
        while True:
            began = time.perf_counter()
            published = await integrate(store, files, sign, origin=ORIGIN, now=datetime.now(UTC), limit=ROUND)
            rounds.append(time.perf_counter() - began)  # the last, finding nothing, counts too
            if published is None:
                break
        latest = await store.latest()
        pending = await store.pending_count()
        schema_bytes = 0
        if not store.sqlite:
            async with engine.connect() as connection:
                result = await connection.exec_driver_sql(POSTGRES_SIZE)
                schema_bytes = int(result.scalar_one())
    finally:
        await engine.dispose()
    expected = root(leaves)
    problems = [f"{pending} entries still wait"] if pending else []
    if latest is None or latest.size != count:
        problems.append(f"the last checkpoint has size {latest.size if latest else 0}, not {count}")
    elif latest.root != expected:
        problems.append("the last checkpoint's root is not core.merkle.root of the entries' leaf hashes")
    try:
        note = parse_note(files.read_checkpoint() or b"")
        verify_note(note, [signer.vkey])
        checkpoint = parse_checkpoint(note.text)
        if (checkpoint.size, checkpoint.root) != (count, expected):
            problems.append("the public checkpoint file does not state the expected size and root")
    except ValueError as error:
        problems.append(f"the public checkpoint file does not verify: {error}")
    figures = Appends(
        transactions_s=tuple(transactions),
        rounds_s=tuple(rounds),
        problems=tuple(problems),
        files=stored(log_dir),
    )
    return figures, schema_bytes


def _sqlite_path(url: str) -> Path | None:
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return Path(url.removeprefix(prefix).split("?", 1)[0])
    return None


def _sqlite_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def measure_appends(
    workdir: Path, count: int, database_url: str | None, rng: random.Random
) -> tuple[Appends, Database]:
    """Appends per second on a fresh database (a new SQLite file, or a private PostgreSQL schema)."""
    url = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    path = _sqlite_path(url)
    if path is not None:
        upgrade(url)
        appends, _ = _run(_appends(url, workdir / "log", count, rng))
        size = _sqlite_bytes(path)
        connection = sqlite3.connect(path)
        try:
            connection.execute("VACUUM")  # gives back the pages the emptied log_pending left free
        finally:
            connection.close()
        what = (
            "the SQLite file (and any -wal/-shm) as the run left it: log_entries with its certificate-number "
            "index, the checkpoints, the free pages of the emptied log_pending, the empty tables of the schema"
        )
        return appends, Database(what=what, size=size, compacted=_sqlite_bytes(path))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    base = normalise_url(url)
    _run(_execute(base, f'CREATE SCHEMA "{schema}"'))
    try:
        private = f"{base}{'&' if '?' in base else '?'}search_path={schema}"
        upgrade(private)
        appends, size = _run(_appends(private, workdir / "log", count, rng))
    finally:
        _run(_execute(base, f'DROP SCHEMA "{schema}" CASCADE'))
    what = (
        f"pg_total_relation_size of every table of the private schema {schema} (dropped afterwards): rows, "
        "indexes and TOAST, with the dead rows of log_pending that autovacuum may not have reclaimed yet"
    )
    return appends, Database(what=what, size=size)


async def _execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------- 2. proofs


@dataclass(frozen=True, slots=True, kw_only=True)
class Proofs:
    size: int
    build_s: float
    root_ok: bool  # the root from the tiles equals the root from the leaf hashes as they were made
    files: Stored
    cold_ms: tuple[float, ...]
    warm_ms: tuple[float, ...]
    failures: int  # proofs that did not verify


def _synthetic(index: int) -> bytes:
    """Entry `index` of a synthetic tree: 8 bytes, so the bundles stay small."""
    return index.to_bytes(8, "big")


def build_tree(files: TileFiles, size: int) -> tuple[float, bytes]:
    """Write the tiles and bundles of a tree of `size` synthetic entries: (seconds, root from the leaves)."""
    frontier = Frontier()
    seconds = 0.0
    for start in range(0, size, CHUNK):
        began = time.perf_counter()
        entries = [_synthetic(i) for i in range(start, min(size, start + CHUNK))]
        leaves = [leaf_hash(entry) for entry in entries]
        files.write(appended(start, entries, leaves, files.read_tile, files.read_bundle))
        seconds += time.perf_counter() - began
        for leaf in leaves:  # the independent root, not timed: not part of building the tiles
            frontier.add(leaf)
    return seconds, frontier.root()


def _time_proofs(
    files: TileFiles, size: int, tree_root: bytes, indices: Sequence[int], shared: TileHashes | None
) -> tuple[list[float], int]:
    """Milliseconds to build and verify each proof (with its own TileHashes unless one is shared), and failures."""
    samples, failures = [], 0
    clock = time.perf_counter_ns
    for index in indices:
        began = clock()
        hashes = shared if shared is not None else TileHashes(size, files.read_tile)
        try:
            proof = inclusion_proof(index, size, hashes.hash_at)
            verify_inclusion(leaf_hash(_synthetic(index)), index, size, proof, tree_root)
        except ProofError:
            failures += 1
        samples.append((clock() - began) / 1e6)
    return samples, failures


def measure_proofs(folder: Path, size: int, proofs: int, rng: random.Random) -> Proofs:
    """Build a tree of `size` in `folder`, time `proofs` random proofs cold and warm; the folder is removed."""
    try:
        files = TileFiles(folder)
        build_s, expected = build_tree(files, size)
        tree_root = root_from(size, TileHashes(size, files.read_tile).hash_at)
        indices = [rng.randrange(size) for _ in range(proofs)]
        cold, cold_failures = _time_proofs(files, size, tree_root, indices, None)
        shared = TileHashes(size, files.read_tile)
        _, warmup_failures = _time_proofs(files, size, tree_root, [rng.randrange(size) for _ in range(WARMUP)], shared)
        warm, warm_failures = _time_proofs(files, size, tree_root, indices, shared)
        on_disk = stored(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Proofs(
        size=size,
        build_s=build_s,
        root_ok=tree_root == expected,
        files=on_disk,
        cold_ms=tuple(cold),
        warm_ms=tuple(warm),
        failures=cold_failures + warmup_failures + warm_failures,
    )


# ---------------------------------------------------------------------------- reporting


def _ok(good: bool) -> str:
    return "OK" if good else "FAIL"


def _report_appends(appends: Appends, count: int) -> tuple[list[str], dict[str, float]]:
    sequenced = count / appends.sequencing_s
    integrated = count / appends.integration_s
    end_to_end = count / (appends.sequencing_s + appends.integration_s)
    transaction_ms = [t * 1000 for t in appends.transactions_s]
    round_ms = [t * 1000 for t in appends.rounds_s[:-1]] or [appends.rounds_s[-1] * 1000]
    check = "OK" if not appends.problems else "FAIL: " + "; ".join(appends.problems)
    lines = [
        f"1. appends: {count:,} issuance entries, {TRANSACTION:,} a transaction, {ROUND:,} integrated a round",
        f"   sequenced (append_log_entries, committed): {sequenced:,.0f} entries/s  ({appends.sequencing_s:.2f} s "
        f"inside {len(transaction_ms)} transactions, each p50 {statistics.median(transaction_ms):.0f} ms, "
        f"max {max(transaction_ms):.0f} ms; the entries were built before each)",
        f"   integrated (bundles, tiles, signed checkpoint, commit): {integrated:,.0f} entries/s  "
        f"({appends.integration_s:.2f} s in {len(appends.rounds_s)} rounds, the last finding nothing; "
        f"an integrating round p50 {statistics.median(round_ms):.0f} ms, max {max(round_ms):.0f} ms)",
        f"   end to end ({count:,} / both phases' time): {end_to_end:,.0f} entries/s  "
        f"(goal: >= {APPEND_TARGET:,.0f}/s: {_ok(end_to_end >= APPEND_TARGET)})",
        "   root check (the last checkpoint, and the signed public checkpoint file, against "
        f"core.merkle.root of all {count:,} leaf hashes): {check}",
    ]
    figures = {
        "sequenced_per_s": sequenced,
        "integrated_per_s": integrated,
        "end_to_end_per_s": end_to_end,
        "sequencing_s": appends.sequencing_s,
        "integration_s": appends.integration_s,
        "root_check_passed": float(not appends.problems),
    }
    return lines, figures


def _report_proofs(result: Proofs) -> tuple[list[str], dict[str, float]]:
    key = f"proof_{result.size}"
    lines = [
        f"   {result.size:,} entries: tiles and bundles built in {result.build_s:.1f} s "
        f"({result.size / result.build_s:,.0f} entries/s; {result.files.total / 1e6:,.1f} MB of files, "
        f"8-byte synthetic entries); root from the tiles = root from the leaves: {_ok(result.root_ok)}",
    ]
    figures = {f"{key}_build_s": result.build_s}
    for name, samples, note in (
        ("cold", result.cold_ms, "a new TileHashes per proof: every tile read from its file (OS page cache warm)"),
        ("warm", result.warm_ms, f"one TileHashes for all, its tile cache warmed by {WARMUP} other proofs first"),
    ):
        p50, p99, worst = statistics.median(samples), _percentile(samples, 0.99), max(samples)
        figures |= {f"{key}_{name}_p50_ms": p50, f"{key}_{name}_p99_ms": p99, f"{key}_{name}_max_ms": worst}
        lines.append(
            f"     {name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms "
            f"(goal: p99 < {PROOF_TARGET_MS:g} ms: {_ok(p99 < PROOF_TARGET_MS)}); {note}"
        )
    if result.failures:
        lines.append(f"     FAIL: {result.failures} proofs did not verify")
    if not result.root_ok:
        lines.append("     FAIL: the root from the tiles is not the root from the leaves")
    return lines, figures


def _report_storage(files: Stored, database: Database, count: int) -> tuple[list[str], dict[str, float]]:
    figures = {
        "tile_bytes_per_entry": files.total / count,
        "bundle_bytes_per_entry": files.bundles / count,
        "hash_tile_bytes_per_entry": (files.tiles + files.partial_tiles) / count,
        "database_bytes_per_entry": database.size / count,
    }
    lines = [
        f"3. storage after the {count:,} appends of (1)",
        f"   tile directory: {files.total / count:.1f} bytes/entry ({files.total / 1e6:.2f} MB): entry bundles "
        f"{files.bundles / count:.1f}, hash tiles {files.tiles / count:.1f}, partial hash tiles left by earlier "
        f"rounds {files.partial_tiles / count:.1f}, checkpoint {files.other / count:.3f} bytes/entry",
        f"   database: {database.size / count:.1f} bytes/entry ({database.size / 1e6:.2f} MB): {database.what}",
    ]
    if database.compacted is not None:
        figures["database_bytes_per_entry_vacuumed"] = database.compacted / count
        lines.append(
            f"   database after VACUUM: {database.compacted / count:.1f} bytes/entry "
            f"({database.compacted / 1e6:.2f} MB)"
        )
    return lines, figures


def log(
    count: int = 100_000,
    *,
    proof_sizes: Sequence[int] = (1_000_000, 10_000_000),
    proofs: int = 2_000,
    database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, float]:
    """Measure and print the log's figures, each section as it is done; returns them.

    Raises BenchFailed, after printing FAIL, when a root check or a proof fails.
    """
    if count < 1 or proofs < 1 or any(size < 1 for size in proof_sizes):
        raise ValueError("count, proofs and every proof size must be positive")
    rng = random.Random(SEED)  # noqa: S311  # synthetic salts, hashes and indices, repeatable; nothing secret
    if database_url is None:
        kind = "SQLite (aiosqlite), a fresh file in a temporary directory"
    elif (given := _sqlite_path(database_url)) is not None:
        kind = f"SQLite (aiosqlite), {given}"
    else:
        kind = "PostgreSQL (asyncpg), a private schema created for the run and dropped after it"
    sizes = ", ".join(f"{size:,}" for size in proof_sizes)
    echo(f"sevamitra bench log: {count:,} appends; inclusion proofs at {sizes} entries")
    echo(f"machine: {machine()}")
    echo(f"database: {kind}")
    figures: dict[str, float] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sevamitra-bench-log-") as temporary:
        workdir = Path(temporary)
        appends, database = measure_appends(workdir, count, database_url, rng)
        lines, found = _report_appends(appends, count)
        echo("\n".join(["", *lines]))
        figures |= found
        failed += [f"appends: {problem}" for problem in appends.problems]
        echo(
            f"\n2. inclusion proofs: {proofs:,} random leaves a size; each proof built over TileHashes "
            "(core.merkle.inclusion_proof) and checked with verify_inclusion against the root"
        )
        for size in proof_sizes:
            result = measure_proofs(workdir / f"tree-{size}", size, proofs, rng)
            lines, found = _report_proofs(result)
            echo("\n".join(lines))
            figures |= found
            if result.failures or not result.root_ok:
                failed.append(f"{size:,} entries: {result.failures} proofs failed, root {_ok(result.root_ok)}")
        lines, found = _report_storage(appends.files, database, count)
        echo("\n".join(["", *lines]))
        figures |= found
    if failed:
        echo("FAIL: " + "; ".join(failed))
        raise BenchFailed("; ".join(failed))
    return figures
