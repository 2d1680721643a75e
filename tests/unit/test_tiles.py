"""Tiles and entry bundles (C2SP tlog-tiles): what appending writes, and the tree the tiles describe."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sevamitra.core.merkle import (
    HASH_SIZE,
    TILE_WIDTH,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    parse_tile_path,
    root_from,
    tile_path,
    verify_consistency,
    verify_inclusion,
)
from sevamitra.core.tiles import TileHashes, TileWrite, appended, decode_bundle, encode_bundle, split_hashes


class MemoryTiles:
    """A tile store in a dict, read as `TileFiles` reads: the exact partial tile, else the full one cut short."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int, int], bytes] = {}
        self.bundles: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.entries: list[bytes] = []
        self.tree = MemoryTree()
        self.reads = 0

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        self.reads += 1
        for key in ((level, index, width), (level, index, TILE_WIDTH)):
            if key in self.tiles:
                return self.tiles[key][: width * HASH_SIZE]
        raise FileNotFoundError(tile_path(level, index, width))

    def read_bundle(self, index: int, width: int) -> bytes:
        return self.bundles[index, width]

    def append(self, entries: Sequence[bytes]) -> list[TileWrite]:
        hashes = [leaf_hash(e) for e in entries]
        writes = appended(self.size, entries, hashes, self.read_tile, self.read_bundle)
        for write in writes:
            if write.level is None:
                self.bundles[write.index, write.width] = write.data
            else:
                self.tiles[write.level, write.index, write.width] = write.data
        self.size += len(entries)
        self.entries += entries
        for item in hashes:
            self.tree.append(item)
        return writes


def entry(position: int) -> bytes:
    return b"entry %d" % position


def grow(store: MemoryTiles, batches: Sequence[int]) -> list[list[TileWrite]]:
    rounds = []
    for count in batches:
        rounds.append(store.append([entry(store.size + i) for i in range(count)]))
    return rounds


def expected_writes(old: int, new: int) -> set[tuple[int | None, int, int]]:
    """(level or None for bundles, index, width) of every tile that changes from `old` to `new` leaves."""
    expected: set[tuple[int | None, int, int]] = set()
    for level in [None, *range(8)]:
        shift = 0 if level is None else 8 * level
        before, after = old >> shift, new >> shift
        if after == before:
            continue
        for index in range(before // TILE_WIDTH, (after - 1) // TILE_WIDTH + 1):
            expected.add((level, index, min(TILE_WIDTH, after - index * TILE_WIDTH)))
    return expected


def assert_tiles_describe_the_tree(store: MemoryTiles, boundaries: Sequence[int]) -> None:
    """Every complete subtree hash, the root, and proofs from the tiles match the tree kept in memory."""
    size, tree = store.size, store.tree
    hashes = TileHashes(size, store.read_tile)
    level = 0
    while size >> level:
        for index in range(size >> level):
            assert hashes.hash_at(level, index) == tree.hash_at(level, index), (level, index)
        level += 1
    root = root_from(size, hashes.hash_at)
    assert root == tree.root()
    if not size:
        return
    for index in sorted({0, size // 3, size // 2, size - 1}):
        proof = tree.inclusion_proof(index)
        from_tiles = inclusion_proof(index, size, hashes.hash_at)
        assert from_tiles == proof
        verify_inclusion(tree.hash_at(0, index), index, size, from_tiles, root)
    for old in boundaries:
        if 0 < old <= size:
            from_tiles = consistency_proof(old, size, hashes.hash_at)
            assert from_tiles == tree.consistency_proof(old)
            verify_consistency(old, size, tree.root(old), root, from_tiles)


def assert_bundles_hold_the_entries(store: MemoryTiles) -> None:
    found: list[bytes] = []
    for index in range((store.size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, store.size - index * TILE_WIDTH)
        found += decode_bundle(store.bundles[index, width])
    assert found == store.entries


batch_sizes = st.one_of(st.integers(1, 400), st.sampled_from([1, 255, 256, 257, 511, 512]))


@settings(max_examples=100, deadline=None)
@given(st.lists(batch_sizes, min_size=1, max_size=6))
def test_tiles_after_any_batches_describe_the_same_tree_as_memory(batches: list[int]) -> None:
    store = MemoryTiles()
    boundaries = [0]
    for count in batches:
        grow(store, [count])
        boundaries.append(store.size)
    assert_tiles_describe_the_tree(store, boundaries)
    assert_bundles_hold_the_entries(store)


@settings(max_examples=100, deadline=None)
@given(st.lists(batch_sizes, min_size=1, max_size=6))
def test_each_append_writes_exactly_the_changed_tiles_partial_ones_with_their_width(batches: list[int]) -> None:
    store = MemoryTiles()
    for count in batches:
        old = store.size
        written = {}
        for write in grow(store, [count])[0]:
            key = (write.level, write.index, write.width)
            assert key not in written, f"{key} written twice in one append"
            written[key] = write
            size = HASH_SIZE if write.level is not None else None
            if size is not None:
                assert len(write.data) == write.width * size
                path = tile_path(write.level, write.index, write.width)  # type: ignore[arg-type]
                assert path.endswith(f".p/{write.width}") == (write.width < TILE_WIDTH)
                assert parse_tile_path(path) == (write.level, write.index, write.width)
            else:
                assert len(decode_bundle(write.data)) == write.width
        assert set(written) == expected_writes(old, store.size)


@settings(max_examples=30, deadline=None)
@given(st.lists(batch_sizes, min_size=2, max_size=6))
def test_a_later_tile_extends_every_earlier_version_of_it(batches: list[int]) -> None:
    store = MemoryTiles()
    history: dict[tuple[int | None, int], list[bytes]] = {}
    for writes in grow(store, batches):
        for write in writes:
            history.setdefault((write.level, write.index), []).append(write.data)
    for versions in history.values():
        for earlier, later in pairwise(versions):
            assert later.startswith(earlier)


def test_level_two_tiles_appear_past_65536_leaves_and_still_describe_the_tree() -> None:
    store = MemoryTiles()
    batches = [300, 40_000, 25_236, 1, 300, 5]  # 65,536 is reached at the end of the fourth
    grow(store, batches)
    assert store.size == 65_842
    assert (2, 0, 1) in store.tiles  # the root of the first full level-1 tile
    assert (1, 0, TILE_WIDTH) in store.tiles and (1, 1, 1) in store.tiles
    assert store.tiles[2, 0, 1] == store.tree.hash_at(16, 0)
    assert_tiles_describe_the_tree(store, [300, 40_300, 65_536, 65_537, 65_837])
    assert_bundles_hold_the_entries(store)


def test_tile_hashes_refuse_every_incomplete_subtree() -> None:
    store = MemoryTiles()
    grow(store, [300])
    hashes = TileHashes(store.size, store.read_tile)
    for level, index in [(0, 300), (0, 1000), (2, 75), (3, 37), (8, 1), (9, 0), (16, 0)]:
        with pytest.raises(IndexError, match="no complete subtree"):
            hashes.hash_at(level, index)
    assert hashes.hash_at(2, 74) == store.tree.hash_at(2, 74)
    with pytest.raises(IndexError):
        TileHashes(0, store.read_tile).hash_at(0, 0)


def test_tile_hashes_of_an_earlier_size_ignore_later_leaves() -> None:
    store = MemoryTiles()
    grow(store, [200])
    early = TileHashes(100, store.read_tile)
    grow(store, [200])
    assert root_from(100, early.hash_at) == store.tree.root(100)
    with pytest.raises(IndexError):
        early.hash_at(0, 100)


def test_tile_hashes_reject_a_tile_of_the_wrong_width() -> None:
    def short(level: int, index: int, width: int) -> bytes:
        return bytes(HASH_SIZE * (width - 1))

    with pytest.raises(ValueError, match="holds 9 hashes, not 10"):
        TileHashes(10, short).hash_at(0, 0)


def test_tile_hashes_keep_the_most_recently_used_tiles_up_to_the_limit() -> None:
    store = MemoryTiles()
    grow(store, [4 * TILE_WIDTH])
    hashes = TileHashes(store.size, store.read_tile, cache=2)
    store.reads = 0

    def visit(tile: int) -> int:
        before = store.reads
        assert hashes.leaf(tile * TILE_WIDTH + 7) == store.tree.hash_at(0, tile * TILE_WIDTH + 7)
        return store.reads - before

    assert [visit(0), visit(1), visit(0)] == [1, 1, 0]
    assert visit(2) == 1  # evicts tile 1, the least recently used
    assert visit(0) == 0
    assert visit(1) == 1  # evicts tile 2: two tiles at most
    assert [visit(0), visit(2), visit(1)] == [0, 1, 1]


def test_tile_hashes_read_each_tile_once_within_the_cache() -> None:
    store = MemoryTiles()
    grow(store, [3 * TILE_WIDTH + 17])
    hashes = TileHashes(store.size, store.read_tile)
    store.reads = 0
    for _ in range(2):
        root_from(store.size, hashes.hash_at)
        for index in range(store.size):
            hashes.leaf(index)
    assert store.reads == 5  # four level-0 tiles and one level-1 tile


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_bundles_round_trip(entries: list[bytes]) -> None:
    assert decode_bundle(encode_bundle(entries)) == entries


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=8), st.data())
def test_a_truncated_bundle_is_rejected(entries: list[bytes], data: st.DataObject) -> None:
    encoded = encode_bundle(entries)
    boundaries, at = {0}, 0
    for item in entries:
        at += 2 + len(item)
        boundaries.add(at)
    cut = data.draw(st.integers(1, len(encoded) - 1).filter(lambda n: n not in boundaries))
    with pytest.raises(ValueError, match="a bundle ends inside"):
        decode_bundle(encoded[:cut])


def test_bundle_reasons_name_where_it_ends() -> None:
    with pytest.raises(ValueError, match="inside a length prefix"):
        decode_bundle(b"\x00\x01a\x00")
    with pytest.raises(ValueError, match="inside an entry"):
        decode_bundle(b"\x00\x05abc")
    assert decode_bundle(b"") == []
    assert decode_bundle(b"\x00\x00") == [b""]


def test_a_bundle_refuses_an_entry_its_length_prefix_cannot_hold() -> None:
    assert decode_bundle(encode_bundle([bytes(0xFFFF)])) == [bytes(0xFFFF)]
    with pytest.raises(ValueError, match="at most 65,535 bytes"):
        encode_bundle([bytes(0x10000)])


def test_a_tile_is_a_whole_number_of_hashes() -> None:
    assert split_hashes(bytes(64)) == [bytes(32), bytes(32)]
    with pytest.raises(ValueError, match="whole number"):
        split_hashes(bytes(33))
