"""Cut TrueType fonts down to the glyphs one document uses, straight from their table bytes.

fpdf2 subsets each embedded font with fontTools, whose cost grows with the glyphs in the font it
is given (about 5 ms for Noto Sans Telugu's 1,247). Handing it a font of just the document's ~150
glyphs, cut here in a fraction of a millisecond, leaves fontTools little to do. The cut keeps glyph
names (post format 2), which is how fpdf2 finds glyphs after subsetting; composite glyphs bring
their components along, renumbered.

A cutter may take several fonts of one family (Regular and Bold): their glyphs then share one
embedded font, the second font's glyph names suffixed, so a document pays once for the font
machinery in fpdf2 and fontTools instead of once per weight.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Sequence

from fontTools.ttLib import TTFont

_ARG_WORDS, _SCALE, _MORE, _XY_SCALE, _TWO_BY_TWO = 0x0001, 0x0008, 0x0020, 0x0040, 0x0080


class GlyphCutter:
    """Fonts' tables parsed once; `cut(names)` makes a small font holding just those glyphs.

    Glyph `i` of the `n`-th font is glyph `offsets[n] + i` of the whole, named with `suffixes[n]`.
    """

    def __init__(self, fonts: Sequence[bytes], suffixes: Sequence[str]) -> None:
        parsed = [TTFont(io.BytesIO(data)) for data in fonts]
        self.offsets: list[int] = []
        self.order: list[str] = []
        self._glyphs: list[bytes] = []
        self._metrics: list[bytes] = []
        self.advances: list[int] = []  # in font units
        self._components: list[list[tuple[int, int]]] = []
        for font, suffix in zip(parsed, suffixes, strict=True):
            base = len(self.order)
            self.offsets.append(base)
            order = font.getGlyphOrder()
            self.order += [name + suffix for name in order]
            glyf, loca, metrics = font.reader["glyf"], font["loca"], font["hmtx"].metrics
            for index, name in enumerate(order):
                glyph = bytes(glyf[loca[index] : loca[index + 1]])
                self._glyphs.append(glyph)
                self._components.append([(base + gid, at) for gid, at in _components(glyph)])
                self._metrics.append(struct.pack(">Hh", *metrics[name]))
                self.advances.append(metrics[name][0])
        self.ids = {name: index for index, name in enumerate(self.order)}
        if len(self.ids) != len(self.order):
            raise ValueError("glyph names clash between the fonts: choose other suffixes")
        self._names = [name.encode("ascii") for name in self.order]
        self._unicodes: dict[int, list[int]] = {}
        for codepoint, name in parsed[0].getBestCmap().items():
            if codepoint < 0xFFFF:
                self._unicodes.setdefault(self.ids[name], []).append(codepoint)
        self._raw = {tag: _merged(tag, [font.reader[tag] for font in parsed]) for tag in _KEPT}

    def cut(self, names: Iterable[str]) -> bytes:
        """A TrueType font with .notdef, the named glyphs and their components (in font order)."""
        wanted = {0} | {self.ids[name] for name in names if name in self.ids}
        todo = list(wanted)
        while todo:
            for component, _ in self._components[todo.pop()]:
                if component not in wanted:
                    wanted.add(component)
                    todo.append(component)
        kept = sorted(wanted)
        new_id = {old: new for new, old in enumerate(kept)}
        glyf, offsets = bytearray(), [0]
        for old in kept:
            glyph = bytearray(self._glyphs[old])
            for component, at in self._components[old]:
                struct.pack_into(">H", glyph, at, new_id[component])
            glyf += glyph + b"\0" * (-len(glyph) % 4)
            offsets.append(len(glyf))
        count = len(kept)
        head = bytearray(self._raw["head"])
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment: fontTools recomputes it when fpdf2 saves
        head[50:52] = struct.pack(">h", 1)  # long loca offsets
        hhea, maxp = bytearray(self._raw["hhea"]), bytearray(self._raw["maxp"])
        hhea[34:36] = struct.pack(">H", count)
        maxp[4:6] = struct.pack(">H", count)
        post = bytearray(self._raw["post"][:32])
        post[0:4] = struct.pack(">I", 0x00020000)
        post += struct.pack(f">H{count}H", count, *range(258, 258 + count))
        for old in kept:
            post += bytes((len(self._names[old]),)) + self._names[old]
        mapping = sorted((cp, new) for new, old in enumerate(kept) for cp in self._unicodes.get(old, ()))
        tables = {
            "OS/2": self._raw["OS/2"],
            "cmap": _cmap(mapping),
            "glyf": bytes(glyf),
            "head": bytes(head),
            "hhea": bytes(hhea),
            "hmtx": b"".join(self._metrics[old] for old in kept),
            "loca": struct.pack(f">{count + 1}I", *offsets),
            "maxp": bytes(maxp),
            "name": self._raw["name"],
            "post": bytes(post),
        }
        return _sfnt(tables)


_KEPT = ("OS/2", "head", "hhea", "maxp", "name", "post")


def _merged(tag: str, tables: list[bytes]) -> bytes:
    """The first font's table, its bounds and maxima widened to cover the others' glyphs."""
    first = bytearray(tables[0])
    fields = {  # offset -> min or max, for the int16 ("h") or uint16 ("H") fields that bound glyphs
        "head": {36: (min, "h"), 38: (min, "h"), 40: (max, "h"), 42: (max, "h")},
        "hhea": {10: (max, "H"), 12: (min, "h"), 14: (min, "h"), 16: (max, "h")},
        "maxp": dict.fromkeys(range(6, 32, 2), (max, "H")),
    }.get(tag, {})
    for at, (pick, kind) in fields.items():
        values = [struct.unpack_from(f">{kind}", table, at)[0] for table in tables]
        struct.pack_into(f">{kind}", first, at, pick(values))
    return bytes(first)


def _components(glyph: bytes) -> list[tuple[int, int]]:
    """(component glyph id, byte offset of that id) for a composite glyph; [] for a simple one."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found, at, flags = [], 10, _MORE
    while flags & _MORE:
        flags, component = struct.unpack_from(">HH", glyph, at)
        found.append((component, at + 2))
        at += 4 + (4 if flags & _ARG_WORDS else 2)
        at += 8 if flags & _TWO_BY_TWO else 4 if flags & _XY_SCALE else 2 if flags & _SCALE else 0
    return found


def _cmap(mapping: list[tuple[int, int]]) -> bytes:
    """A cmap with one (3, 1) format 4 subtable: one segment per character, then the final one."""
    segments = [*mapping, (0xFFFF, 1)]
    count = len(segments)
    search = 2 << (count.bit_length() - 1)
    ends = [cp for cp, _ in segments]
    deltas = [(glyph - cp) & 0xFFFF if cp != 0xFFFF else 1 for cp, glyph in segments]
    length = 16 + 8 * count
    subtable = struct.pack(">7H", 4, length, 0, 2 * count, search, search.bit_length() - 2, 2 * count - search)
    subtable += struct.pack(f">{count}HH{count}H{count}H{count}H", *ends, 0, *ends, *deltas, *([0] * count))
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """An sfnt file from its tables (checksums left at zero: fontTools recomputes them on save)."""
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16)
    directory, body, offset = bytearray(), bytearray(), 12 + 16 * count
    for tag in sorted(tables):
        data = tables[tag]
        directory += struct.pack(">4sIII", tag.encode("ascii"), 0, offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return header + bytes(directory) + bytes(body)
