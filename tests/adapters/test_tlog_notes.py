"""Ed25519 signed notes and witness cosignatures: the published vector, round trips, tampering."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sevamitra.adapters.tlog.notes import (
    NoteVerificationError,
    cosignature_signer_from_seed,
    note_signer_from_seed,
    note_signer_from_skey,
    verify_cosignature,
    verify_note,
)
from sevamitra.core.checkpoints import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Checkpoint,
    FormatError,
    Note,
    NoteSignature,
    TlogProof,
    format_note,
    format_proof,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_proof,
    parse_skey,
    parse_vkey,
)
from sevamitra.core.merkle import MemoryTree, leaf_hash, verify_inclusion

VECTORS = (Path(__file__).parents[2] / ".." / "shared" / "vectors" / "signed-note").resolve()
LOG = note_signer_from_seed("example.com/log", bytes(range(32)))
OTHER_LOG = note_signer_from_seed("example.com/log", bytes(range(1, 33)))
WITNESS = cosignature_signer_from_seed("witness.example/w1", bytes(range(64, 96)))
BODY = Checkpoint(origin="example.com/log", size=3, root=leaf_hash(b"root")).body()
TIME = 1_700_000_000


def signed_note_vectors() -> list[Any]:
    paths = sorted(VECTORS.glob("*.json"))
    assert paths, f"no signed-note vectors under {VECTORS}"
    return [pytest.param(json.loads(path.read_text()), id=path.stem) for path in paths]


def tampered(body: bytes) -> bytes:
    return body.replace(b"\n3\n", b"\n4\n")


# The published signed-note vector


@pytest.mark.parametrize("vector", signed_note_vectors())
def test_signing_the_vector_text_reproduces_its_signature_line_byte_for_byte(vector: dict[str, Any]) -> None:
    signer = note_signer_from_skey(vector["private_key"])
    assert signer.vkey == vector["verifier_key"]
    text = vector["text"].encode()
    signature = signer.sign(text)
    assert signature.line() == vector["signature_line"]
    note = Note(text=text, signatures=(signature,))
    assert format_note(note) == text + b"\n" + vector["signature_line"].encode() + b"\n"


@pytest.mark.parametrize("vector", signed_note_vectors())
def test_the_vector_note_verifies_under_its_verifier_key_only(vector: dict[str, Any]) -> None:
    data = vector["text"].encode() + b"\n" + vector["signature_line"].encode() + b"\n"
    note = parse_note(data)
    name = parse_vkey(vector["verifier_key"])[0]
    assert verify_note(note, [vector["verifier_key"]]) == [name]
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_note(replace(note, text=note.text.replace(b"answer", b"question")), [vector["verifier_key"]])
    with pytest.raises(NoteVerificationError, match="no signature"):
        verify_note(note, [LOG.vkey])


@pytest.mark.parametrize("vector", signed_note_vectors())
def test_a_signer_from_the_vector_seed_equals_the_one_from_its_key_string(vector: dict[str, Any]) -> None:
    name, _, seed, _ = parse_skey(vector["private_key"])
    assert note_signer_from_seed(name, seed).vkey == vector["verifier_key"]


# Note signatures


def test_a_signed_note_round_trips_and_verifies() -> None:
    note = parse_note(format_note(Note(text=BODY, signatures=(LOG.sign(BODY),))))
    assert verify_note(note, [LOG.vkey]) == ["example.com/log"]
    name, key_type, _, stated_id = parse_vkey(LOG.vkey)
    assert (name, key_type, stated_id) == ("example.com/log", ED25519_TYPE, LOG.key_id)


def test_signatures_from_unknown_keys_are_ignored() -> None:
    stranger = note_signer_from_seed("stranger.example", bytes(32))
    note = Note(text=BODY, signatures=(stranger.sign(BODY), OTHER_LOG.sign(BODY), LOG.sign(BODY)))
    assert verify_note(note, [LOG.vkey]) == ["example.com/log"]


def test_a_failing_signature_from_a_trusted_key_rejects_the_note() -> None:
    forged = NoteSignature(name=LOG.name, key_id=LOG.key_id, signature=OTHER_LOG.sign(BODY).signature)
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_note(Note(text=BODY, signatures=(forged, WITNESS.cosign(BODY, TIME))), [LOG.vkey, WITNESS.vkey])


def test_a_tampered_note_text_fails() -> None:
    note = Note(text=tampered(BODY), signatures=(LOG.sign(BODY),))
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_note(note, [LOG.vkey])


def test_two_signatures_by_one_trusted_key_reject_the_note() -> None:
    signature = LOG.sign(BODY)
    with pytest.raises(NoteVerificationError, match="two signatures"):
        verify_note(Note(text=BODY, signatures=(signature, signature)), [LOG.vkey])


def test_a_note_signature_of_the_wrong_length_fails() -> None:
    short = NoteSignature(name=LOG.name, key_id=LOG.key_id, signature=LOG.sign(BODY).signature[:-1])
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_note(Note(text=BODY, signatures=(short,)), [LOG.vkey])


def test_signing_refuses_text_without_a_final_newline() -> None:
    with pytest.raises(ValueError, match="newline"):
        LOG.sign(BODY[:-1])


def test_signer_keys_with_a_wrong_id_or_type_are_refused() -> None:
    seed = base64.b64encode(b"\x01" + bytes(range(32))).decode()
    good = f"PRIVATE+KEY+example.com/log+{LOG.key_id.hex()}+{seed}"
    assert note_signer_from_skey(good).vkey == LOG.vkey
    with pytest.raises(FormatError, match="does not match"):
        note_signer_from_skey(good.replace(LOG.key_id.hex(), "00000000"))
    cosigner = base64.b64encode(b"\x04" + bytes(range(32))).decode()
    with pytest.raises(FormatError, match="not Ed25519"):
        note_signer_from_skey(f"PRIVATE+KEY+example.com/log+{LOG.key_id.hex()}+{cosigner}")
    with pytest.raises(ValueError, match="32 bytes"):
        note_signer_from_seed("example.com/log", bytes(31))


def test_unsupported_verifier_key_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported type"):
        verify_note(Note(text=BODY, signatures=(LOG.sign(BODY),)), [_vkey_of_type(0x02)])


def _vkey_of_type(key_type: int) -> str:
    public = bytes(32)
    encoded = base64.b64encode(bytes([key_type]) + public).decode()
    return f"example.com/log+{key_id('example.com/log', key_type, public).hex()}+{encoded}"


# Cosignatures


def test_a_cosignature_round_trips_with_its_timestamp() -> None:
    signature = WITNESS.cosign(BODY, TIME)
    assert signature.key_id == key_id(WITNESS.name, COSIGNATURE_TYPE, parse_vkey(WITNESS.vkey)[2])
    assert signature.signature[:8] == TIME.to_bytes(8, "big")
    assert len(signature.signature) == 72
    assert verify_cosignature(BODY, signature, WITNESS.vkey) == TIME


def test_a_cosignature_over_a_tampered_body_fails() -> None:
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_cosignature(tampered(BODY), WITNESS.cosign(BODY, TIME), WITNESS.vkey)


def test_a_cosignature_with_a_changed_timestamp_fails() -> None:
    signature = WITNESS.cosign(BODY, TIME)
    moved = replace(signature, signature=(TIME + 1).to_bytes(8, "big") + signature.signature[8:])
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_cosignature(BODY, moved, WITNESS.vkey)


def test_a_cosignature_is_checked_only_against_its_own_cosigner() -> None:
    other = cosignature_signer_from_seed("witness.example/w2", bytes(range(96, 128)))
    with pytest.raises(NoteVerificationError, match="not by the cosigner"):
        verify_cosignature(BODY, other.cosign(BODY, TIME), WITNESS.vkey)
    with pytest.raises(ValueError, match="not a cosignature key"):
        verify_cosignature(BODY, LOG.sign(BODY), LOG.vkey)
    truncated = replace(WITNESS.cosign(BODY, TIME), signature=bytes(71))
    with pytest.raises(NoteVerificationError, match="72 bytes"):
        verify_cosignature(BODY, truncated, WITNESS.vkey)


def test_the_same_key_has_distinct_ids_as_note_signer_and_as_cosigner() -> None:
    as_cosigner = cosignature_signer_from_seed(LOG.name, bytes(range(32)))
    assert parse_vkey(as_cosigner.vkey)[2] == parse_vkey(LOG.vkey)[2]
    assert as_cosigner.key_id != LOG.key_id


def test_a_cosigned_checkpoint_verifies_for_log_and_witness() -> None:
    note = Note(text=BODY, signatures=(LOG.sign(BODY), WITNESS.cosign(BODY, TIME)))
    assert verify_note(parse_note(format_note(note)), [LOG.vkey, WITNESS.vkey]) == [LOG.name, WITNESS.name]
    assert verify_note(note, [WITNESS.vkey]) == [WITNESS.name]


# A tlog-proof end to end


def test_a_tlog_proof_carries_everything_an_offline_verifier_needs() -> None:
    entries = [f"certificate {i}".encode() for i in range(11)]
    tree = MemoryTree(leaf_hash(entry) for entry in entries)
    body = Checkpoint(origin="example.com/log", size=tree.size, root=tree.root()).body()
    note = Note(text=body, signatures=(LOG.sign(body), WITNESS.cosign(body, TIME)))
    data = format_proof(TlogProof(index=4, hashes=tuple(tree.inclusion_proof(4)), checkpoint=note))

    proof = parse_proof(data)
    assert verify_note(proof.checkpoint, [LOG.vkey, WITNESS.vkey]) == [LOG.name, WITNESS.name]
    checkpoint = parse_checkpoint(proof.checkpoint.text)
    verify_inclusion(leaf_hash(entries[4]), proof.index, checkpoint.size, proof.hashes, checkpoint.root)
