"""The transparency log's text formats and proofs under fuzzing: checkpoints, signed notes, keys,
tlog-proofs, log entries, tile paths and bundles, inclusion and consistency proofs, and the
witness's add-checkpoint requests. Each gives a value that re-encodes to the very bytes it came
from, or its documented error; no mutated proof verifies."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx
from hypothesis import strategies as st

from sevamitra.adapters.tlog.notes import cosignature_signer_from_seed, note_signer_from_seed
from sevamitra.adapters.tlog.witness import MalformedRequest, Witness, WitnessState, parse_add_checkpoint
from sevamitra.adapters.tlog.witness_client import Conflict, Cosigned, WitnessError, request_cosignature
from sevamitra.core.checkpoints import (
    Checkpoint,
    FormatError,
    Note,
    TlogProof,
    b64encode,
    format_note,
    format_proof,
    parse_checkpoint,
    parse_note,
    parse_proof,
    parse_skey,
    parse_timestamped_signature,
    parse_vkey,
)
from sevamitra.core.logentries import EntryError, issuance, key_rotation, parse_entry, supersession
from sevamitra.core.merkle import (
    MemoryTree,
    ProofError,
    entries_path,
    leaf_hash,
    parse_tile_path,
    tile_path,
    verify_consistency,
    verify_inclusion,
)
from sevamitra.core.tiles import decode_bundle, encode_bundle
from tests.fuzz.harness import fuzz
from tests.fuzz.mutations import inputs, mutated

ORIGIN = "sevamitra.example/log"
LOG = note_signer_from_seed(ORIGIN, bytes(range(32)))
COSIGNER = cosignature_signer_from_seed("witness.example/w1", bytes(range(64, 96)))
TREE = MemoryTree(leaf_hash(b"entry %d" % i) for i in range(21))
WITNESSED = 7  # the size the witness has cosigned before each fuzzed request


def signed_note(size: int, *, extensions: tuple[str, ...] = ()) -> bytes:
    body = Checkpoint(origin=ORIGIN, size=size, root=TREE.root(size), extensions=extensions).body()
    return format_note(Note(text=body, signatures=(LOG.sign(body),)))


def add_request(old_size: int, proof: list[bytes], note: bytes) -> bytes:
    lines = [f"old {old_size}", *(b64encode(item) for item in proof)]
    return "".join(line + "\n" for line in lines).encode() + b"\n" + note


NOTE = signed_note(13, extensions=("extension line",))
PROOF = format_proof(
    TlogProof(index=5, hashes=tuple(TREE.inclusion_proof(5, 13)), checkpoint=parse_note(NOTE), extra=b"\x01\x02")
)
ENTRIES = [
    issuance(
        number="AP-1",
        salt=bytes(16),
        time=1_800_000_000,
        kind="k",
        service="s.t",
        office="Guntur",
        kid=bytes(8),
        cose=b"c",
    ).encode(),
    supersession(number="AP-1", salt=bytes(16), by="AP-2", by_salt=b"\x01" * 16, time=0).encode(),
    key_rotation(kid=bytes(8), public=bytes(32), not_before=1, time=2).encode(),
]
ADD_REQUEST = add_request(WITNESSED, TREE.consistency_proof(WITNESSED, 13), signed_note(13))


@fuzz(inputs([Checkpoint(origin=ORIGIN, size=13, root=TREE.root(13)).body(), parse_note(NOTE).text]))
def test_checkpoint_parser(data: bytes) -> None:
    try:
        checkpoint = parse_checkpoint(data)
    except FormatError:
        return
    assert checkpoint.body() == data


@fuzz(inputs([NOTE, PROOF]))
def test_signed_note_parser(data: bytes) -> None:
    try:
        note = parse_note(data)
    except FormatError:
        return
    assert format_note(note) == data


@fuzz(inputs([PROOF, NOTE]))
def test_tlog_proof_parser(data: bytes) -> None:
    try:
        proof = parse_proof(data)
    except FormatError:
        return
    assert format_proof(proof) == data


@fuzz(inputs([LOG.vkey.encode(), COSIGNER.vkey.encode(), b"PRIVATE+KEY+" + LOG.vkey.encode()]), st.booleans())
def test_verifier_and_signer_key_parsers(data: bytes, signer: bool) -> None:
    text = data.decode("utf-8", "surrogateescape")  # lone surrogates too: keys come from settings
    try:
        name, key_type, key, key_id = parse_skey(text) if signer else parse_vkey(text)
    except FormatError:
        return
    assert len(key_id) == 4 and 0 <= key_type <= 0xFF and name and key


@fuzz(st.binary(max_size=80) | mutated([bytes(8) + bytes(range(64))]))
def test_timestamped_signature_parser(data: bytes) -> None:
    try:
        timestamp, signature = parse_timestamped_signature(data)
    except FormatError:
        return
    assert 0 <= timestamp < 2**63 and len(signature) == 64


@fuzz(inputs(ENTRIES, max_size=600))
def test_log_entry_parser(data: bytes) -> None:
    try:
        entry = parse_entry(data)
    except EntryError:
        return
    assert entry.encode() == data


TILE_PATHS = [tile_path(0, 1_234_067), tile_path(3, 5, width=17), entries_path(999), entries_path(1_000, width=1)]


@fuzz(inputs([p.encode() for p in TILE_PATHS], max_size=80).map(lambda data: data.decode("utf-8", "replace")))
def test_tile_path_parser(path: str) -> None:
    try:
        level, index, width = parse_tile_path(path)
    except ValueError:
        return
    assert (entries_path(index, width) if level == "entries" else tile_path(level, index, width)) == path


@fuzz(inputs([encode_bundle(ENTRIES), encode_bundle([b"", b"x" * 300])], max_size=1024))
def test_entry_bundle_decoder(data: bytes) -> None:
    try:
        entries = decode_bundle(data)
    except ValueError:
        return
    assert encode_bundle(entries) == data


stray_hashes = st.binary(min_size=31, max_size=33) | st.sampled_from([TREE.hash_at(0, i) for i in range(TREE.size)])


@st.composite
def altered(draw: st.DrawFn, proof: list[bytes]) -> list[bytes]:
    """A proof with hashes changed, dropped, added or swapped (or, now and then, as it was)."""
    changed = list(proof)
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["flip", "drop", "add", "swap"]))
        at = draw(st.integers(0, max(0, len(changed) - 1)))
        if edit == "flip" and changed:
            item = bytearray(changed[at])
            item[draw(st.integers(0, len(item) - 1))] ^= 1 << draw(st.integers(0, 7))
            changed[at] = bytes(item)
        elif edit == "drop" and changed:
            del changed[at]
        elif edit == "add":
            changed.insert(at, draw(stray_hashes))
        elif edit == "swap" and len(changed) > 1:
            changed[at], changed[-1] = changed[-1], changed[at]
    return changed


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes], int, int]:
    size = draw(st.integers(1, TREE.size))
    index = draw(st.integers(0, size - 1))
    claimed_index = draw(st.sampled_from([index, index, index + 1, index - 1, size, -1]))
    claimed_size = draw(st.sampled_from([size, size, size + 1, size - 1, 0, 2**64]))
    return index, size, draw(altered(TREE.inclusion_proof(index, size))), claimed_index, claimed_size


@fuzz(inclusion_cases())
def test_inclusion_proofs(case: tuple[int, int, list[bytes], int, int]) -> None:
    index, size, proof, claimed_index, claimed_size = case
    try:
        verify_inclusion(TREE.hash_at(0, index), claimed_index, claimed_size, proof, TREE.root(size))
    except ProofError:
        return
    # a proof does not bind the tree size (the signed checkpoint does), but nothing forged verifies
    assert proof == TREE.inclusion_proof(index, size)


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes], int, int]:
    new = draw(st.integers(1, TREE.size))
    old = draw(st.integers(1, new))
    claimed_old = draw(st.sampled_from([old, old, old + 1, old - 1, 0]))
    claimed_new = draw(st.sampled_from([new, new, new + 1, new - 1]))
    return old, new, draw(altered(TREE.consistency_proof(old, new))), claimed_old, claimed_new


@fuzz(consistency_cases())
def test_consistency_proofs(case: tuple[int, int, list[bytes], int, int]) -> None:
    old, new, proof, claimed_old, claimed_new = case
    try:
        verify_consistency(claimed_old, claimed_new, TREE.root(old), TREE.root(new), proof)
    except ProofError:
        return
    assert proof == TREE.consistency_proof(old, new)


@fuzz(inputs([ADD_REQUEST, add_request(0, [], signed_note(3))]))
def test_add_checkpoint_request_parser(body: bytes) -> None:
    try:
        request = parse_add_checkpoint(body)
    except MalformedRequest:
        return
    assert request.note == parse_note(request.signed_note)


@st.composite
def witness_requests(draw: st.DrawFn) -> bytes:
    """Requests the log itself signed (so that they get past the signature check) with the old size,
    proof or checkpoint text altered; or a whole request mutated byte by byte."""
    size = draw(st.integers(0, TREE.size))
    old = draw(st.sampled_from([WITNESSED, WITNESSED, 0, size, WITNESSED + 1]))
    proof = TREE.consistency_proof(WITNESSED, size) if 0 < WITNESSED <= size else []
    kind = draw(st.sampled_from(["proof", "text", "bytes"]))
    if kind == "proof":
        return add_request(old, draw(altered(proof)), signed_note(size))
    if kind == "text":
        body = draw(mutated([Checkpoint(origin=ORIGIN, size=size, root=TREE.root(size)).body()], edits=2))
        if body.endswith(b"\n"):
            try:
                note = format_note(Note(text=body, signatures=(LOG.sign(body),)))
            except ValueError:
                note = body + b"\n"
            return add_request(old, proof, note)
        return add_request(old, proof, body)
    return draw(mutated([ADD_REQUEST], edits=3))


@fuzz(witness_requests(), weight=0.5)
def test_witness_add_checkpoint(body: bytes) -> None:
    """Only the statuses c2sp.org/tlog-witness prescribes; a cosignature only for the log's true tree."""
    with tempfile.TemporaryDirectory() as directory:
        witness = Witness(COSIGNER, {ORIGIN: [LOG.vkey]}, WitnessState(Path(directory)), clock=lambda: 1_700_000_000)
        first = asyncio.run(witness.add_checkpoint(add_request(0, [], signed_note(WITNESSED))))
        assert first.status == 200
        answer = asyncio.run(witness.add_checkpoint(body))
    assert answer.status in (200, 400, 403, 404, 409, 422)
    if answer.status == 200:
        checkpoint = parse_checkpoint(parse_add_checkpoint(body).note.text)
        assert checkpoint.size >= WITNESSED and checkpoint.root == TREE.root(checkpoint.size)


@fuzz(
    st.sampled_from([(200, "text/plain; charset=utf-8"), (409, "text/x.tlog.size"), (409, "text/plain"), (500, "")]),
    inputs([COSIGNER.cosign(parse_note(NOTE).text, 1_700_000_000).line().encode() + b"\n", b"7\n"]),
)
def test_witness_answer_reader(status_and_type: tuple[int, str], body: bytes) -> None:
    """What a witness answers the log is untrusted too: cosignature lines, a size, or a `WitnessError`."""
    status, content_type = status_and_type

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type} if content_type else {})

    async def ask() -> Cosigned | Conflict:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            return await request_cosignature(http, "http://witness.test", WITNESSED, [], NOTE)

    try:
        outcome = asyncio.run(ask())
    except WitnessError:
        return
    if isinstance(outcome, Conflict):
        assert outcome.size >= 0
    else:
        assert outcome.signatures
