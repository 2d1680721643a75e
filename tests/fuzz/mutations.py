"""Inputs that look valid and are not: seeds mutated byte by byte, and JSON trees with a node changed.

Random bytes rarely get past a parser's first check; a valid input with one or a few edits
reaches the deep branches, which is where parsers crash.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

# Bytes and tokens that parsers treat specially: separators, signs, escapes, overlong and surrogate
# UTF-8, numbers that overflow, JSON's and YAML's special words.
TOKENS: tuple[bytes, ...] = (
    b"\n", b"\n\n", b"\r\n", b"\x00", b"\x7f", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x80\x94 ",
    b" ", b"\t", b"+", b"-", b"=", b"/", b":", b".", b"0", b"00", b"-1", b"1e999", b"-1e999", b"1e-999",
    b"18446744073709551616", b"9223372036854775808", b"99999999999999999999999999999",
    b'"', b"'", b"{", b"}", b"[", b"]", b",", b"null", b"true", b"NaN", b"Infinity",
    b"\\u0000", b"\\ud800", b"\\", b"&", b"*", b"!!", b"~", b"%",
)  # fmt: skip
EDITS = ("flip", "byte", "insert", "delete", "token", "repeat", "truncate", "splice")


class Seeds(tuple[bytes, ...]):
    """Seeds with a short repr: hypothesis prints its strategies, and some seeds are 100 kB."""

    def __repr__(self) -> str:
        return f"Seeds({len(self)} of {sum(map(len, self))} bytes)"


def _pick(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    return seeds[draw(st.integers(0, len(seeds) - 1))]


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], *, edits: int = 4) -> bytes:
    """One of `seeds` with 1 to `edits` edits: flipped bits, bytes or tokens put in or taken out,
    a stretch repeated or cut off, or a piece of another seed spliced in."""
    data = bytearray(_pick(draw, seeds))
    for _ in range(draw(st.integers(1, edits))):
        edit = draw(st.sampled_from(EDITS))
        at = draw(st.integers(0, len(data)))
        if edit == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "byte" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif edit == "repeat":
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end] * draw(st.integers(1, 64))
        elif edit == "truncate":
            del data[at:]
        elif edit == "splice":
            other = _pick(draw, seeds)
            start = draw(st.integers(0, len(other)))
            data[at:] = other[start:]
    return bytes(data)


def inputs(seeds: Sequence[bytes], *, max_size: int = 2048) -> st.SearchStrategy[bytes]:
    """Mostly mutated seeds; now and then a seed as is, or bytes with no seed at all."""
    kept = Seeds(seeds)
    as_is = st.integers(0, len(kept) - 1).map(kept.__getitem__)
    return st.one_of(mutated(kept), mutated(kept), mutated(kept), as_is, st.binary(max_size=max_size))


scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63, 2**64, -(2**63) - 1, 10**40]),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(["", "0", "1e999", "payment", "messages", "\u2014", "\x00", "\ud800", "x" * 5000]),
)
json_like: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@st.composite
def mutated_json(
    draw: st.DrawFn, seeds: Sequence[Any], *, values: st.SearchStrategy[Any] = json_like, edits: int = 3
) -> Any:
    """One of `seeds` (a tree of dicts and lists) with 1 to `edits` nodes replaced by `values`,
    dropped, wrapped in a list, repeated or nested deeper."""
    tree = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, edits))):
        path = draw(st.sampled_from(_paths(tree)))
        if not path:
            tree = draw(values)
            continue
        *parents, last = path
        parent = tree
        for step in parents:
            parent = parent[step]
        edit = draw(st.sampled_from(["replace", "replace", "drop", "wrap", "repeat", "deepen"]))
        if edit == "replace":
            parent[last] = draw(values)
        elif edit == "drop":
            del parent[last]
        elif edit == "wrap":
            parent[last] = [parent[last]]
        elif edit == "repeat" and isinstance(parent, list):
            parent.insert(last, parent[last])  # the same value twice (a CBOR tag cannot be copied)
        elif edit == "deepen":
            value = parent[last]
            for _ in range(draw(st.integers(1, 40))):
                value = {"a": value} if draw(st.booleans()) else [value]
            parent[last] = value
    return tree
