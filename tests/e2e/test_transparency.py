"""The transparency log end to end: certificates issued, a witness on loopback cosigns, an auditor
checks the served tiles, and tampering with a tile or an entry's row is caught by the audit and by
the verification page; the witness refuses a checkpoint that rewrites history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.adapters.sql.tables import log_entries
from sevamitra.adapters.tlog.audit import audit
from sevamitra.adapters.tlog.keys import load_log_signer
from sevamitra.adapters.tlog.notes import verify_note
from sevamitra.adapters.tlog.witness import Witness, WitnessState, load_witness_key
from sevamitra.adapters.tlog.witness_client import Cosigned, WitnessError, request_cosignature
from sevamitra.cli.certificates import sample_to_file
from sevamitra.core.checkpoints import Checkpoint, Note, format_note, parse_checkpoint, parse_note, parse_proof
from sevamitra.core.logentries import certificate_hash, parse_entry
from sevamitra.core.merkle import leaf_hash, tile_path, verify_inclusion
from sevamitra.web.witness import create_witness_app
from tests.e2e.conftest import Running, free_port, platform_on_port, uvicorn_on

SERVICE = "revenue.income-certificate"
ORIGIN = "verify.e2e.sevamitra.test/log"


@dataclass
class Logged:
    running: Running
    log_vkey: str
    witness_vkey: str
    witness_url: str
    tmp: Path


@pytest.fixture
async def logged(database_url: str, tmp_path: Path) -> AsyncIterator[Logged]:
    """The platform with its log cosigned by a witness running on another loopback port."""
    log_key = load_log_signer(tmp_path / "keys" / "log.key", ORIGIN, create=True)
    cosigner = load_witness_key(tmp_path / "witness.key", "witness.e2e.sevamitra.test")
    witness = Witness(cosigner, {ORIGIN: [log_key.vkey]}, WitnessState(tmp_path / "witness"), lambda: int(time.time()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with (
        uvicorn_on(create_witness_app(witness), port),
        platform_on_port(
            database_url,
            tmp_path,
            log_origin=ORIGIN,
            log_signing_key=tmp_path / "keys" / "log.key",
            log_witnesses=[f"{url} {cosigner.vkey}"],
            log_interval_seconds=0.2,
        ) as running,
    ):
        yield Logged(running, log_key.vkey, cosigner.vkey, url, tmp_path)


async def issue(logged: Logged, count: int) -> list[tuple[str, str]]:
    """Certificates through the real action: (number, the text of the printed QR)."""
    found = []
    for n in range(count):
        path = await sample_to_file(logged.running.platform, SERVICE, n, logged.tmp)
        found.append((path.stem, qr_texts(path.read_bytes())[0]))
    return found


async def cosigned_checkpoint(logged: Logged, size: int, timeout: float = 20.0) -> bytes:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await logged.running.http.get(f"{logged.running.url}/log/checkpoint")
        if response.status_code == 200:
            note = parse_note(response.content)
            if parse_checkpoint(note.text).size >= size and len(note.signatures) >= 2:
                return response.content
        assert asyncio.get_running_loop().time() < deadline, f"no cosigned checkpoint of {size}: {response.text}"
        await asyncio.sleep(0.1)


async def log_state(logged: Logged, qr: str) -> str:
    page = await logged.running.http.get(f"{logged.running.url}/V/{qr.rpartition('/V/')[2]}")
    marker = 'data-log="'
    return page.text.split(marker, 1)[1].split('"', 1)[0] if marker in page.text else "absent"


async def audited(logged: Logged) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as http:
        report = await audit(
            http,
            logged.running.url,
            log_vkey=logged.log_vkey,
            witness_vkeys=[logged.witness_vkey],
            min_witnesses=1,
            state_dir=None,
        )
    return report.problems


async def test_a_witnessed_log_audits_clean_and_tampering_is_caught(logged: Logged) -> None:
    certificates = await issue(logged, 3)
    await cosigned_checkpoint(logged, 4)  # the first signing key's rotation entry, then three issuances
    assert await audited(logged) == []
    page = await logged.running.http.get(f"{logged.running.url}/V/{certificates[0][1].rpartition('/V/')[2]}")
    assert 'data-log="included"' in page.text and "cosigned by 1 witnesses" in page.text

    store = logged.running.platform.transparency.store
    (first,) = await store.entries_of(certificates[0][0])
    (second,) = await store.entries_of(certificates[1][0])
    latest = await store.latest()
    assert latest is not None
    tile = logged.running.settings.log_dir / tile_path(0, 0, latest.size)
    original = tile.read_bytes()

    altered = bytearray(original)
    altered[32 * first.position] ^= 0x01  # the first certificate's leaf in the served tile
    tile.write_bytes(bytes(altered))
    problems = await audited(logged)
    assert problems and any(str(first.position) in problem for problem in problems)
    assert await log_state(logged, certificates[0][1]) == "failed"
    assert await log_state(logged, certificates[2][1]) == "failed"  # its proof passes through that leaf
    tile.write_bytes(original)
    assert await audited(logged) == []

    engine = logged.running.platform.transparency.store.engine
    forged = second.entry.replace(b"kind revenue-certificate", b"kind caste-certificate")
    async with engine.begin() as connection:
        await connection.execute(
            update(log_entries).where(log_entries.c.position == second.position).values(entry=forged)
        )
    assert await log_state(logged, certificates[1][1]) == "failed"
    assert await log_state(logged, certificates[0][1]) == "included"


async def test_the_witness_refuses_a_checkpoint_that_rewrites_history(logged: Logged) -> None:
    await issue(logged, 2)
    seen = parse_checkpoint(parse_note(await cosigned_checkpoint(logged, 3)).text)
    log_key = load_log_signer(logged.tmp / "keys" / "log.key", ORIGIN, create=False)

    def signed(checkpoint: Checkpoint) -> bytes:
        body = checkpoint.body()
        return format_note(Note(text=body, signatures=(log_key.sign(body),)))

    async with httpx.AsyncClient(timeout=10) as http:
        fork = signed(Checkpoint(origin=ORIGIN, size=seen.size, root=bytes(32)))
        with pytest.raises(WitnessError) as same_size:
            await request_cosignature(http, logged.witness_url, seen.size, [], fork)
        assert same_size.value.status == 409
        rewritten = signed(Checkpoint(origin=ORIGIN, size=seen.size + 5, root=bytes(32)))
        with pytest.raises(WitnessError) as bad_proof:
            await request_cosignature(http, logged.witness_url, seen.size, [bytes(32)] * 3, rewritten)
        assert bad_proof.value.status == 422
        again = await request_cosignature(http, logged.witness_url, seen.size, [], signed(seen))
        assert isinstance(again, Cosigned)  # the true checkpoint is still cosigned


async def test_a_holder_gets_a_proof_that_verifies_against_the_signed_checkpoint(logged: Logged) -> None:
    ((number, _),) = await issue(logged, 1)
    await cosigned_checkpoint(logged, 2)
    bundle = await logged.running.platform.transparency.proof(number)
    assert bundle is not None and bundle.startswith(b"c2sp.org/tlog-proof@v1\n")
    proof = parse_proof(bundle)
    verify_note(proof.checkpoint, [logged.log_vkey])
    checkpoint = parse_checkpoint(proof.checkpoint.text)
    (logged_entry,) = await logged.running.platform.transparency.store.entries_of(number)
    salt = bytes.fromhex(proof.extra.decode())
    assert parse_entry(logged_entry.entry).get("certificate") == certificate_hash(number, salt).hex()
    verify_inclusion(leaf_hash(logged_entry.entry), proof.index, checkpoint.size, proof.hashes, checkpoint.root)
    assert await logged.running.platform.transparency.proof("AP-REV-INC-2026-999999") is None
