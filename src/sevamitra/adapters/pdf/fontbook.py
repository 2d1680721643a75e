"""Parsed fonts kept between documents, so each PDF only pays for the glyphs it uses.

`FPDF.add_font` parses a font file and builds a HarfBuzz face every time, and each family and
weight becomes a font of its own in the PDF, subset and embedded at a fixed cost of milliseconds.
A `FontBook` parses each font once and gives each document one fpdf2 font holding every family and
weight it needs (Telugu, Devanagari, Latin; Regular and Bold): the parsed metrics and HarfBuzz fonts
are shared, the glyph subset is the document's own, and before output the document's font gets a
font file cut down to its glyphs, which fpdf2 embeds as it is. Not thread-safe: use one book per
thread.
"""

from __future__ import annotations

import copy
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import uharfbuzz as hb
from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf import output as fpdf_output
from fpdf.fonts import SubsetMap, TTFFont

from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE, static_font
from sevamitra.adapters.pdf.glyphcut import GlyphCutter

PT_TO_MM = 25.4 / 72


@dataclass(frozen=True, slots=True)
class _Face:
    """One family in one weight, as a document's font holds it."""

    harfbuzz: Any
    scale: float  # font units -> 1/1000 em
    glyphs: list[tuple[str, int, int]]  # by HarfBuzz glyph id: (name, width, id in the cut)


class ShapingFont(TTFFont):
    """fpdf2's TrueType font, shaping with HarfBuzz the text that `FPDF.text()` draws.

    `FPDF.text()` is the cheap way to put text on a page, but it maps characters to glyphs one
    by one, which garbles Telugu and Hindi. Here it gets HarfBuzz's glyphs with their advances and
    mark offsets instead, through the `encode_text` hook it calls. That skips fpdf2's per-cell
    machinery (bidi paragraphs, fragments, line objects: 0.3 ms a cell), so it suits left-to-right
    text on one line; the caller breaks lines. Choose family, weight and size with `use` first.

    The ToUnicode map keeps the text copyable. fpdf2 maps a cluster's whole text to its first glyph
    and nothing to the others (శ్రీ is two glyphs), and extractors such as PDFium then print an
    unmapped glyph's code as a character. Here a cluster's characters are shared out over its
    glyphs in order, so the text copied from the page is the text that was set; a cluster with more
    glyphs than characters (Devanagari ई) is wrapped in an /ActualText span instead.
    """

    __slots__ = ("face", "faces", "size_pt")
    faces: dict[tuple[str, bool], _Face]  # by (family, bold)
    face: _Face
    size_pt: float

    def use(self, family: str, *, size_pt: float, bold: bool) -> None:
        """The family, weight and size the next `encode_text` (that is, `FPDF.text()`) draws in."""
        self.face, self.size_pt = self.faces[(family, bold)], size_pt

    def encode_text(self, text: str) -> str:
        face = self.face
        infos, positions = _shape(face.harfbuzz, text)
        glyphs_in = Counter(info.cluster for info in infos)
        starts = sorted(glyphs_in)
        ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
        seen: Counter[int] = Counter()
        scale, point = face.scale, self.size_pt / 1000  # font units -> 1/1000 em -> points
        ops: list[str] = []
        run = _Run(self)  # a TJ array: glyphs, and small kerns in 1/1000 em (positive: leftwards)
        pen = 0.0  # points from the start of the current line (Td moves that start)
        for info, position in zip(infos, positions, strict=True):
            cluster = info.cluster
            count, end = glyphs_in[cluster], ends[cluster]
            spanned = count > end - cluster  # more glyphs than characters: some would map to nothing
            if spanned and not seen[cluster]:
                run.flush(ops)  # the whole cluster reads as its text, whatever its glyphs map to
                ops.append(f"/Span <</ActualText <FEFF{text[cluster:end].encode('utf-16-be').hex()}>>> BDC")
            unicode = _share(text, cluster, end, count, seen[cluster])
            seen[cluster] += 1
            name, width, gid = face.glyphs[info.codepoint]
            glyph = self.subset.get_glyph(glyph=gid, unicode=unicode, glyph_name=name, glyph_width=width)
            code = self.subset.pick_glyph(glyph) if glyph is not None and info.codepoint else None
            advance = round(scale * position.x_advance)
            dx, dy = round(scale * position.x_offset), round(scale * position.y_offset)
            if code is not None and (dy or dx >= _KERN):
                # A mark raised or lowered by GPOS: a text object of its own. Extractors order a
                # line's text objects by where they start, so the next one starts no further left
                # than the mark, and a leading kern takes its first glyph back to the pen.
                run.flush(ops)
                lead = max(dx, 0)
                ops += [f"{pen + dx * point:.2f} {dy * point:.2f} Td", f"[({self.escape_text(chr(code))})] TJ"]
                ops.append(f"{(lead - dx) * point:.2f} {-dy * point:.2f} Td")
                pen = (advance - lead) * point
                if lead != advance:
                    run.kern(lead - advance)
            else:
                if code is not None:
                    if dx:
                        run.kern(-dx)
                    run.glyph(code)
                    kern = width + dx - advance
                else:  # .notdef: keep the advance, draw nothing
                    kern = -advance
                pen += advance * point
                if kern > 0 or -_KERN < kern < 0:
                    run.kern(kern)
                elif kern:  # a wide gap in a TJ array reads as a space to text extractors: move instead
                    run.flush(ops)
                    ops.append(f"{pen:.2f} 0 Td")
                    pen = 0.0
            if spanned and seen[cluster] == count:
                run.flush(ops)
                ops.append("EMC")
        run.flush(ops)
        return " ".join(ops) or "[] TJ"


class _Run:
    """A TJ array being built: runs of glyph codes, escaped once, between kerns."""

    __slots__ = ("codes", "font", "items")

    def __init__(self, font: TTFFont) -> None:
        self.font = font
        self.items: list[str] = []
        self.codes: list[str] = []

    def glyph(self, code: int) -> None:
        self.codes.append(chr(code))

    def kern(self, amount: int) -> None:
        self._close()
        self.items.append(str(amount))

    def flush(self, ops: list[str]) -> None:
        self._close()
        if self.items:
            ops.append(f"[{' '.join(self.items)}] TJ")
            self.items.clear()

    def _close(self) -> None:
        if self.codes:
            self.items.append(f"({self.font.escape_text(''.join(self.codes))})")
            self.codes.clear()


_KERN = 60  # largest rightward TJ adjustment (1/1000 em), well under half a space


def _shape(font: Any, text: str) -> tuple[Any, Any]:
    buffer = hb.Buffer()
    buffer.cluster_level = 1  # monotone characters, as fpdf2 shapes: clusters follow the text
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {})
    return buffer.glyph_infos, buffer.glyph_positions


def _share(text: str, start: int, end: int, glyphs: int, index: int) -> tuple[int, ...]:
    """The characters the `index`-th of `glyphs` glyphs of cluster text[start:end] stands for."""
    if glyphs == 1:
        return tuple(map(ord, text[start:end]))
    first = max(end - start - glyphs + 1, 1)  # the first glyph takes the surplus
    lo = start if index == 0 else start + first + index - 1
    hi = start + first if index == 0 else lo + 1
    return tuple(map(ord, text[lo : min(hi, end)]))


@dataclass(slots=True)
class _Source:
    """A static font file and what every document shares of it."""

    embedding: bytes
    harfbuzz: Any
    codepoints: frozenset[int]


@dataclass(slots=True)
class _Set:
    font: ShapingFont
    cutter: GlyphCutter


@dataclass(slots=True)
class FontBook:
    """Fonts by family ("telugu", "devanagari", "latin"), each in Regular and Bold, parsed on first use.

    `attach` gives a document its font; draw with it, then call `finish` before `pdf.output()`:
    until then the document's font shares the book's parsed fonts, and `finish` gives it its own
    small cut.
    """

    cache_dir: Path = DEFAULT_FONT_CACHE
    _sources: dict[tuple[str, bool], _Source] = field(default_factory=dict)
    _sets: dict[tuple[str, ...], _Set] = field(default_factory=dict)
    _scratch: FPDF = field(default_factory=FPDF)
    _widths: dict[tuple[str, bool, float, str], float] = field(default_factory=dict)

    def covers(self, family: str, text: str) -> bool:
        """Whether the family has a glyph for every character of `text`."""
        codepoints = self._source(family, bold=False).codepoints
        return all(ord(char) in codepoints for char in text)

    def width(self, family: str, text: str, *, bold: bool, size: float) -> float:
        """The width of shaped `text` in millimetres (cached: labels recur)."""
        key = (family, bold, size, text)
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) > 50_000:
                self._widths.clear()
            harfbuzz = self._source(family, bold=bold).harfbuzz
            _, positions = _shape(harfbuzz, text)
            scale = 1000 / harfbuzz.face.upem
            points = sum(round(scale * p.x_advance) for p in positions) * size / 1000
            width = self._widths[key] = points * PT_TO_MM
        return width

    def attach(self, pdf: FPDF, families: tuple[str, ...]) -> ShapingFont:
        """One font in `pdf` with `families` in both weights, selected by `pdf.set_font(FONT_KEY)`."""
        prototype = self._set(families).font
        font = copy.copy(prototype)  # shares the parsed font and the HarfBuzz fonts
        font.i = len(pdf.fonts) + 1
        font.desc = copy.copy(prototype.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[FONT_KEY] = font
        return font

    def finish(self, pdf: FPDF) -> None:
        """Give the font of `pdf` a font file of just its glyphs, for fpdf2 to subset and embed."""
        font = pdf.fonts.get(FONT_KEY)
        if not isinstance(font, ShapingFont):
            return
        for fonts in self._sets.values():
            if font.ttfont is fonts.font.ttfont:
                cut = fonts.cutter.cut(font.subset.get_all_glyph_names())
                font.ttfont = CutFont(io.BytesIO(cut), lazy=True, recalcBBoxes=False, recalcTimestamp=False)

    def _source(self, family: str, *, bold: bool) -> _Source:
        source = self._sources.get((family, bold))
        if source is None:
            files = static_font(family, bold=bold, cache_dir=self.cache_dir)
            face = hb.Face(hb.Blob.from_file_path(str(files.shaping)))
            source = _Source(files.embedding.read_bytes(), hb.Font(face), frozenset(face.unicodes))
            self._sources[(family, bold)] = source
        return source

    def _set(self, families: tuple[str, ...]) -> _Set:
        found = self._sets.get(families)
        if found is None:
            keys = [(family, bold) for family in families for bold in (False, True)]
            sources = [self._source(family, bold=bold) for family, bold in keys]
            suffixes = [("" if f == families[0] else f".{f}") + (".bold" if b else "") for f, b in keys]
            cutter = GlyphCutter([source.embedding for source in sources], suffixes)
            first = static_font(families[0], bold=False, cache_dir=self.cache_dir).embedding
            font = ShapingFont(self._scratch, first, FONT_KEY, "")
            font.ttfont.close()  # read: HarfBuzz shapes, the cutter makes each document's font file
            font.name = "NotoSans" + "".join(family.title() for family in families)  # the PDF's BaseFont
            font.faces = {
                key: _face(source.harfbuzz, cutter, base)
                for key, source, base in zip(keys, sources, cutter.offsets, strict=True)
            }
            font.use(families[0], size_pt=12, bold=False)
            found = self._sets[families] = _Set(font, cutter)
        return found


FONT_KEY = "noto"  # the one font a document has


class CutFont(TTFont):  # type: ignore[misc]  # fontTools is untyped
    """A font file `GlyphCutter` made: already just one document's glyphs."""


class _Subsetter(ftsubset.Subsetter):  # type: ignore[misc]  # fontTools is untyped
    """fpdf2's subsetter, except for a `CutFont`: subsetting it again would keep every glyph and
    cost a third of the document (fontTools decompiles, trims and recompiles each glyph)."""

    def subset(self, font: TTFont) -> None:
        if not isinstance(font, CutFont):
            super().subset(font)


# fpdf2 subsets every TrueType font it embeds and has no option to skip that; this is the one place
# it looks the subsetter up. Other fonts are subset as before.
fpdf_output.ftsubset = SimpleNamespace(Options=ftsubset.Options, Subsetter=_Subsetter)  # type: ignore[attr-defined]


def _face(harfbuzz: Any, cutter: GlyphCutter, base: int) -> _Face:
    scale = 1000 / harfbuzz.face.upem
    glyphs = [
        (cutter.order[base + gid], round(scale * cutter.advances[base + gid]), base + gid)
        for gid in range(harfbuzz.face.glyph_count)
    ]
    return _Face(harfbuzz, scale, glyphs)


def greedy_lines(words: Sequence[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """Words broken into lines at spaces, each as full as `width` allows, measuring each word once
    (a word wider than the line stays whole on a line of its own)."""
    space, lines, line, used = measure(" "), [], "", 0.0
    for word in words:
        advance = measure(word)
        if line and used + space + advance > width:
            lines.append(line)
            line, used = word, advance
        else:
            line, used = (f"{line} {word}", used + space + advance) if line else (word, advance)
    lines.append(line)
    return lines
