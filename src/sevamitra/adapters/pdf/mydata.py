"""A citizen's data as a readable A4 PDF ("my data"): shaped Telugu and Hindi, as the certificates are.

Every word comes in the `ReadableDocument` (core.privacy), already in the citizen's language and with
identifiers masked; this module only lays it out: a title, sections, and label-value rows that break
across lines and pages.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path

from fpdf import FPDF

from sevamitra.adapters.pdf.fontbook import FONT_KEY, PT_TO_MM, FontBook, greedy_lines
from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE
from sevamitra.core.privacy import ReadableDocument

PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 18.0, 192.0, 18.0, 282.0
VALUE_X = 78.0
PREFERRED = {"te": "telugu", "en": "telugu", "hi": "devanagari"}  # Noto Sans Telugu has full Latin too
FAMILIES = ("telugu", "devanagari", "latin")
BLACK, GREY, ACCENT = (0, 0, 0), (85, 85, 85), (20, 70, 130)
Rgb = tuple[int, int, int]


class MyDataRenderer:
    """Renders citizens' data; keeps parsed fonts between documents. One renderer per thread."""

    def __init__(self, *, cache_dir: Path = DEFAULT_FONT_CACHE) -> None:
        self._fonts = FontBook(cache_dir)

    def render(self, doc: ReadableDocument) -> bytes:
        return _Pages(self._fonts, doc).draw()


_local = threading.local()


def render_my_data(doc: ReadableDocument) -> bytes:
    """The document as PDF bytes, with this thread's renderer and the default font cache."""
    renderer: MyDataRenderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = MyDataRenderer()
    return renderer.render(doc)


def _line_height(size_pt: float) -> float:
    return size_pt * PT_TO_MM * 1.45  # Telugu stacks conjuncts below the line: give them room


class _Pages:
    def __init__(self, fonts: FontBook, doc: ReadableDocument) -> None:
        self.fonts, self.doc = fonts, doc
        self.preferred = PREFERRED.get(doc.language, "telugu")
        self.pdf = pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(LEFT, TOP, PAGE_W - RIGHT)
        pdf.set_title(doc.title)
        pdf.set_lang(f"{doc.language}-IN")
        families = {self.family(text) for text in _strings(doc)}
        self.font = fonts.attach(pdf, tuple(f for f in FAMILIES if f in families))
        self.y = TOP

    def draw(self) -> bytes:
        self.pdf.add_page()
        self.y = self.write(LEFT, self.y, RIGHT - LEFT, self.doc.title, size=17, bold=True, colour=ACCENT) + 1
        for line in self.doc.lines:
            self.y = self.write(LEFT, self.y, RIGHT - LEFT, line, size=9, colour=GREY)
        for section in self.doc.sections:
            self.section_title(section.title)
            if not any(entry.rows for entry in section.entries):
                self.y = self.write(LEFT, self.y, RIGHT - LEFT, self.doc.empty, size=9, colour=GREY) + 2
                continue
            for entry in section.entries:
                if entry.heading:
                    self.room(_line_height(10.5) * 2)
                    self.y = self.write(LEFT, self.y, RIGHT - LEFT, entry.heading, size=10.5, bold=True) + 0.8
                for label, value in entry.rows:
                    self.row(label, value)
                self.y += 2.5
        self.fonts.finish(self.pdf)
        return bytes(self.pdf.output())

    # --- text -------------------------------------------------------------------------------

    def family(self, text: str) -> str:
        """The preferred family of the document's language when it has every character, else one that has."""
        for family in (self.preferred, *FAMILIES):
            if self.fonts.covers(family, text):
                return family
        return self.preferred  # no single font has it all (Urdu script, say): missing glyphs show as boxes

    def write(
        self, x: float, y: float, w: float, text: str, *, size: float, bold: bool = False, colour: Rgb = BLACK
    ) -> float:
        """Draws `text` in a box of width `w` at (x, y), broken into lines and pages; returns the y below."""
        pdf, family = self.pdf, self.family(text)
        height = _line_height(size)
        for line in self.wrap(text, family, w, bold=bold, size=size):
            if not line:  # an empty paragraph: its room only
                y += height
                continue
            if y + height > BOTTOM:
                y = self.new_page()
            pdf.set_font(FONT_KEY, "", size)
            self.font.use(family, size_pt=size, bold=bold)
            pdf.set_text_color(*colour)
            pdf.text(x, y + (height + size * PT_TO_MM * 0.6) / 2, line)  # the baseline, as fpdf2's cell() sets it
            y += height
        return y

    def wrap(self, text: str, family: str, w: float, *, bold: bool, size: float) -> list[str]:
        width = functools.partial(self.fonts.width, family, bold=bold, size=size)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            lines += [paragraph] if width(paragraph) <= w else greedy_lines(paragraph.split(" "), w, width)
        return lines

    def height(self, text: str, w: float, *, size: float, bold: bool = False) -> float:
        return len(self.wrap(text, self.family(text), w, bold=bold, size=size)) * _line_height(size)

    def new_page(self) -> float:
        self.pdf.add_page()
        self.y = TOP
        return TOP

    def room(self, height: float) -> None:
        """A new page when `height` more does not fit on this one."""
        if self.y + height > BOTTOM:
            self.new_page()

    # --- blocks -----------------------------------------------------------------------------

    def section_title(self, title: str) -> None:
        self.room(_line_height(13) + _line_height(10) * 2 + 4)
        self.y += 3
        self.y = self.write(LEFT, self.y, RIGHT - LEFT, title, size=13, bold=True, colour=ACCENT)
        self.pdf.set_draw_color(*ACCENT)
        self.pdf.set_line_width(0.3)
        self.pdf.line(LEFT, self.y + 0.5, RIGHT, self.y + 0.5)
        self.y += 2.5

    def row(self, label: str, value: str) -> None:
        """A label (small, grey) beside its value; a row taller than what is left starts a new page."""
        label_w, value_w = VALUE_X - LEFT - 3, RIGHT - VALUE_X
        tall = max(self.height(label, label_w, size=8.5), self.height(value, value_w, size=10))
        if tall < BOTTOM - TOP:
            self.room(tall)
        top = self.y
        label_y = self.write(LEFT, top, label_w, label, size=8.5, colour=GREY)
        page = self.pdf.page
        value_y = self.write(VALUE_X, top, value_w, value, size=10)
        self.y = (value_y if self.pdf.page != page else max(label_y, value_y)) + 1.2


def _strings(doc: ReadableDocument) -> Iterator[str]:
    """Every text the document shows: to pick its fonts up front."""
    yield from (doc.title, doc.empty, *doc.lines)
    for section in doc.sections:
        yield section.title
        for entry in section.entries:
            if entry.heading:
                yield entry.heading
            for label, value in entry.rows:
                yield label
                yield value
