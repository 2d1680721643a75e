"""The C2SP tlog-witness: what it cosigns, what it refuses and with which status, and what it remembers."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from sevamitra.adapters.tlog.notes import (
    NoteSigner,
    cosignature_signer_from_seed,
    note_signer_from_seed,
    verify_cosignature,
    verify_note,
)
from sevamitra.adapters.tlog.witness import (
    SIZE_CONTENT_TYPE,
    Witness,
    WitnessAnswer,
    WitnessState,
    load_witness_key,
)
from sevamitra.core.checkpoints import (
    Checkpoint,
    Note,
    b64encode,
    format_note,
    parse_note,
)
from sevamitra.core.merkle import MemoryTree, leaf_hash

ORIGIN = "example.com/log"
LOG = note_signer_from_seed(ORIGIN, bytes(range(32)))
NEXT_LOG_KEY = note_signer_from_seed(ORIGIN, bytes(range(2, 34)))
IMPOSTOR = note_signer_from_seed(ORIGIN, bytes(range(1, 33)))
COSIGNER = cosignature_signer_from_seed("witness.example/w1", bytes(range(64, 96)))
TIME = 1_700_000_000


def tree(size: int, label: bytes = b"entry") -> MemoryTree:
    return MemoryTree(leaf_hash(label + b" %d" % i) for i in range(size))


def signed(log: MemoryTree, size: int | None = None, *signers: NoteSigner, origin: str = ORIGIN) -> bytes:
    size = log.size if size is None else size
    body = Checkpoint(origin=origin, size=size, root=log.root(size)).body()
    return format_note(Note(text=body, signatures=tuple(s.sign(body) for s in signers or (LOG,))))


def request(old_size: int, proof: Sequence[bytes], note: bytes) -> bytes:
    lines = [f"old {old_size}", *(b64encode(item) for item in proof)]
    return "".join(line + "\n" for line in lines).encode() + b"\n" + note


def new_witness(directory: Path, *, clock: int = TIME) -> Witness:
    return Witness(COSIGNER, {ORIGIN: [LOG.vkey, NEXT_LOG_KEY.vkey]}, WitnessState(directory), clock=lambda: clock)


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return new_witness(tmp_path / "state")


async def advance(witness: Witness, log: MemoryTree, old_size: int, new_size: int) -> WitnessAnswer:
    proof = log.consistency_proof(old_size, new_size) if old_size else []
    return await witness.add_checkpoint(request(old_size, proof, signed(log, new_size)))


def files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def cosignature_of(answer: WitnessAnswer, note: bytes) -> int:
    """The timestamp of the one cosignature in a 200 answer, verified over the checkpoint body."""
    assert answer.status == 200, answer.body
    text = parse_note(note).text
    (signature,) = parse_note(text + b"\n" + answer.body).signatures
    return verify_cosignature(text, signature, COSIGNER.vkey)


# Cosigning


async def test_a_first_checkpoint_from_old_size_zero_is_cosigned_at_the_clock_time(witness: Witness) -> None:
    note = signed(tree(5))
    answer = await witness.add_checkpoint(request(0, [], note))
    assert answer.body.startswith("\u2014 witness.example/w1 ".encode())
    assert answer.body.endswith(b"\n")
    assert cosignature_of(answer, note) == TIME


async def test_the_cosigned_answer_appended_to_the_checkpoint_verifies_for_log_and_witness(witness: Witness) -> None:
    note = signed(tree(3))
    answer = await witness.add_checkpoint(request(0, [], note))
    cosigned = parse_note(note + answer.body)
    assert verify_note(cosigned, [LOG.vkey, COSIGNER.vkey]) == [ORIGIN, "witness.example/w1"]


async def test_a_consistent_larger_checkpoint_is_cosigned_and_becomes_the_new_size(witness: Witness) -> None:
    log = tree(13)
    assert (await advance(witness, log, 0, 4)).status == 200
    assert (await advance(witness, log, 4, 7)).status == 200
    answer = await advance(witness, log, 7, 13)
    cosignature_of(answer, signed(log, 13))
    stale = await advance(witness, log, 7, 13)
    assert (stale.status, stale.body) == (409, b"13\n")


async def test_the_same_checkpoint_again_is_cosigned_again(witness: Witness) -> None:
    log = tree(6)
    note = signed(log)
    assert (await witness.add_checkpoint(request(0, [], note))).status == 200
    again = await witness.add_checkpoint(request(6, [], note))
    cosignature_of(again, note)


async def test_signatures_from_unknown_keys_are_ignored_and_a_second_log_key_is_trusted(witness: Witness) -> None:
    stranger = note_signer_from_seed("stranger.example", bytes(32))
    note = signed(tree(2), None, stranger, NEXT_LOG_KEY)
    cosignature_of(await witness.add_checkpoint(request(0, [], note)), note)


async def test_an_empty_tree_can_be_cosigned_and_then_extended(witness: Witness) -> None:
    log = tree(4)
    assert (await advance(witness, log, 0, 0)).status == 200
    assert (await advance(witness, log, 0, 4)).status == 200


# History rewrites and stale sizes


async def test_another_root_at_the_cosigned_size_is_a_fork_refused_with_409_and_kept(
    witness: Witness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await advance(witness, tree(8), 0, 8)).status == 200
    fork = request(8, [], signed(tree(8, b"rewritten")))
    answer = await witness.add_checkpoint(fork)
    assert answer.status == 409
    assert answer.content_type != SIZE_CONTENT_TYPE
    assert b"FORK" in answer.body
    assert "FORK" in caplog.text
    (evidence,) = files(tmp_path / "state" / "evidence")
    assert evidence.read_bytes().endswith(fork)


async def test_a_rewritten_history_fails_its_consistency_proof_with_422(witness: Witness, tmp_path: Path) -> None:
    assert (await advance(witness, tree(8), 0, 8)).status == 200
    rewritten = tree(12, b"rewritten")
    answer = await witness.add_checkpoint(request(8, rewritten.consistency_proof(8), signed(rewritten)))
    assert answer.status == 422
    assert b"consisten" in answer.body
    assert len(files(tmp_path / "state" / "evidence")) == 1
    follow_up = await advance(witness, tree(12), 8, 12)
    assert follow_up.status == 200, "the refused checkpoint must not have moved the state"


async def test_a_tampered_or_wrong_length_proof_is_refused_with_422(witness: Witness) -> None:
    log = tree(11)
    assert (await advance(witness, log, 0, 5)).status == 200
    proof = log.consistency_proof(5, 11)
    tampered = [*proof[:-1], bytes(32)]
    assert (await witness.add_checkpoint(request(5, tampered, signed(log)))).status == 422
    assert (await witness.add_checkpoint(request(5, proof[:-1], signed(log)))).status == 422
    assert (await witness.add_checkpoint(request(5, [], signed(log)))).status == 422


async def test_a_proof_from_old_size_zero_must_be_empty(witness: Witness) -> None:
    answer = await witness.add_checkpoint(request(0, [bytes(32)], signed(tree(4))))
    assert answer.status == 422


async def test_a_proof_at_an_unchanged_size_must_be_empty(witness: Witness) -> None:
    log = tree(4)
    assert (await advance(witness, log, 0, 4)).status == 200
    assert (await witness.add_checkpoint(request(4, [bytes(32)], signed(log)))).status == 422


async def test_an_old_size_other_than_the_cosigned_one_gets_409_with_that_size(witness: Witness) -> None:
    log = tree(9)
    assert (await advance(witness, log, 0, 6)).status == 200
    for old_size in (0, 3):
        answer = await advance(witness, log, old_size, 9)
        assert answer == WitnessAnswer(status=409, body=b"6\n", content_type="text/x.tlog.size")


async def test_a_log_the_witness_never_cosigned_is_at_size_zero(witness: Witness) -> None:
    log = tree(9)
    answer = await advance(witness, log, 4, 9)
    assert (answer.status, answer.body, answer.content_type) == (409, b"0\n", SIZE_CONTENT_TYPE)


async def test_concurrent_requests_for_one_log_never_roll_it_back(witness: Witness) -> None:
    log = tree(40)
    assert (await advance(witness, log, 0, 4)).status == 200
    answers = await asyncio.gather(*(advance(witness, log, 4, size) for size in (8, 20, 30, 40)))
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200, 409, 409, 409]
    winner = next(size for size, answer in zip((8, 20, 30, 40), answers, strict=True) if answer.status == 200)
    assert all(answer.body == b"%d\n" % winner for answer in answers if answer.status == 409)


# Requests refused before any state is read


async def test_a_checkpoint_of_an_unknown_origin_is_404(witness: Witness) -> None:
    note = signed(tree(2), None, note_signer_from_seed("other.example/log", bytes(32)), origin="other.example/log")
    answer = await witness.add_checkpoint(request(0, [], note))
    assert answer.status == 404


async def test_a_checkpoint_not_signed_by_a_trusted_log_key_is_403(witness: Witness) -> None:
    assert (await witness.add_checkpoint(request(0, [], signed(tree(2), None, IMPOSTOR)))).status == 403


async def test_a_checkpoint_whose_text_was_changed_after_signing_is_403(witness: Witness) -> None:
    note = signed(tree(2)).replace(b"\n2\n", b"\n3\n", 1)
    assert (await witness.add_checkpoint(request(0, [], note))).status == 403


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"old 0\n", id="no-checkpoint"),
        pytest.param(b"old 00\n\n", id="leading-zero"),
        pytest.param(b"old -1\n\n", id="negative"),
        pytest.param(b"new 0\n\n", id="not-old"),
        pytest.param(b"old 0\nnot base64!\n\n", id="bad-proof-line"),
        pytest.param(b"old 0\n" + b64encode(bytes(31)).encode() + b"\n\n", id="short-proof-hash"),
        pytest.param(b"old 0\n" + (b64encode(bytes(32)).encode() + b"\n") * 64 + b"\n", id="64-proof-lines"),
        pytest.param(b"old 0\xff\n\n", id="not-ascii"),
    ],
)
async def test_malformed_requests_are_400(witness: Witness, body: bytes) -> None:
    note = signed(tree(2)) if body.endswith(b"\n\n") else b""
    answer = await witness.add_checkpoint(body + note)
    assert answer.status == 400, answer.body


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(Checkpoint(origin=ORIGIN, size=1, root=bytes(32)).body(), id="unsigned"),
        pytest.param(b"example.com/log\n01\nAAAA\n\n\xe2\x80\x94 example.com/log AAAAAAAA\n", id="bad-checkpoint"),
        pytest.param(b"example.com/log\n1\n", id="no-signature-block"),
    ],
)
async def test_malformed_checkpoints_are_400(witness: Witness, note: bytes) -> None:
    assert (await witness.add_checkpoint(request(0, [], note))).status == 400


async def test_an_old_size_above_the_checkpoint_size_is_400(witness: Witness) -> None:
    log = tree(6)
    assert (await advance(witness, log, 0, 6)).status == 200
    answer = await witness.add_checkpoint(request(6, [], signed(log, 4)))
    assert answer.status == 400


def test_a_cosignature_key_is_refused_as_a_log_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not Ed25519"):
        Witness(COSIGNER, {ORIGIN: [COSIGNER.vkey]}, WitnessState(tmp_path), clock=lambda: TIME)
    with pytest.raises(ValueError, match="no verifier key"):
        Witness(COSIGNER, {ORIGIN: []}, WitnessState(tmp_path), clock=lambda: TIME)


# Durable state


async def test_the_cosigned_size_survives_a_restart(tmp_path: Path) -> None:
    log = tree(10)
    assert (await advance(new_witness(tmp_path), log, 0, 4)).status == 200
    restarted = new_witness(tmp_path, clock=TIME + 60)
    assert (await advance(restarted, log, 0, 10)).body == b"4\n"
    assert cosignature_of(await advance(restarted, log, 4, 10), signed(log, 10)) == TIME + 60
    rewritten = tree(10, b"rewritten")
    assert (await new_witness(tmp_path).add_checkpoint(request(10, [], signed(rewritten)))).status == 409


async def test_the_state_is_one_json_file_per_origin_with_no_temporary_files_left(tmp_path: Path) -> None:
    log = tree(3)
    assert (await advance(new_witness(tmp_path), log, 0, 3)).status == 200
    (path,) = files(tmp_path)
    assert path.suffix == ".json"
    assert ORIGIN not in path.name
    record = json.loads(path.read_text())
    assert (record["origin"], record["size"], record["root"]) == (ORIGIN, 3, b64encode(log.root()))
    assert verify_note(parse_note(record["note"].encode()), [LOG.vkey]) == [ORIGIN]
    assert WitnessState(tmp_path).load("other.example/log") is None


async def test_a_corrupt_state_file_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    witness = new_witness(tmp_path)
    assert (await advance(witness, tree(2), 0, 2)).status == 200
    (path,) = files(tmp_path)
    path.write_text('{"origin": "example.com/log", "size": 2}')
    with pytest.raises(ValueError, match="corrupt"):
        await advance(witness, tree(4), 2, 4)


# The witness key


def test_a_missing_witness_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "witness.seed"
    created = load_witness_key(path, "witness.example/w1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    assert load_witness_key(path, "witness.example/w1").vkey == created.vkey
    assert created.vkey.startswith("witness.example/w1+")


def test_a_witness_key_file_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "witness.seed"
    path.write_bytes(bytes(31))
    with pytest.raises(ValueError, match="31 bytes"):
        load_witness_key(path, "witness.example/w1")
