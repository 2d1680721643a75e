"""Publishing the transparency log on SQLite and PostgreSQL: sequencing in the writing transaction,
integration into tiles and a signed checkpoint, and witnesses' cosignatures."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.actions.publish import Published, SignNote, cosign, integrate
from sevamitra.adapters.sql.certificates import KeyRow, SqlCertificates, SqlKeys
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.sql.stores import append_log_entry, certificate_row
from sevamitra.adapters.sql.tables import certificates, log_entries, log_pending
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.adapters.tlog.notes import (
    cosignature_signer_from_seed,
    note_signer_from_seed,
    verify_cosignature,
    verify_note,
)
from sevamitra.core import logentries
from sevamitra.core.certificates import CertificateStatement
from sevamitra.core.checkpoints import Checkpoint, Note, NoteSignature, format_note, parse_checkpoint, parse_note
from sevamitra.core.logentries import EntryError, certificate_hash, parse_entry, record_hash
from sevamitra.core.merkle import TILE_WIDTH, consistency_proof, leaf_hash, root, root_from, verify_consistency
from sevamitra.core.ports import IssuedCertificate
from sevamitra.core.tiles import TileHashes, TileWrite, decode_bundle

ORIGIN = "log.sevamitra.example"
LOG_KEY = note_signer_from_seed(ORIGIN, bytes(range(32)))
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TIME = int(NOW.timestamp())


def sign(body: bytes) -> bytes:
    return format_note(Note(text=body, signatures=(LOG_KEY.sign(body),)))


def entry(i: int) -> bytes:
    number = f"AP-REV-INC-2026-{i:06d}"
    return logentries.revocation(number=number, salt=bytes(16), time=TIME + i, cose=b"%d" % i).encode()


async def sequence(engine: AsyncEngine, entries: Sequence[bytes]) -> None:
    """Sequence entries as a writing transaction does, all in one transaction."""
    async with engine.begin() as connection:
        for item in entries:
            await append_log_entry(connection, item, None, NOW)


async def publish(
    engine: AsyncEngine, files: TileFiles, *, limit: int = 1000, signer: SignNote = sign
) -> Published | None:
    return await integrate(SqlLog(engine), files, signer, origin=ORIGIN, now=NOW, limit=limit)


async def logged(engine: AsyncEngine) -> list[tuple[int, bytes]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(log_entries.c.position, log_entries.c.entry).order_by("position"))
        return [(r.position, r.entry) for r in rows]


async def pending(engine: AsyncEngine) -> list[tuple[bytes, str | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(log_pending.c.entry, log_pending.c.number).order_by(log_pending.c.id))
        return [(r.entry, r.number) for r in rows]


def checkpoint_of(note: bytes) -> Checkpoint:
    parsed = parse_note(note)
    assert verify_note(parsed, [LOG_KEY.vkey]) == [ORIGIN]
    return parse_checkpoint(parsed.text)


async def assert_published(engine: AsyncEngine, files: TileFiles, entries: Sequence[bytes]) -> Checkpoint:
    """The database, the tiles and the public checkpoint file all describe a log of exactly `entries`."""
    assert await logged(engine) == list(enumerate(entries))
    latest = await SqlLog(engine).latest()
    assert latest is not None
    assert files.read_checkpoint() == latest.note
    checkpoint = checkpoint_of(latest.note)
    expected = root([leaf_hash(e) for e in entries])
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, len(entries), expected)
    assert (latest.size, latest.root) == (len(entries), expected)
    assert root_from(latest.size, TileHashes(latest.size, files.read_tile).hash_at) == expected
    bundled: list[bytes] = []
    for index in range(0, len(entries), TILE_WIDTH):
        bundled += decode_bundle(files.read_bundle(index // TILE_WIDTH, min(TILE_WIDTH, len(entries) - index)))
    assert bundled == list(entries)
    return checkpoint


# Integration


async def test_integration_positions_entries_in_sequencing_order_under_a_verifiable_checkpoint(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files = TileFiles(tmp_path)
    entries = [entry(i) for i in range(8)]
    await sequence(engine, entries[:5])
    await sequence(engine, entries[5:])
    published = await publish(engine, files)
    assert published is not None
    assert (published.size, published.entries) == (8, 8)
    checkpoint = await assert_published(engine, files, entries)
    assert (published.root, published.note) == (checkpoint.root, files.read_checkpoint())
    assert await pending(engine) == []
    assert await SqlLog(engine).pending_count() == 0
    assert await publish(engine, files) is None  # nothing waits


async def test_an_empty_log_publishes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    files = TileFiles(tmp_path)
    assert await publish(engine, files) is None
    assert await SqlLog(engine).latest() is None
    assert files.read_checkpoint() is None


async def test_rounds_smaller_than_the_backlog_advance_the_size_by_the_limit(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files = TileFiles(tmp_path)
    entries = [entry(i) for i in range(300)]
    await sequence(engine, entries[:250])
    sizes, roots = [], {}
    for _ in range(3):
        published = await publish(engine, files, limit=120)
        assert published is not None
        sizes.append(published.size)
        roots[published.size] = published.root
        await assert_published(engine, files, entries[: published.size])
        if published.size == 240:
            await sequence(engine, entries[250:])
    assert sizes == [120, 240, 300]
    assert await publish(engine, files, limit=120) is None
    hashes = TileHashes(300, files.read_tile)
    for old in (120, 240):
        verify_consistency(old, 300, roots[old], roots[300], consistency_proof(old, 300, hashes.hash_at))


def tile_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "tile").rglob("*")) if p.is_file()}


async def test_a_round_that_fails_after_writing_tiles_publishes_nothing_and_the_next_writes_the_same_tiles(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files = TileFiles(tmp_path)
    entries = [entry(i) for i in range(8)]
    await sequence(engine, entries[:3])
    await publish(engine, files)
    published_note = files.read_checkpoint()
    await sequence(engine, entries[3:])

    def failing_sign(body: bytes) -> bytes:
        raise RuntimeError("the signing key is unavailable")

    with pytest.raises(RuntimeError, match="signing key"):
        await publish(engine, files, signer=failing_sign)
    latest = await SqlLog(engine).latest()
    assert latest is not None and latest.size == 3
    assert files.read_checkpoint() == published_note
    assert len(await pending(engine)) == 5
    assert await logged(engine) == list(enumerate(entries[:3]))
    written_by_failed_round = tile_files(tmp_path)
    assert "tile/0/000.p/8" in written_by_failed_round  # tiles past the published size

    published = await publish(engine, files)
    assert published is not None and published.size == 8
    assert tile_files(tmp_path) == written_by_failed_round  # the same tiles, rewritten byte for byte
    await assert_published(engine, files, entries)


async def test_concurrent_integrations_never_integrate_the_same_entries(engine: AsyncEngine, tmp_path: Path) -> None:
    entries = [entry(i) for i in range(20)]
    await sequence(engine, entries)
    entered, gate = threading.Event(), threading.Event()

    class HeldFiles(TileFiles):
        def write(self, writes: list[TileWrite]) -> None:
            entered.set()
            assert gate.wait(10)
            super().write(writes)

    first = asyncio.create_task(publish(engine, HeldFiles(tmp_path)))
    assert await asyncio.to_thread(entered.wait, 10)  # the first holds the lock, writing its tiles
    second = asyncio.create_task(publish(engine, TileFiles(tmp_path)))
    if engine.dialect.name == "postgresql":
        assert await asyncio.wait_for(second, 10) is None  # the lock is taken: it yields at once
    else:
        await asyncio.sleep(0.2)  # SQLite: it waits for the write lock
        assert not second.done()
    gate.set()
    done_first, done_second = await asyncio.wait_for(asyncio.gather(first, second), 20)
    assert done_first is not None and done_first.entries == 20
    assert done_second is None  # PostgreSQL: it yielded; SQLite: it ran after and found nothing waiting
    await assert_published(engine, TileFiles(tmp_path), entries)


async def test_many_integrators_at_once_leave_one_consistent_log(engine: AsyncEngine, tmp_path: Path) -> None:
    entries = [entry(i) for i in range(60)]
    await sequence(engine, entries[:30])
    rounds = 0
    while await SqlLog(engine).pending_count():
        results = await asyncio.wait_for(
            asyncio.gather(*(publish(engine, TileFiles(tmp_path), limit=7) for _ in range(4))), 30
        )
        assert any(r is not None for r in results)
        sizes = sorted(r.size for r in results if r is not None)
        assert len(set(sizes)) == len(sizes)  # no two integrated the same positions
        rounds += 1
        if rounds == 2:
            await sequence(engine, entries[30:])
    assert await logged(engine) == list(enumerate(entries))
    latest = await SqlLog(engine).latest()
    assert latest is not None and latest.size == 60
    assert latest.root == root([leaf_hash(e) for e in entries])
    assert root_from(60, TileHashes(60, TileFiles(tmp_path).read_tile).hash_at) == latest.root


# Sequencing in the writing transaction

SALT = bytes(range(16))


def certificate(number: str, *, salt: bytes | None = SALT) -> IssuedCertificate:
    statement = CertificateStatement(
        number=number,
        kind="revenue-certificate",
        service_id="revenue.income-certificate",
        issuer="Government of Andhra Pradesh",
        issued_at=NOW,
        valid_until=None,
        holder={},
        office={"en": "Revenue, Vijayawada Rural"},
    )
    return IssuedCertificate(
        statement=statement,
        reference=number,
        address="919800000001",
        language="te",
        kid=bytes(8),
        cose=b"cose of " + number.encode(),
        pdf=b"%PDF",
        download_token=f"token-{number}",
        log_salt=salt or bytes(16),
    )


FIRST, SECOND = "AP-REV-INC-2026-000001", "AP-REV-INC-2026-000002"


async def stored_salt(engine: AsyncEngine, number: str) -> bytes | None:
    async with engine.connect() as connection:
        return await connection.scalar(select(certificates.c.log_salt).where(certificates.c.number == number))


async def status_of(engine: AsyncEngine, number: str) -> str | None:
    async with engine.connect() as connection:
        return await connection.scalar(select(certificates.c.status).where(certificates.c.number == number))


async def test_issuing_a_certificate_sequences_its_issuance_entry(engine: AsyncEngine) -> None:
    await SqlCertificates(engine).add_certificate(certificate(FIRST))
    [(data, number)] = await pending(engine)
    parsed = parse_entry(data)
    assert (parsed.event, number) == ("issuance", FIRST)
    assert parsed.get("certificate") == certificate_hash(FIRST, SALT).hex()
    assert parsed.get("record") == record_hash(certificate(FIRST).cose).hex()
    assert FIRST.encode() not in data


async def test_revoking_sequences_one_revocation_entry(engine: AsyncEngine) -> None:
    store = SqlCertificates(engine)
    await store.add_certificate(certificate(FIRST))
    assert await store.revoke(FIRST, "issued in error", NOW)
    entries = await pending(engine)
    assert len(entries) == 2
    data, number = entries[-1]
    parsed = parse_entry(data)
    assert (parsed.event, parsed.time, number) == ("revocation", TIME, FIRST)
    assert parsed.get("certificate") == certificate_hash(FIRST, SALT).hex()
    assert parsed.get("record") == record_hash(certificate(FIRST).cose).hex()
    assert await status_of(engine, FIRST) == "revoked"


async def test_revoking_an_unknown_or_withdrawn_certificate_sequences_nothing(engine: AsyncEngine) -> None:
    store = SqlCertificates(engine)
    await store.add_certificate(certificate(FIRST))
    await store.add_certificate(certificate(SECOND))
    assert await store.revoke(FIRST, "issued in error", NOW)
    before = await pending(engine)
    assert not await store.revoke("AP-REV-INC-2026-999999", "no such certificate", NOW)
    assert not await store.revoke(FIRST, "again", NOW)
    assert not await store.supersede(FIRST, SECOND, "already revoked", NOW)
    assert await pending(engine) == before


async def test_superseding_sequences_one_supersession_entry_naming_both_by_their_salted_hashes(
    engine: AsyncEngine,
) -> None:
    store = SqlCertificates(engine)
    other_salt = bytes(range(16, 32))
    await store.add_certificate(certificate(FIRST))
    await store.add_certificate(certificate(SECOND, salt=other_salt))
    assert await store.supersede(FIRST, SECOND, "name corrected", NOW)
    entries = await pending(engine)
    assert len(entries) == 3
    data, number = entries[-1]
    parsed = parse_entry(data)
    assert (parsed.event, number) == ("supersession", FIRST)
    assert parsed.get("certificate") == certificate_hash(FIRST, SALT).hex()
    assert parsed.get("by") == certificate_hash(SECOND, other_salt).hex()
    assert not await store.supersede(FIRST, SECOND, "again", NOW)
    assert len(await pending(engine)) == 3


async def test_a_certificate_issued_before_the_log_gets_a_salt_when_it_is_revoked(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        row = certificate_row(certificate(FIRST)) | {"log_salt": None}
        await connection.execute(insert(certificates).values(row))
    assert await SqlCertificates(engine).revoke(FIRST, "issued in error", NOW)
    salt = await stored_salt(engine, FIRST)
    assert salt is not None and len(salt) == logentries.SALT_BYTES
    [(data, _)] = await pending(engine)
    assert parse_entry(data).get("certificate") == certificate_hash(FIRST, salt).hex()


async def test_a_revocation_whose_entry_cannot_be_made_changes_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        row = certificate_row(certificate(FIRST)) | {"log_salt": bytes(15)}  # a damaged salt
        await connection.execute(insert(certificates).values(row))
    with pytest.raises(EntryError, match="salt"):
        await SqlCertificates(engine).revoke(FIRST, "issued in error", NOW)
    assert await status_of(engine, FIRST) == "valid"  # the status change rolled back with the entry
    assert await pending(engine) == []


async def test_adding_a_signing_key_sequences_its_key_rotation_entry_in_the_same_transaction(
    engine: AsyncEngine,
) -> None:
    key = KeyRow(
        kid=bytes(range(8)),
        public=bytes(range(32)),
        private_sealed="sealed",
        not_before=NOW - timedelta(days=1),
        not_after=None,
        status="active",
    )
    keys = SqlKeys(engine)
    await keys.add(key, NOW)
    [(data, number)] = await pending(engine)
    parsed = parse_entry(data)
    assert (parsed.event, parsed.time, number) == ("key-rotation", TIME, None)
    assert parsed.fields == (
        ("key", key.kid.hex()),
        ("public", key.public.hex()),
        ("not-before", str(TIME - 86_400)),
    )
    with pytest.raises(IntegrityError):
        await keys.add(key, NOW)  # the same key id again: the insert fails after the entry was sequenced
    assert len(await pending(engine)) == 1
    assert [k.kid for k in await keys.all()] == [key.kid]


# Cosigning


class FakeWitnesses:
    """Witnesses that behave as C2SP tlog-witness: they cosign only from the size they last saw,
    answer any other old size with that size, and check the consistency proof."""

    def __init__(self, *urls: str) -> None:
        self.signers = {
            url: cosignature_signer_from_seed(url.removeprefix("https://"), bytes([i + 1]) * 32)
            for i, url in enumerate(urls)
        }
        self.seen: dict[str, tuple[int, bytes]] = dict.fromkeys(urls, (0, b""))
        self.calls: list[tuple[str, int]] = []
        self.failing: set[str] = set()
        self.held: dict[str, tuple[asyncio.Event, asyncio.Event]] = {}

    def hold(self, url: str) -> tuple[asyncio.Event, asyncio.Event]:
        """Hold the next question to `url` until released; the first event says it arrived."""
        self.held[url] = (asyncio.Event(), asyncio.Event())
        return self.held[url]

    async def ask(self, url: str, old: int, proof: Sequence[bytes], note: bytes) -> Sequence[NoteSignature] | int:
        self.calls.append((url, old))
        if url in self.failing:
            raise OSError("connection refused")
        if url in self.held:
            arrived, release = self.held.pop(url)
            arrived.set()
            await release.wait()
        parsed = parse_note(note)
        assert len(parsed.signatures) == 1  # the log's own signature, without others' cosignatures
        checkpoint = checkpoint_of(note)
        size, seen_root = self.seen[url]
        if old != size:
            return size
        if old:
            verify_consistency(old, checkpoint.size, seen_root, checkpoint.root, proof)
        else:
            assert list(proof) == []
        self.seen[url] = (checkpoint.size, checkpoint.root)
        return [self.signers[url].cosign(parsed.text, TIME)]


W1, W2, W3 = "https://w1.example", "https://w2.example", "https://w3.example"


async def published_log(engine: AsyncEngine, files: TileFiles, count: int, start: int = 0) -> list[bytes]:
    entries = [entry(i) for i in range(start, start + count)]
    await sequence(engine, entries)
    assert await publish(engine, files) is not None
    return entries


def assert_cosigned_by(note: bytes, witnesses: FakeWitnesses, *urls: str) -> None:
    parsed = parse_note(note)
    assert parsed.signatures[0].name == ORIGIN
    assert verify_note(parsed, [LOG_KEY.vkey]) == [ORIGIN]
    assert [s.name for s in parsed.signatures[1:]] == [witnesses.signers[u].name for u in urls]
    for url, signature in zip(urls, parsed.signatures[1:], strict=True):
        assert verify_cosignature(parsed.text, signature, witnesses.signers[url].vkey) == TIME


async def test_cosignatures_are_added_to_the_stored_note_and_the_checkpoint_file(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1, W2)
    await published_log(engine, files, 10)
    assert await cosign(store, files, [W1, W2], witnesses.ask, now=NOW) == 2
    latest = await store.latest()
    assert latest is not None
    assert files.read_checkpoint() == latest.note
    assert_cosigned_by(latest.note, witnesses, W1, W2)
    assert [await store.witness_size(u) for u in (W1, W2)] == [10, 10]
    assert witnesses.calls == [(W1, 0), (W2, 0)]

    assert await cosign(store, files, [W1, W2], witnesses.ask, now=NOW) == 2  # nothing new: no one is asked
    assert witnesses.calls == [(W1, 0), (W2, 0)]


async def test_a_witness_that_saw_an_earlier_size_gets_a_consistency_proof_from_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1)
    await published_log(engine, files, 10)
    await cosign(store, files, [W1], witnesses.ask, now=NOW)
    await published_log(engine, files, 290, start=10)
    assert await cosign(store, files, [W1], witnesses.ask, now=NOW) == 1
    assert witnesses.calls == [(W1, 0), (W1, 10)]
    latest = await store.latest()
    assert latest is not None and latest.size == 300
    assert_cosigned_by(latest.note, witnesses, W1)
    assert files.read_checkpoint() == latest.note


async def test_a_witness_answering_with_its_size_is_asked_again_from_that_size(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1)
    entries = await published_log(engine, files, 10)
    witnesses.seen[W1] = (4, root([leaf_hash(e) for e in entries[:4]]))  # it saw size 4 from elsewhere
    assert await cosign(store, files, [W1], witnesses.ask, now=NOW) == 1
    assert witnesses.calls == [(W1, 0), (W1, 4)]
    assert await store.witness_size(W1) == 10
    latest = await store.latest()
    assert latest is not None
    assert_cosigned_by(latest.note, witnesses, W1)


async def test_a_failing_witness_is_skipped_without_losing_the_others(engine: AsyncEngine, tmp_path: Path) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1, W2, W3)
    witnesses.failing.add(W2)
    await published_log(engine, files, 10)
    assert await cosign(store, files, [W1, W2, W3], witnesses.ask, now=NOW) == 2
    latest = await store.latest()
    assert latest is not None
    assert_cosigned_by(latest.note, witnesses, W1, W3)
    assert files.read_checkpoint() == latest.note
    assert [await store.witness_size(u) for u in (W1, W2, W3)] == [10, 0, 10]

    witnesses.failing.clear()  # back up: the next round asks only it, and keeps the others' cosignatures
    assert await cosign(store, files, [W1, W2, W3], witnesses.ask, now=NOW) == 3
    assert witnesses.calls[3:] == [(W2, 0)]
    latest = await store.latest()
    assert latest is not None
    assert_cosigned_by(latest.note, witnesses, W1, W3, W2)


async def test_no_witness_or_no_checkpoint_means_no_cosignature(engine: AsyncEngine, tmp_path: Path) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1)
    assert await cosign(store, files, [W1], witnesses.ask, now=NOW) == 0
    await published_log(engine, files, 3)
    assert await cosign(store, files, [], witnesses.ask, now=NOW) == 0
    assert witnesses.calls == []


# Races between publishing rounds of several workers (each worker runs integrate, then cosign).


async def test_the_checkpoint_file_never_goes_back_when_cosigning_overlaps_an_integration(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1)
    await published_log(engine, files, 10)
    arrived, release = witnesses.hold(W1)
    cosigning = asyncio.create_task(cosign(store, files, [W1], witnesses.ask, now=NOW))
    await asyncio.wait_for(arrived.wait(), 10)
    await published_log(engine, files, 5, start=10)  # another worker integrates meanwhile
    release.set()
    await asyncio.wait_for(cosigning, 10)
    latest = await store.latest()
    assert latest is not None and latest.size == 15
    checkpoint = files.read_checkpoint()
    assert checkpoint is not None
    assert checkpoint_of(checkpoint).size == 15


async def test_the_checkpoint_file_never_goes_back_when_integrations_follow_each_other(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    entries = [entry(i) for i in range(5)]
    await sequence(engine, entries[:3])
    entered, gate = threading.Event(), threading.Event()

    class SlowCheckpointFiles(TileFiles):
        def publish_checkpoint(self, note: bytes) -> bool:
            entered.set()
            assert gate.wait(10)
            return super().publish_checkpoint(note)

    first = asyncio.create_task(publish(engine, SlowCheckpointFiles(tmp_path)))
    assert await asyncio.to_thread(entered.wait, 10)  # committed size 3, about to write its checkpoint
    await sequence(engine, entries[3:])
    second = await publish(engine, TileFiles(tmp_path))
    assert second is not None and second.size == 5
    gate.set()
    await asyncio.wait_for(first, 10)
    await assert_published(engine, TileFiles(tmp_path), entries)


async def test_overlapping_cosign_rounds_keep_every_cosignature(engine: AsyncEngine, tmp_path: Path) -> None:
    files, store, witnesses = TileFiles(tmp_path), SqlLog(engine), FakeWitnesses(W1, W2)
    await published_log(engine, files, 10)
    arrived, release = witnesses.hold(W2)
    first = asyncio.create_task(cosign(store, files, [W1, W2], witnesses.ask, now=NOW))
    await asyncio.wait_for(arrived.wait(), 10)  # the first round has W1's cosignature, and waits on W2
    assert await cosign(store, files, [W1, W2], witnesses.ask, now=NOW) == 1  # the second gets W2's
    release.set()
    await asyncio.wait_for(first, 10)
    assert [await store.witness_size(u) for u in (W1, W2)] == [10, 10]
    latest = await store.latest()
    assert latest is not None
    assert len(parse_note(latest.note).signatures) == 3
