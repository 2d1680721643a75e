"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs, and C2SP tlog-tiles paths.

Proofs are built against stored hashes, not an in-memory list of leaves: a tree is seen through
`hash_at(level, index)`, the root of the complete subtree of 2**level leaves that starts at leaf
`index * 2**level` (the hashes a tlog-tiles log stores). Only complete subtrees inside the tree
are ever asked for. Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and
raises `ProofError` on every failure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63

HashAt = Callable[[int, int], bytes]
"""`hash_at(level, index)`: the root of the complete subtree of 2**level leaves from leaf index * 2**level."""


class ProofError(ValueError):
    """A Merkle proof that does not verify, or arguments no proof can satisfy."""


def leaf_hash(entry: bytes) -> bytes:
    """The leaf hash of an entry: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): the size of the left subtree."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(start: int, n: int, hash_at: HashAt) -> bytes:
    """MTH(D[start:start+n]) for n > 0, with start aligned as RFC 9162's recursion leaves it."""
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return hash_at(level, start >> level)
    k = _split(n)
    return node_hash(_subtree_root(start, k, hash_at), _subtree_root(start + k, n - k, hash_at))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (RFC 9162 section 2.1.1)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(root(leaf_hashes[:k]), root(leaf_hashes[k:]))


def root_from(size: int, hash_at: HashAt) -> bytes:
    """The root of the tree of `size` leaves, from its complete-subtree hashes."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    return _subtree_root(0, size, hash_at) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, hash_at: HashAt) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, from the leaf's sibling upward."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            path.append(_subtree_root(start + k, n - k, hash_at))
            n = k
        else:
            path.append(_subtree_root(start, k, hash_at))
            start, n, m = start + k, n - k, m - k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, hash_at: HashAt) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1; empty when the sizes are equal."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}: need 0 < old <= new")
    path: list[bytes] = []
    start, n, m, whole = 0, new_size, old_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            path.append(_subtree_root(start + k, n - k, hash_at))
            n = k
        else:
            path.append(_subtree_root(start, k, hash_at))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        path.append(_subtree_root(start, n, hash_at))
    path.reverse()
    return path


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, item in enumerate(proof):
        if len(item) != HASH_SIZE:
            raise ProofError(f"proof hash {position} is {len(item)} bytes, not {HASH_SIZE}")


def _inclusion_length(index: int, size: int) -> tuple[int, int]:
    """The (inner, border) split of an inclusion path's length for leaf `index` of a tree of `size`."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` with `root` (RFC 9162 2.1.3.2)."""
    if size <= 0:
        raise ProofError(f"no leaf is included in a tree of size {size}")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"the leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    inner, border = _inclusion_length(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"inclusion proof has {len(proof)} hashes; leaf {index} of {size} needs {inner + border}")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofError(f"inclusion proof for leaf {index} of {size} does not lead to the given root")


def _consistency_length(old_size: int, new_size: int) -> int:
    """The number of hashes in a consistency proof between two sizes, 0 < old_size < new_size."""
    inner, border = _inclusion_length(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1
    seeded_by_old_root = old_size == 1 << shift
    return (0 if seeded_by_old_root else 1) + inner - shift + border


def _verify_equal_sizes(size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    if proof:
        raise ProofError(f"both trees have size {size}, so the consistency proof must be empty")
    if old_root != new_root:
        raise ProofError(f"two trees of size {size} have different roots")
    if size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("the root of the empty tree must be SHA-256 of the empty string")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of `new_size` extends the tree of `old_size` (RFC 9162 section 2.1.4.2)."""
    if old_size < 0 or new_size < 0:
        raise ProofError(f"tree sizes {old_size} and {new_size} must not be negative")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        _verify_equal_sizes(old_size, old_root, new_root, proof)
        return
    if old_size == 0:
        raise ProofError("no consistency proof exists from the empty tree; every tree extends it")
    if not proof:
        raise ProofError("consistency proof is empty")
    expected = _consistency_length(old_size, new_size)
    if len(proof) != expected:
        raise ProofError(f"consistency proof has {len(proof)} hashes; {old_size} to {new_size} needs {expected}")
    _check_hashes(proof)
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the new root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the new root")
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the new root of size {new_size}")


class MemoryTree:
    """An append-only tree in memory that keeps every complete-subtree hash (for tests and small logs)."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for item in leaf_hashes:
            self.append(item)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Add a leaf hash; returns its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf_hash)}")
        self._levels[0].append(leaf_hash)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(*self._levels[level][-2:]))
            level += 1
        return self.size - 1

    def hash_at(self, level: int, index: int) -> bytes:
        """The root of the complete subtree of 2**level leaves from leaf index * 2**level."""
        if not 0 <= level < len(self._levels) or not 0 <= index < len(self._levels[level]):
            raise IndexError(f"no complete subtree at level {level}, index {index}")
        return self._levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        """The root at `size` leaves (default: all of them)."""
        return root_from(self._size(size), self.hash_at)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf `index` in the tree of `size` leaves (default: all)."""
        return inclusion_proof(index, self._size(size), self.hash_at)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof from `old_size` to `new_size` leaves (default: all)."""
        return consistency_proof(old_size, self._size(new_size), self.hash_at)

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside 0..{self.size}")
        return size


# C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>].

_TILE_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def _index_path(index: int) -> str:
    """A tile index as zero-padded 3-digit path elements, all but the last prefixed with x."""
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def _width_suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is outside 1..{TILE_WIDTH}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The path of a hash tile, e.g. `tile/0/x001/x234/067`, with `.p/<W>` when partial."""
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} is outside 0..{MAX_TILE_LEVEL}")
    return f"tile/{level}/{_index_path(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The path of an entry bundle, e.g. `tile/entries/x001/067`, with `.p/<W>` when partial."""
    return f"tile/entries/{_index_path(index)}{_width_suffix(width)}"


def parse_tile_path(path: str) -> tuple[int | Literal["entries"], int, int]:
    """(level or "entries", index, width) from a tile path; rejects anything non-canonical."""
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"{path!r} is not a tile path")
    level_text, index_text, width_text = match.groups()
    elements = index_text.split("/")
    if len(elements) > 1 and elements[0] == "x000":
        raise ValueError(f"{path!r} has a leading zero element in its tile index")
    index = int("".join(element.removeprefix("x") for element in elements))
    width = int(width_text) if width_text else TILE_WIDTH
    if width_text and width >= TILE_WIDTH:
        raise ValueError(f"{path!r} has a partial width outside 1..{TILE_WIDTH - 1}")
    if level_text == "entries":
        return "entries", index, width
    level = int(level_text)
    if level > MAX_TILE_LEVEL:
        raise ValueError(f"{path!r} has a level above {MAX_TILE_LEVEL}")
    return level, index, width
