"""RFC 9162 Merkle proofs against the published vectors and as properties, and tlog-tiles paths."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sevamitra.core.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    entries_path,
    inclusion_proof,
    leaf_hash,
    node_hash,
    parse_tile_path,
    root,
    root_from,
    tile_path,
    verify_consistency,
    verify_inclusion,
)

VECTORS = (Path(__file__).parents[2] / ".." / "shared" / "vectors" / "merkle").resolve()
# The leaves of the RFC 6962 reference tree that the vectors' happy paths use.
REFERENCE_ENTRIES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]


def load(kind: str) -> list[Any]:
    paths = sorted((VECTORS / kind).rglob("*.json"))
    assert paths, f"no {kind} vectors under {VECTORS}"
    return [pytest.param(json.loads(path.read_text()), id=str(path.relative_to(VECTORS))) for path in paths]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def hashes(items: list[str] | None) -> list[bytes]:
    return [b64(item) for item in items or []]


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def accepts(check: Callable[[], None]) -> bool:
    try:
        check()
    except ProofError:
        return False
    return True


# The published vectors


@pytest.mark.parametrize("vector", load("inclusion"))
def test_inclusion_vector_is_accepted_exactly_when_it_is_valid(vector: dict[str, Any]) -> None:
    def check() -> None:
        verify_inclusion(
            b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], hashes(vector["proof"]), b64(vector["root"])
        )

    assert accepts(check) is not vector["wantErr"]


@pytest.mark.parametrize("vector", load("consistency"))
def test_consistency_vector_is_accepted_exactly_when_it_is_valid(vector: dict[str, Any]) -> None:
    def check() -> None:
        verify_consistency(
            vector["size1"], vector["size2"], b64(vector["root1"]), b64(vector["root2"]), hashes(vector["proof"])
        )

    assert accepts(check) is not vector["wantErr"]


def happy_paths(kind: str) -> list[Any]:
    return [vector for vector in load(kind) if vector.values[0]["desc"] == "happy path"]


@pytest.mark.parametrize("vector", happy_paths("inclusion"))
def test_built_inclusion_proof_equals_the_published_one(vector: dict[str, Any]) -> None:
    tree = MemoryTree(leaf_hash(entry) for entry in REFERENCE_ENTRIES)
    assert tree.root(vector["treeSize"]) == b64(vector["root"])
    assert tree.inclusion_proof(vector["leafIdx"], vector["treeSize"]) == hashes(vector["proof"])


@pytest.mark.parametrize("vector", happy_paths("consistency"))
def test_built_consistency_proof_equals_the_published_one(vector: dict[str, Any]) -> None:
    tree = MemoryTree(leaf_hash(entry) for entry in REFERENCE_ENTRIES)
    assert tree.root(vector["size1"]) == b64(vector["root1"])
    assert tree.root(vector["size2"]) == b64(vector["root2"])
    assert tree.consistency_proof(vector["size1"], vector["size2"]) == hashes(vector["proof"])


# Hashing


def test_hashes_are_domain_separated_sha256() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert node_hash(b"a", b"b") != node_hash(b"b", b"a")
    assert root([]) == EMPTY_ROOT


def test_root_of_the_reference_tree_is_the_published_root() -> None:
    assert base64.b64encode(root([leaf_hash(entry) for entry in REFERENCE_ENTRIES])) == (
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    )


# Properties of proofs built from stored hashes

sizes = st.integers(min_value=1, max_value=300)


@given(sizes)
def test_root_from_stored_hashes_equals_root_of_the_leaf_list(size: int) -> None:
    items = leaves(size)
    tree = MemoryTree(items)
    assert root_from(size, tree.hash_at) == root(items) == tree.root()
    assert all(tree.root(n) == root(items[:n]) for n in range(0, size + 1, max(1, size // 7)))


@given(st.data(), sizes)
def test_inclusion_proof_verifies_and_any_flipped_bit_breaks_it(data: st.DataObject, size: int) -> None:
    tree = MemoryTree(leaves(size))
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, proof, head = tree.hash_at(0, index), tree.inclusion_proof(index), tree.root()
    verify_inclusion(leaf, index, size, proof, head)

    target = data.draw(st.integers(0, len(proof) + 1), label="target: proof hash, then leaf, then root")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target < len(proof):
        proof[target] = flip(proof[target], bit)
    elif target == len(proof):
        leaf = flip(leaf, bit)
    else:
        head = flip(head, bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, head)


@given(st.data(), sizes)
def test_consistency_proof_verifies_and_any_flipped_bit_breaks_it(data: st.DataObject, size: int) -> None:
    tree = MemoryTree(leaves(size))
    old_size = data.draw(st.integers(1, size), label="old size")
    old_root, new_root, proof = tree.root(old_size), tree.root(), tree.consistency_proof(old_size)
    verify_consistency(old_size, size, old_root, new_root, proof)

    target = data.draw(st.integers(0, len(proof) + 1), label="target: proof hash, then old root, then new root")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target < len(proof):
        proof[target] = flip(proof[target], bit)
    elif target == len(proof):
        old_root = flip(old_root, bit)
    else:
        new_root = flip(new_root, bit)
    with pytest.raises(ProofError):
        verify_consistency(old_size, size, old_root, new_root, proof)


@given(st.data(), st.integers(min_value=2, max_value=300))
def test_proofs_for_an_older_size_read_only_subtrees_inside_that_size(data: st.DataObject, size: int) -> None:
    tree = MemoryTree(leaves(size))
    old_size = data.draw(st.integers(1, size - 1), label="old size")

    def hash_at(level: int, index: int) -> bytes:
        assert (index + 1) << level <= old_size, f"read ({level}, {index}) beyond size {old_size}"
        return tree.hash_at(level, index)

    exact = MemoryTree(leaves(old_size))
    index = data.draw(st.integers(0, old_size - 1), label="index")
    assert inclusion_proof(index, old_size, hash_at) == exact.inclusion_proof(index)
    assert root_from(old_size, hash_at) == exact.root()
    older = data.draw(st.integers(1, old_size), label="older size")
    assert consistency_proof(older, old_size, hash_at) == exact.consistency_proof(older)


def test_every_single_bit_flip_in_a_proof_is_caught() -> None:
    size, index, old_size = 13, 6, 6
    tree = MemoryTree(leaves(size))
    leaf, head = tree.hash_at(0, index), tree.root()
    proof = tree.inclusion_proof(index)
    old_root, cproof = tree.root(old_size), tree.consistency_proof(old_size)
    for position in range(len(proof)):
        for bit in range(256):
            changed = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, changed, head)
    for position in range(len(cproof)):
        for bit in range(256):
            changed = [*cproof[:position], flip(cproof[position], bit), *cproof[position + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old_size, size, old_root, head, changed)


# Rejections with a reason

TREE = MemoryTree(leaves(7))


@pytest.mark.parametrize(
    ("index", "size", "proof", "message"),
    [
        (0, 0, [], "size 0"),
        (7, 7, TREE.inclusion_proof(6), "outside"),
        (-1, 7, TREE.inclusion_proof(0), "outside"),
        (3, 7, TREE.inclusion_proof(3)[:-1], "needs 3"),
        (3, 7, [*TREE.inclusion_proof(3), TREE.root()], "needs 3"),
        (3, 7, [*TREE.inclusion_proof(3)[:-1], b"short"], "not 32"),
        (3, 7, list(reversed(TREE.inclusion_proof(3))), "does not lead"),
    ],
)
def test_inclusion_verification_rejects_with_a_reason(index: int, size: int, proof: list[bytes], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(TREE.hash_at(0, max(index, 0) % 7), index, size, proof, TREE.root())


def test_inclusion_verification_rejects_a_leaf_hash_of_the_wrong_length() -> None:
    with pytest.raises(ProofError, match="leaf hash"):
        verify_inclusion(b"entry", 0, 1, [], leaf_hash(b"entry"))


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof", "message"),
    [
        (5, 3, TREE.root(5), TREE.root(3), [], "larger"),
        (-1, 3, EMPTY_ROOT, TREE.root(3), [], "negative"),
        (0, 7, EMPTY_ROOT, TREE.root(), [], "empty tree"),
        (0, 0, TREE.root(), TREE.root(), [], "empty tree must be"),
        (7, 7, TREE.root(), TREE.root(), [TREE.root()], "must be empty"),
        (7, 7, TREE.root(6), TREE.root(), [], "different roots"),
        (3, 7, TREE.root(3), TREE.root(), [], "is empty"),
        (3, 7, TREE.root(3), TREE.root(), TREE.consistency_proof(3)[:-1], "needs"),
        (3, 7, TREE.root(3), TREE.root(), [*TREE.consistency_proof(3), TREE.root()], "needs"),
        (3, 7, TREE.root(3), TREE.root(), [b"", *TREE.consistency_proof(3)[1:]], "not 32"),
        (3, 7, TREE.root(4), TREE.root(), TREE.consistency_proof(3), "old root"),
        (3, 7, TREE.root(3), TREE.root(6), TREE.consistency_proof(3), "new root"),
    ],
)
def test_consistency_verification_rejects_with_a_reason(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_consistency(old_size, new_size, old_root, new_root, proof)


def test_equal_sizes_are_consistent_when_the_roots_match() -> None:
    verify_consistency(7, 7, TREE.root(), TREE.root(), [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


@pytest.mark.parametrize(("index", "size"), [(0, 0), (7, 7), (-1, 7), (8, 8)])
def test_inclusion_proof_refuses_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(index, size, TREE.hash_at)


@pytest.mark.parametrize(("old_size", "new_size"), [(0, 7), (5, 3), (-1, 2)])
def test_consistency_proof_refuses_sizes_without_a_proof(old_size: int, new_size: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(old_size, new_size, TREE.hash_at)


def test_memory_tree_has_only_complete_subtrees() -> None:
    tree = MemoryTree(leaves(6))
    assert tree.hash_at(2, 0) == root(leaves(4))
    assert tree.hash_at(1, 2) == root(leaves(6)[4:])
    for level, index in [(2, 1), (3, 0), (0, 6), (0, -1), (-1, 0)]:
        with pytest.raises(IndexError):
            tree.hash_at(level, index)
    with pytest.raises(ValueError, match="outside"):
        tree.root(7)
    with pytest.raises(ValueError, match="32"):
        tree.append(b"not a hash")
    assert tree.append(leaf_hash(b"next")) == 6
    assert tree.size == 7


# tlog-tiles paths


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        (tile_path(0, 1234067), "tile/0/x001/x234/067"),
        (tile_path(0, 0), "tile/0/000"),
        (tile_path(1, 999), "tile/1/999"),
        (tile_path(2, 1000), "tile/2/x001/000"),
        (tile_path(63, 5, 17), "tile/63/005.p/17"),
        (tile_path(0, 3, 255), "tile/0/003.p/255"),
        (entries_path(1234067), "tile/entries/x001/x234/067"),
        (entries_path(7, 1), "tile/entries/007.p/1"),
    ],
)
def test_tile_paths_follow_tlog_tiles(path: str, parsed: str) -> None:
    assert path == parsed


@given(st.integers(0, 63), st.integers(0, 10**15), st.integers(1, 256))
def test_tile_paths_round_trip(level: int, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)
    assert parse_tile_path(entries_path(index, width)) == ("entries", index, width)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/0/67",
        "tile/0/x001/x234/67",
        "tile/0/001/234",
        "tile/0/x001",
        "tile/0/x000/001",
        "tile/0/X001/000",
        "tile/0/x1234/000",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/entries/000.p/300",
        "tile/entry/000",
        "/tile/0/000",
        "tile/0/000/",
        "tile/0/000\n",
        "tile/0/٠٠٠",
        "",
    ],
)
def test_malformed_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match=r"tile path|leading zero|width|level"):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("level", "index", "width"), [(-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]
)
def test_tile_path_refuses_impossible_tiles(level: int, index: int, width: int) -> None:
    with pytest.raises(ValueError, match=r"outside|negative"):
        tile_path(level, index, width)
