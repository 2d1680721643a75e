"""C2SP text formats: checkpoint bodies, signed notes, verifier keys, cosigned messages, tlog-proofs."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevamitra.core.checkpoints import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    Checkpoint,
    FormatError,
    Note,
    NoteSignature,
    TlogProof,
    cosigned_message,
    format_note,
    format_proof,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_proof,
    parse_skey,
    parse_timestamped_signature,
    parse_vkey,
    timestamped_signature,
    vkey,
)

# The example checkpoint of the C2SP tlog-checkpoint and tlog-cosignature texts.
SPEC_BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
SIGNATURE = NoteSignature(name="example.com/log", key_id=b"\x01\x02\x03\x04", signature=bytes(range(64)))
PUBLIC = bytes(range(32))


def line(signature: NoteSignature) -> bytes:
    return signature.line().encode() + b"\n"


# tlog-checkpoint


def test_checkpoint_body_is_origin_size_and_base64_root() -> None:
    checkpoint = Checkpoint(origin="example.com/behind-the-sofa", size=20852163, root=ROOT)
    assert checkpoint.body() == SPEC_BODY
    assert parse_checkpoint(SPEC_BODY) == checkpoint


def test_checkpoint_extension_lines_follow_the_root() -> None:
    checkpoint = Checkpoint(origin="log", size=0, root=ROOT, extensions=("ext one", "two"))
    assert checkpoint.body().endswith(b"=\next one\ntwo\n")
    assert parse_checkpoint(checkpoint.body()) == checkpoint


printable = st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f")
line_text = st.text(printable, min_size=1, max_size=30)


@given(line_text, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(line_text, max_size=3))
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin=origin, size=size, root=root, extensions=tuple(extensions))
    assert parse_checkpoint(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (SPEC_BODY[:-1], "newline"),
        (b"example.com/log\n5\n", "3"),
        (b"\n5\n" + SPEC_BODY.split(b"\n")[2] + b"\n", "empty line"),
        (SPEC_BODY + b"\n", "empty line"),
        (SPEC_BODY.replace(b"\n2", b"\n\n2"), "empty line"),
        (SPEC_BODY.replace(b"20852163", b"020852163"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b"+20852163"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b" 20852163"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b"-1"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b"2e7"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", "２".encode()), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b"00"), "canonical decimal"),
        (SPEC_BODY.replace(b"20852163", b"18446744073709551616"), "64 bits"),
        (SPEC_BODY.replace(b"20852163", b"9" * 5000), "canonical decimal"),
        (SPEC_BODY.replace(b"2I=", b"2J="), "canonical base64"),
        (SPEC_BODY.replace(b"2I=", b"2I"), "base64"),
        (SPEC_BODY.replace(b"Cs", b"C-"), "base64"),
        (SPEC_BODY.replace(b"CsUYapGG", b"CsUY apGG"), "base64"),
        (b"log\n1\n" + base64.b64encode(bytes(31)) + b"\n", "31 bytes"),
        (b"log\n1\n" + base64.b64encode(bytes(33)) + b"\n", "33 bytes"),
        (SPEC_BODY.replace(b"\n", b"\r\n"), "control character"),
        (SPEC_BODY.replace(b"sofa", b"so\rfa"), "control character"),
        (SPEC_BODY.replace(b"sofa", b"so\tfa"), "control character"),
        (SPEC_BODY.replace(b"sofa", b"so\x00fa"), "control character"),
        (SPEC_BODY.replace(b"sofa", b"so\xfffa"), "UTF-8"),
    ],
)
def test_malformed_checkpoints_are_rejected(body: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("two\nlines", 1, ROOT, ()),
        ("log", -1, ROOT, ()),
        ("log", 2**64, ROOT, ()),
        ("log", 1, ROOT[:31], ()),
        ("log", 1, ROOT, ("",)),
        ("log", 1, ROOT, ("a\rb",)),
        ("\ud800", 1, ROOT, ()),
    ],
)
def test_checkpoints_refuse_values_they_cannot_encode(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Checkpoint(origin=origin, size=size, root=root, extensions=extensions)


# signed-note


def test_note_is_text_blank_line_and_em_dash_signature_lines() -> None:
    other = NoteSignature(name="witness.example/w1", key_id=b"\xff" * 4, signature=b"\x00" * 72)
    note = Note(text=SPEC_BODY, signatures=(SIGNATURE, other))
    data = format_note(note)
    assert data == SPEC_BODY + b"\n" + line(SIGNATURE) + line(other)
    assert line(SIGNATURE).startswith("\u2014 example.com/log AQIDBA".encode())
    assert parse_note(data) == note


def test_note_text_ends_at_the_last_blank_line() -> None:
    text = b"first paragraph\n\nsecond paragraph\n"
    note = parse_note(text + b"\n" + line(SIGNATURE))
    assert note.text == text


def test_notes_with_sixteen_signatures_are_accepted() -> None:
    signatures = tuple(NoteSignature(name=f"w{i}.example", key_id=bytes(4), signature=b"s") for i in range(16))
    assert parse_note(format_note(Note(text=b"t\n", signatures=signatures))).signatures == signatures


name_text = st.text(
    st.characters(min_codepoint=0x21, exclude_characters="+\x7f", exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")),
    min_size=1,
    max_size=20,
)


@given(
    st.text(printable | st.just("\n"), max_size=60),
    st.lists(st.tuples(name_text, st.binary(min_size=4, max_size=4), st.binary(min_size=1, max_size=80)), min_size=1),
)
def test_notes_round_trip(text: str, signatures: list[tuple[str, bytes, bytes]]) -> None:
    note = Note(
        text=text.encode() + b"\n",
        signatures=tuple(NoteSignature(name=n, key_id=k, signature=s) for n, k, s in signatures[:100]),
    )
    assert parse_note(format_note(note)) == note


GOOD_NOTE = SPEC_BODY + b"\n" + line(SIGNATURE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SPEC_BODY, "no blank line"),
        (SPEC_BODY + b"\n", "no signature lines"),
        (GOOD_NOTE + b"\n", "no signature lines"),
        (GOOD_NOTE[:-1], "end with a newline"),
        (GOOD_NOTE.replace("\u2014".encode(), b"-"), "em dash"),
        (GOOD_NOTE.replace("\u2014".encode(), "\u2013".encode()), "em dash"),
        (GOOD_NOTE.replace("\u2014 ".encode(), "\u2014".encode()), "em dash"),
        (GOOD_NOTE.replace(b"example.com/log ", b"example.com/log  "), "not `"),
        (GOOD_NOTE.replace(b"example.com/log", b"example.com/a log"), "not `"),
        (GOOD_NOTE.replace(b"example.com/log", b"example.com/a+log"), "key name"),
        (GOOD_NOTE.replace(b"example.com/log", "example.com/a\u00a0log".encode()), "key name"),
        (GOOD_NOTE.replace(b" example.com/log", b" "), "key name"),
        (SPEC_BODY + b"\n\xe2\x80\x94 log AQIDBA==\n", "too short"),
        (GOOD_NOTE.replace(b"AQID", b"AQI!"), "base64"),
        (GOOD_NOTE.replace(b"\n\xe2", b"\r\n\xe2"), "control character"),
        (GOOD_NOTE.replace(b"sofa", b"so\xc3fa"), "UTF-8"),
        (b"\n\n" + line(SIGNATURE)[:-1] + b"\n\n", "no signature lines"),
        (b"text\n\n" + line(SIGNATURE) * 101, "more than 100"),
    ],
)
def test_malformed_notes_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_note(data)


@pytest.mark.parametrize(
    ("name", "key", "signature"),
    [
        ("", bytes(4), b"s"),
        ("a b", bytes(4), b"s"),
        ("a+b", bytes(4), b"s"),
        ("a", bytes(3), b"s"),
        ("a", bytes(4), b""),
    ],
)
def test_note_signatures_refuse_malformed_parts(name: str, key: bytes, signature: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        NoteSignature(name=name, key_id=key, signature=signature)


@pytest.mark.parametrize(
    ("text", "signatures"), [(b"no newline", (SIGNATURE,)), (b"t\n", ()), (b"t\r\n", (SIGNATURE,))]
)
def test_notes_refuse_unsignable_texts_and_empty_signatures(text: bytes, signatures: tuple[NoteSignature, ...]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Note(text=text, signatures=signatures)


# keys


def test_key_id_is_a_truncated_hash_of_name_type_and_key() -> None:
    expected = hashlib.sha256(b"example.com/log\n\x01" + PUBLIC).digest()[:4]
    assert key_id("example.com/log", ED25519_TYPE, PUBLIC) == expected
    assert key_id("example.com/log", COSIGNATURE_TYPE, PUBLIC) != expected


def test_verifier_keys_round_trip() -> None:
    text = vkey("example.com/log", ED25519_TYPE, PUBLIC)
    name, id_hex, encoded = text.split("+", 2)
    assert (name, id_hex) == ("example.com/log", key_id(name, ED25519_TYPE, PUBLIC).hex())
    assert base64.b64decode(encoded) == b"\x01" + PUBLIC
    assert parse_vkey(text) == (name, ED25519_TYPE, PUBLIC, bytes.fromhex(id_hex))


GOOD_VKEY = vkey("example.com/log", ED25519_TYPE, PUBLIC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.com/log+" + GOOD_VKEY.split("+")[2], "<name>"),
        (GOOD_VKEY.replace("example.com/log", "example.com/other"), "does not match"),
        (GOOD_VKEY.replace("example.com/log", "a b"), "key name"),
        (GOOD_VKEY.replace(GOOD_VKEY.split("+")[1], "ABCDEF12"), "hex"),
        (GOOD_VKEY.replace(GOOD_VKEY.split("+")[1], "abcdef"), "hex"),
        (GOOD_VKEY.replace(GOOD_VKEY.split("+")[1], "abcdef123"), "hex"),
        (GOOD_VKEY[:-1], "base64"),
        (GOOD_VKEY + "=", "base64"),
        (vkey("example.com/log", ED25519_TYPE, PUBLIC[:31]), "not a 32-byte"),
        (vkey("example.com/log", COSIGNATURE_TYPE, PUBLIC + b"!"), "not a 32-byte"),
        ("example.com/log+00000000+AQ==", "too short"),
    ],
)
def test_malformed_verifier_keys_are_rejected(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_vkey(text)


def test_signer_keys_parse_without_checking_the_key_id() -> None:
    seed = bytes(range(32, 64))
    text = "PRIVATE+KEY+example.com/log+0a0b0c0d+" + base64.b64encode(b"\x01" + seed).decode()
    assert parse_skey(text) == ("example.com/log", ED25519_TYPE, seed, bytes.fromhex("0a0b0c0d"))
    with pytest.raises(FormatError, match="PRIVATE"):
        parse_skey(text.removeprefix("PRIVATE+"))


# tlog-cosignature


def test_cosigned_message_prefixes_header_and_time_lines() -> None:
    assert cosigned_message(SPEC_BODY, 1679315147) == b"cosignature/v1\ntime 1679315147\n" + SPEC_BODY
    assert cosigned_message(SPEC_BODY, 0).startswith(b"cosignature/v1\ntime 0\n")


@pytest.mark.parametrize("timestamp", [-1, 2**63])
def test_cosignature_timestamps_stay_within_63_bits(timestamp: int) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        cosigned_message(SPEC_BODY, timestamp)
    with pytest.raises(ValueError, match="timestamp"):
        timestamped_signature(timestamp, bytes(64))


def test_timestamped_signatures_are_big_endian_time_then_signature() -> None:
    blob = timestamped_signature(0x0102030405060708, b"\xaa" * 64)
    assert blob == bytes(range(1, 9)) + b"\xaa" * 64
    assert parse_timestamped_signature(blob) == (0x0102030405060708, b"\xaa" * 64)
    with pytest.raises(FormatError, match="72 bytes"):
        parse_timestamped_signature(blob[:-1])
    with pytest.raises(FormatError, match="2\\*\\*63"):
        parse_timestamped_signature(b"\x80" + blob[1:])


# tlog-proof

CHECKPOINT_NOTE = Note(text=SPEC_BODY, signatures=(SIGNATURE,))
HASHES = (bytes(32), bytes(range(32)))


def test_proof_is_header_index_hashes_blank_line_and_checkpoint() -> None:
    proof = TlogProof(index=73894, hashes=HASHES, checkpoint=CHECKPOINT_NOTE)
    expected = (
        b"c2sp.org/tlog-proof@v1\nindex 73894\n"
        + b"".join(base64.b64encode(item) + b"\n" for item in HASHES)
        + b"\n"
        + format_note(CHECKPOINT_NOTE)
    )
    assert format_proof(proof) == expected
    assert parse_proof(expected) == proof


def test_proof_extra_data_comes_before_the_index() -> None:
    proof = TlogProof(index=0, hashes=(), checkpoint=CHECKPOINT_NOTE, extra=b"context")
    data = format_proof(proof)
    assert data.startswith(b"c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 0\n\n")
    assert parse_proof(data) == proof


GOOD_PROOF = format_proof(TlogProof(index=5, hashes=HASHES, checkpoint=CHECKPOINT_NOTE))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD_PROOF.replace(b"@v1", b"@v2"), "does not start"),
        (b"\n" + GOOD_PROOF, "does not start"),
        (GOOD_PROOF.replace(b"index 5\n", b""), "index"),
        (GOOD_PROOF.replace(b"index 5", b"index 05"), "canonical decimal"),
        (GOOD_PROOF.replace(b"index 5", b"index  5"), "canonical decimal"),
        (GOOD_PROOF.replace(b"index 5", b"index -5"), "canonical decimal"),
        (GOOD_PROOF.replace(b"index 5\n", b"index 5\nextra Y29udGV4dA==\n"), "base64"),
        (GOOD_PROOF.replace(b"v1\n", b"v1\nextra \n"), "empty extra"),
        (GOOD_PROOF.replace(b"index 5\n", b"index 5\nAAAA\n"), "32 bytes"),
        (GOOD_PROOF.replace(b"index 5\n", b"index 5\r\n"), "control character"),
        (GOOD_PROOF.split(b"\n\n")[0], "no blank line"),
        (GOOD_PROOF.replace(b"20852163", b"x"), "canonical decimal"),
        (GOOD_PROOF.replace("\u2014".encode(), b"-"), "em dash"),
    ],
)
def test_malformed_proofs_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_proof(data)


# Strictness: whatever a parser accepts, it accepts in exactly one encoding

SPECIAL_BYTES = list(b"\n\r \t\x00+=/-059Aaz\xe2\x80\x94\xff")


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data) - 1))
        byte = draw(st.sampled_from(SPECIAL_BYTES))
        edit = draw(st.sampled_from(["replace", "insert", "delete"]))
        if edit == "replace":
            data[position] = byte
        elif edit == "insert":
            data.insert(position, byte)
        else:
            del data[position]
    return bytes(data)


@given(mutated(SPEC_BODY))
def test_a_parsed_checkpoint_re_encodes_to_the_same_bytes(data: bytes) -> None:
    try:
        checkpoint = parse_checkpoint(data)
    except FormatError:
        return
    assert checkpoint.body() == data


@given(mutated(GOOD_NOTE))
def test_a_parsed_note_re_encodes_to_the_same_bytes(data: bytes) -> None:
    try:
        note = parse_note(data)
    except FormatError:
        return
    assert format_note(note) == data


@given(mutated(GOOD_PROOF))
def test_a_parsed_proof_re_encodes_to_the_same_bytes(data: bytes) -> None:
    try:
        proof = parse_proof(data)
    except FormatError:
        return
    assert format_proof(proof) == data


@given(mutated(GOOD_VKEY.encode()))
def test_a_parsed_verifier_key_re_encodes_to_the_same_text(data: bytes) -> None:
    try:
        name, key_type, public, _ = parse_vkey(data.decode("utf-8"))
    except (FormatError, UnicodeDecodeError):
        return
    assert vkey(name, key_type, public).encode() == data
