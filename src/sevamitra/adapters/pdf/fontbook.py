"""Parsed fonts kept between documents, so each PDF only pays for subsetting what it used.

`FPDF.add_font` parses a font file and builds a HarfBuzz face every time. A `FontBook` does that
once per family and weight, and gives each new document a light copy: the parsed metrics and the
HarfBuzz face are shared, while the glyph subset and the fontTools object that fpdf2 subsets (and
then closes) are the document's own. Not thread-safe (HarfBuzz fonts carry a size): use one book
per thread.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE, static_font

STYLE = {False: "", True: "B"}


@dataclass(slots=True)
class _Prototype:
    font: TTFFont
    embedding: bytes
    codepoints: frozenset[int]


@dataclass(slots=True)
class FontBook:
    """Fonts by family ("telugu", "devanagari", "latin"), made on first use."""

    cache_dir: Path = DEFAULT_FONT_CACHE
    _prototypes: dict[tuple[str, bool], _Prototype] = field(default_factory=dict)
    _scratch: FPDF = field(default_factory=FPDF)

    def covers(self, family: str, text: str) -> bool:
        """Whether the family has a glyph for every character of `text`."""
        codepoints = self._prototype(family, bold=False).codepoints
        return all(ord(char) in codepoints for char in text)

    def attach(self, pdf: FPDF, family: str, *, bold: bool) -> None:
        """Make `family` (in that weight) usable in `pdf` via `pdf.set_font(family, "B" or "")`."""
        key = family + STYLE[bold]
        if key in pdf.fonts:
            return
        prototype = self._prototype(family, bold=bold)
        font = copy.copy(prototype.font)
        font.i = len(pdf.fonts) + 1
        font.ttfont = TTFont(io.BytesIO(prototype.embedding), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
        font.desc = copy.copy(prototype.font.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[key] = font

    def _prototype(self, family: str, *, bold: bool) -> _Prototype:
        prototype = self._prototypes.get((family, bold))
        if prototype is None:
            files = static_font(family, bold=bold, cache_dir=self.cache_dir)
            font = TTFFont(self._scratch, files.embedding, family + STYLE[bold], STYLE[bold])
            font.ttffile = files.shaping  # HarfBuzz reads this file, with its layout tables
            _ = font.hbfont  # build the shared HarfBuzz face now, not inside a document
            prototype = _Prototype(font, files.embedding.read_bytes(), frozenset(font.cmap))
            self._prototypes[(family, bold)] = prototype
        return prototype
