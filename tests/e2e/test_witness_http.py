"""The witness on a real port under uvicorn, driven by the log's client over HTTP, and its CLI."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from sevamitra.adapters.tlog.notes import cosignature_signer_from_seed, note_signer_from_seed, verify_cosignature
from sevamitra.adapters.tlog.witness import Witness, WitnessState
from sevamitra.adapters.tlog.witness_client import Conflict, Cosigned, WitnessError, request_cosignature
from sevamitra.cli.witness import add_witness_commands, run_witness_command
from sevamitra.core.checkpoints import Checkpoint, Note, format_note, parse_note
from sevamitra.core.merkle import MemoryTree, leaf_hash
from sevamitra.web.witness import MAX_REQUEST_BYTES, create_witness_app
from tests.e2e.conftest import free_port

ORIGIN = "example.com/log"
LOG = note_signer_from_seed(ORIGIN, bytes(range(32)))
COSIGNER = cosignature_signer_from_seed("witness.example/w1", bytes(range(64, 96)))
TIME = 1_700_000_000


def tree(size: int, label: bytes = b"entry") -> MemoryTree:
    return MemoryTree(leaf_hash(label + b" %d" % i) for i in range(size))


def signed(log: MemoryTree, size: int | None = None) -> bytes:
    body = Checkpoint(origin=ORIGIN, size=log.size if size is None else size, root=log.root(size)).body()
    return format_note(Note(text=body, signatures=(LOG.sign(body),)))


@dataclass
class Served:
    url: str
    http: httpx.AsyncClient


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    witness = Witness(COSIGNER, {ORIGIN: [LOG.vkey]}, WitnessState(tmp_path / "state"), clock=lambda: TIME)
    port = free_port()
    config = uvicorn.Config(create_witness_app(witness), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(timeout=10) as http:
        yield Served(url=f"http://127.0.0.1:{port}", http=http)
    server.should_exit = True
    await task


def cosigned_at(answer: Cosigned | Conflict, note: bytes) -> int:
    assert isinstance(answer, Cosigned), answer
    (signature,) = answer.signatures
    return verify_cosignature(parse_note(note).text, signature, COSIGNER.vkey)


async def test_the_log_gets_a_cosignature_that_verifies_under_the_witness_key(served: Served) -> None:
    note = signed(tree(5))
    answer = await request_cosignature(served.http, served.url, 0, [], note)
    assert cosigned_at(answer, note) == TIME


async def test_a_stale_old_size_is_a_conflict_and_a_retry_from_the_witness_size_is_cosigned(served: Served) -> None:
    log = tree(12)
    cosigned_at(await request_cosignature(served.http, served.url, 0, [], signed(log, 5)), signed(log, 5))
    conflict = await request_cosignature(served.http, f"{served.url}/", 0, [], signed(log))
    assert conflict == Conflict(size=5)
    retry = await request_cosignature(served.http, served.url, conflict.size, log.consistency_proof(5), signed(log))
    cosigned_at(retry, signed(log))


async def test_a_history_rewrite_is_refused_over_http(served: Served) -> None:
    assert isinstance(await request_cosignature(served.http, served.url, 0, [], signed(tree(8))), Cosigned)
    rewritten = tree(12, b"rewritten")
    with pytest.raises(WitnessError, match="422") as bad_proof:
        await request_cosignature(served.http, served.url, 8, rewritten.consistency_proof(8), signed(rewritten))
    assert bad_proof.value.status == 422
    with pytest.raises(WitnessError, match="FORK") as fork:
        await request_cosignature(served.http, served.url, 8, [], signed(rewritten, 8))
    assert fork.value.status == 409


async def test_the_size_conflict_carries_exactly_the_tlog_size_content_type(served: Served) -> None:
    await request_cosignature(served.http, served.url, 0, [], signed(tree(3)))
    response = await served.http.post(f"{served.url}/add-checkpoint", content=b"old 1\n\n" + signed(tree(3)))
    assert (response.status_code, response.headers["content-type"], response.content) == (
        409,
        "text/x.tlog.size",
        b"3\n",
    )


async def test_refusals_reach_the_log_as_witness_errors_with_their_status(served: Served) -> None:
    stranger = note_signer_from_seed(ORIGIN, bytes(32))
    body = Checkpoint(origin=ORIGIN, size=1, root=leaf_hash(b"x")).body()
    forged = format_note(Note(text=body, signatures=(stranger.sign(body),)))
    with pytest.raises(WitnessError) as refused:
        await request_cosignature(served.http, served.url, 0, [], forged)
    assert refused.value.status == 403
    other = note_signer_from_seed("other.example/log", bytes(32))
    body = Checkpoint(origin="other.example/log", size=1, root=leaf_hash(b"x")).body()
    with pytest.raises(WitnessError, match="unknown log") as unknown:
        await request_cosignature(
            served.http, served.url, 0, [], format_note(Note(text=body, signatures=(other.sign(body),)))
        )
    assert unknown.value.status == 404


async def test_an_unreachable_witness_is_a_witness_error_without_a_status() -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(WitnessError, match="could not be reached") as unreachable:
            await request_cosignature(http, f"http://127.0.0.1:{free_port()}", 0, [], signed(tree(1)))
    assert unreachable.value.status is None


async def test_a_request_over_one_mebibyte_is_413(served: Served) -> None:
    response = await served.http.post(f"{served.url}/add-checkpoint", content=b"old 0\n" + bytes(MAX_REQUEST_BYTES))
    assert response.status_code == 413


async def test_the_root_page_says_what_it_is_and_gives_the_witness_key(served: Served) -> None:
    response = await served.http.get(f"{served.url}/")
    assert response.status_code == 200
    assert "tlog-witness" in response.text
    assert COSIGNER.vkey in response.text
    assert response.text.count("\n") == 1


# The CLI


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sevamitra")
    add_witness_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_witness_vkey_creates_the_key_once_and_prints_the_same_vkey(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["witness", "vkey", "--name", "witness.example/w1", "--key-file", str(tmp_path / "w.seed")]
    assert run_witness_command(parse(argv)) == 0
    first = capsys.readouterr().out
    assert run_witness_command(parse(argv)) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("witness.example/w1+")


def test_witness_serve_refuses_a_log_key_that_is_not_an_ed25519_note_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "witness",
        "serve",
        "--name",
        "witness.example/w1",
        "--key-file",
        str(tmp_path / "w.seed"),
        "--state",
        str(tmp_path / "state"),
        "--log",
        COSIGNER.vkey,
    ]
    assert run_witness_command(parse(argv)) == 2
    assert "not an Ed25519 note key" in capsys.readouterr().err
