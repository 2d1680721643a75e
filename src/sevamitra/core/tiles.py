"""A log's hashes and entries laid out in tiles (C2SP tlog-tiles), and what appending writes.

Tile level L holds, 256 to a tile, the hashes of the complete subtrees of 256**L leaves: level 0
the leaf hashes, level 1 the root of each full level-0 tile, and so on. The rightmost tile of a
level may be partial (`.p/W`). Entry bundles hold the entries themselves, 256 to a bundle, each
as a 2-byte big-endian length and the bytes.

`TileHashes` answers `hash_at(level, index)` (the root of any complete subtree, which is what
`core.merkle` builds proofs from) from tiles, each tile read once and its inner levels kept.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sevamitra.core.merkle import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, root

TileRead = Callable[[int, int, int], bytes]  # (level, index, width) -> width hashes, concatenated
BundleRead = Callable[[int, int], bytes]  # (index, width) -> the bundle of that many entries


@dataclass(frozen=True, slots=True, kw_only=True)
class TileWrite:
    """A tile (level >= 0) or an entry bundle (level None) to store, `width` items wide."""

    level: int | None
    index: int
    width: int
    data: bytes


def split_hashes(data: bytes) -> list[bytes]:
    if len(data) % HASH_SIZE:
        raise ValueError("a tile is a whole number of 32-byte hashes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise ValueError("an entry in a bundle is at most 65,535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; ValueError when its lengths do not add up."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("a bundle ends inside a length prefix")
        size = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + size > len(data):
            raise ValueError("a bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    return entries


def appended(
    old_size: int, entries: Sequence[bytes], leaf_hashes: Sequence[bytes], read_tile: TileRead, read_bundle: BundleRead
) -> list[TileWrite]:
    """Every tile and bundle that changes when `entries` (with their leaf hashes) follow `old_size` ones."""
    writes: list[TileWrite] = []
    have = old_size % TILE_WIDTH
    earlier = decode_bundle(read_bundle(old_size // TILE_WIDTH, have)) if have else []
    for start, chunk in _chunks(old_size // TILE_WIDTH, [*earlier, *entries]):
        writes.append(TileWrite(level=None, index=start, width=len(chunk), data=encode_bundle(chunk)))
    level, before, new = 0, old_size, list(leaf_hashes)
    while new:
        have = before % TILE_WIDTH
        earlier = split_hashes(read_tile(level, before // TILE_WIDTH, have)) if have else []
        completed = []
        for start, chunk in _chunks(before // TILE_WIDTH, [*earlier, *new]):
            writes.append(TileWrite(level=level, index=start, width=len(chunk), data=b"".join(chunk)))
            if len(chunk) == TILE_WIDTH:
                completed.append(root(chunk))
        level, before, new = level + 1, before // TILE_WIDTH, completed
    return writes


def _chunks(first: int, items: list[bytes]) -> list[tuple[int, list[bytes]]]:
    return [(first + k // TILE_WIDTH, items[k : k + TILE_WIDTH]) for k in range(0, len(items), TILE_WIDTH)]


class TileHashes:
    """`hash_at` over the tiles of a tree of `size` leaves; keeps the inner levels of recent tiles."""

    def __init__(self, size: int, read_tile: TileRead, *, cache: int = 4096) -> None:
        self.size = size
        self._read = read_tile
        self._cache: OrderedDict[tuple[int, int, int], list[list[bytes]]] = OrderedDict()
        self._limit = cache

    def hash_at(self, level: int, index: int) -> bytes:
        tile_level, inner = divmod(level, TILE_HEIGHT)
        first = index << inner  # the first node of the subtree, at its tile level
        tile = first // TILE_WIDTH
        nodes = self.size >> (TILE_HEIGHT * tile_level)  # complete subtrees at that tile level
        width = min(TILE_WIDTH, nodes - tile * TILE_WIDTH)
        if (index + 1) << inner > nodes or width <= 0:
            raise IndexError(f"no complete subtree at level {level}, index {index} in a tree of {self.size}")
        levels = self._levels(tile_level, tile, width)
        return levels[inner][(first % TILE_WIDTH) >> inner]

    def leaf(self, index: int) -> bytes:
        return self.hash_at(0, index)

    def _levels(self, level: int, index: int, width: int) -> list[list[bytes]]:
        key = (level, index, width)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        hashes = split_hashes(self._read(level, index, width))
        if len(hashes) != width:
            raise ValueError(f"tile {level}/{index} holds {len(hashes)} hashes, not {width}")
        levels = [hashes]
        sha256 = hashlib.sha256  # node_hash, inlined: a cold tile costs up to 255 of these
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([sha256(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)])
        self._cache[key] = levels
        if len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        return levels
