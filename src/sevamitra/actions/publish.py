"""Publishing the transparency log: integrate pending entries into tiles, sign a checkpoint, and
gather witnesses' cosignatures for it.

Entries were sequenced in the issuing transactions (`log_pending`); `integrate` runs on a
schedule under the log's one lock: it gives the waiting entries positions, writes the tiles and
entry bundles they change (files first: a crash before the commit leaves tiles past the published
size, which the next round writes again), signs the checkpoint of the new size, commits, and
only then replaces the public `checkpoint` file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sevamitra.core.checkpoints import Checkpoint, Note, NoteSignature, format_note, parse_note
from sevamitra.core.merkle import consistency_proof, leaf_hash, root_from
from sevamitra.core.ports import LogStore, TileStorage
from sevamitra.core.tiles import TileHashes, TileWrite, appended

log = logging.getLogger(__name__)

SignNote = Callable[[bytes], bytes]  # checkpoint body -> signed note
# (url, old size, consistency proof, signed note) -> cosignature lines, or the witness's size on a conflict
AskWitness = Callable[[str, int, Sequence[bytes], bytes], Awaitable[Sequence[NoteSignature] | int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    size: int
    root: bytes
    note: bytes
    entries: int  # integrated in this round


async def integrate(
    store: LogStore, files: TileStorage, sign: SignNote, *, origin: str, now: datetime, limit: int
) -> Published | None:
    """One integration round; None when nothing waits (or another process integrates)."""
    async with store.integration(limit, now) as batch:
        if batch is None or not batch.pending:
            return None
        entries = [p.entry for p in batch.pending]
        writes = await asyncio.to_thread(_write_tiles, files, batch.size, entries)
        size = batch.size + len(entries)
        root = root_from(size, TileHashes(size, _overlay(writes, files.read_tile)).hash_at)
        note = sign(Checkpoint(origin=origin, size=size, root=root).body())
        batch.integrated(size, root, note)
    await asyncio.to_thread(files.publish_checkpoint, note)
    return Published(size=size, root=root, note=note, entries=len(entries))


def _write_tiles(files: TileStorage, old_size: int, entries: list[bytes]) -> list[TileWrite]:
    writes = appended(old_size, entries, [leaf_hash(e) for e in entries], files.read_tile, files.read_bundle)
    files.write(writes)
    return writes


def _overlay(writes: list[TileWrite], read: Callable[[int, int, int], bytes]) -> Callable[[int, int, int], bytes]:
    """Tile reads that see this round's writes before they are read back from storage."""
    written = {(w.level, w.index, w.width): w.data for w in writes if w.level is not None}

    def read_tile(level: int, index: int, width: int) -> bytes:
        found = written.get((level, index, width))
        return found if found is not None else read(level, index, width)

    return read_tile


async def cosign(
    store: LogStore, files: TileStorage, witnesses: Sequence[str], ask: AskWitness, *, now: datetime
) -> int:
    """Ask each witness to cosign the latest checkpoint; returns how many cosignatures it carries now.

    A witness that last saw size `old` gets a consistency proof from `old`; one that answers with
    another size (409) is asked again from that size. A failing witness is logged and skipped: the
    checkpoint stands without its cosignature until the next round.
    """
    latest = await store.latest()
    if latest is None or not witnesses:
        return 0
    note = parse_note(latest.note)
    hashes = TileHashes(latest.size, files.read_tile)
    signed = format_note(Note(text=note.text, signatures=note.signatures[:1]))  # the log's own signature
    gathered = list(note.signatures)
    for url in witnesses:
        old = await store.witness_size(url)
        for _ in range(2):
            if old == latest.size:
                break  # this witness has cosigned this checkpoint already
            if old > latest.size:
                log.warning("witness %s has seen size %d, beyond this log's %d: a fork?", url, old, latest.size)
                break
            proof = consistency_proof(old, latest.size, hashes.hash_at) if 0 < old < latest.size else []
            try:
                answer = await ask(url, old, proof, signed)
            except Exception as error:  # a witness down must not stop the log
                log.warning("witness %s: %s", url, error)
                break
            if isinstance(answer, int):
                old = answer
                continue
            gathered += [s for s in answer if s not in gathered]
            await store.set_witness_size(url, latest.size, now)
            break
    if len(gathered) == len(note.signatures):
        return len(note.signatures) - 1
    cosigned = await store.cosigned(latest.size, gathered[len(note.signatures) :])
    await asyncio.to_thread(files.publish_checkpoint, cosigned)
    return len(parse_note(cosigned).signatures) - 1
