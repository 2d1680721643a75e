"""Static instances of the packaged Noto variable fonts, made once and cached on disk.

fpdf2 spends most of a PDF subsetting fonts. Two things make that cheap: a static instance
(no variation tables), and a second "embedding" copy of it without layout tables and hinting,
from which each PDF's glyphs are cut (see glyphcut.py). HarfBuzz shapes with the full static
instance; both copies keep the same glyph order, so HarfBuzz's glyph ids are valid in either.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

DEFAULT_FONT_CACHE = Path("var/cache/fonts")

# family -> (distribution, variable font file)
FAMILIES: dict[str, tuple[str, str]] = {
    "telugu": ("fontpkg-noto-sans-telugu", "NotoSansTelugu[wdth,wght].ttf"),
    "devanagari": ("fontpkg-noto-sans-devanagari", "NotoSansDevanagari[wdth,wght].ttf"),
    "latin": ("fontpkg-noto-sans", "NotoSans[wdth,wght].ttf"),
}
WEIGHTS = {False: 400, True: 700}
RECIPE = "v1"  # bump when the way instances are made changes: old cache entries are then ignored

_NOT_EMBEDDED = ("GSUB", "GPOS", "GDEF", "fpgm", "prep", "cvt ", "gasp", "STAT", "DSIG")


@dataclass(frozen=True, slots=True)
class StaticFont:
    """One weight of one family: the file HarfBuzz shapes with and the file a PDF embeds."""

    shaping: Path
    embedding: Path


def variable_font(family: str) -> Path:
    """The variable TTF shipped inside the family's fontpkg distribution."""
    distribution, name = FAMILIES[family]
    for file in importlib.metadata.files(distribution) or ():
        if file.name == name:
            return Path(str(file.locate()))
    raise FileNotFoundError(f"{name} is not in the {distribution} distribution")


def static_font(family: str, *, bold: bool, cache_dir: Path = DEFAULT_FONT_CACHE) -> StaticFont:
    """The cached static instance of `family`, made on first use (seconds) and reused after."""
    source = variable_font(family)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    stem = f"{source.name.split('[')[0]}-{WEIGHTS[bold]}-{digest}-{RECIPE}"
    font = StaticFont(shaping=cache_dir / f"{stem}.ttf", embedding=cache_dir / f"{stem}.embed.ttf")
    if not (font.shaping.exists() and font.embedding.exists()):
        _make(source, WEIGHTS[bold], font)
    return font


def _make(source: Path, weight: int, font: StaticFont) -> None:
    font.shaping.parent.mkdir(parents=True, exist_ok=True)
    static = instancer.instantiateVariableFont(
        TTFont(io.BytesIO(source.read_bytes())), {"wght": weight, "wdth": 100}, static=True, updateFontNames=True
    )
    _save(static, font.shaping)
    for tag in _NOT_EMBEDDED:
        if tag in static:
            del static[tag]
    glyf = static["glyf"]
    for name in static.getGlyphOrder():
        glyf[name].removeHinting()
    _save(static, font.embedding)


def _save(font: TTFont, path: Path) -> None:
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    font.save(partial)
    partial.replace(path)  # atomic: another process never reads half a font
