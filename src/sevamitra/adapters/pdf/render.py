"""Certificates as A4 bilingual (or trilingual) PDFs: shaped Indic text, embedded subset fonts, a QR.

All text is shaped by HarfBuzz (see `fontbook.ShapingFont`), so conjuncts such as శ్రీ, స్త్రీ and
క్ష are drawn right, and the ToUnicode map keeps the text searchable and copyable. Every word on
the page comes from the certificate or from the catalogue's certificates.yaml, none from here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fpdf import FPDF

from sevamitra.adapters.pdf.document import CertificateDocument
from sevamitra.adapters.pdf.fontbook import FONT_KEY, PT_TO_MM, FontBook, greedy_lines
from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE
from sevamitra.adapters.pdf.qr import QUIET_ZONE, qr_image
from sevamitra.adapters.pdf.templates import (
    HEADER,
    HOLDER,
    IDS,
    LINES,
    META,
    OFFICE,
    TITLE,
    VERIFY,
    Template,
    template_for,
)

PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 16.0, 194.0
VALUE_X = 86.0
QR_SYMBOL_MM = 32.0  # the symbol without its quiet zone; at least 30 mm
QR_MODULE_MM = 0.5  # dense symbols grow so that a module stays about 3 pixels wide at 150 dpi
QR_MODULE_MIN_MM = 0.45  # when the page is full: still 2.6 pixels at 150 dpi
INDIA = timezone(timedelta(hours=5, minutes=30))
FAMILY = {"te": "telugu", "en": "telugu", "hi": "devanagari"}  # Noto Sans Telugu has full Latin too
FAMILIES = ("telugu", "devanagari", "latin")
BLACK, GREY = (0, 0, 0), (85, 85, 85)
Rgb = tuple[int, int, int]


class CertificateRenderer:
    """Renders certificates; keeps parsed fonts between documents. One renderer per thread."""

    def __init__(self, *, cache_dir: Path = DEFAULT_FONT_CACHE) -> None:
        self._fonts = FontBook(cache_dir)

    def render(self, doc: CertificateDocument) -> bytes:
        return _Page(self._fonts, doc).draw()


_local = threading.local()


def render_certificate(doc: CertificateDocument) -> bytes:
    """The certificate as PDF bytes, with this thread's renderer and the default font cache."""
    renderer: CertificateRenderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = CertificateRenderer()
    return renderer.render(doc)


def _line_height(size_pt: float) -> float:
    return size_pt * 0.3528 * 1.45  # Telugu stacks conjuncts below the line: give them room


class _Page:
    def __init__(self, fonts: FontBook, doc: CertificateDocument) -> None:
        self.fonts, self.doc = fonts, doc
        self.template: Template = template_for(doc.statement.kind)
        self.pdf = pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(LEFT, LEFT, PAGE_W - RIGHT)
        pdf.set_creation_date(doc.statement.issued_at)
        pdf.set_title(f"{doc.title.get('en', '')} {doc.statement.number}".strip())
        pdf.set_author(doc.statement.issuer)
        pdf.set_lang(f"{doc.languages[0]}-IN")
        pdf.set_text_shaping(True, direction="ltr")  # for any cell(); text() is shaped by ShapingFont
        families = {self.family(text, language) for text, language in _strings(doc)}
        self.font = fonts.attach(pdf, tuple(f for f in FAMILIES if f in families))
        self.y = LEFT

    def draw(self) -> bytes:
        blocks = {
            HEADER: self.header,
            TITLE: self.title,
            META: self.meta,
            HOLDER: self.holder,
            IDS: self.ids,
            LINES: self.lines,
            OFFICE: self.office,
            VERIFY: self.verify,
        }
        self.pdf.add_page()
        self.frame()
        for block in self.template.blocks:
            blocks[block]()
        self.fonts.finish(self.pdf)
        return bytes(self.pdf.output())

    # --- text -------------------------------------------------------------------------------

    def family(self, text: str, language: str | None) -> str:
        preferred = FAMILY.get(language or "", "telugu")
        if text.isascii():
            return preferred
        for family in (preferred, *FAMILIES):
            if self.fonts.covers(family, text):
                return family
        return preferred  # no single font has it all: missing glyphs show as boxes

    def write(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        *,
        size: float,
        bold: bool = False,
        language: str | None = None,
        align: str = "L",
        colour: Rgb = BLACK,
    ) -> float:
        """Draws `text` in a box of width `w` at (x, y), broken into lines; returns the y below."""
        pdf, family = self.pdf, self.family(text, language)
        pdf.set_font(FONT_KEY, "", size)
        self.font.use(family, size_pt=size, bold=bold)
        pdf.set_text_color(*colour)
        height = _line_height(size)
        for line in self.wrap(text, family, w, bold=bold, size=size):
            left = x
            if align != "L":
                gap = w - self.fonts.width(family, line, bold=bold, size=size)
                left += gap if align == "R" else gap / 2
            pdf.text(left, y + (height + size * PT_TO_MM * 0.6) / 2, line)  # baseline, as fpdf2's cell() sets it
            y += height
        return y

    def height(self, text: str, w: float, *, size: float, bold: bool = False, language: str | None = None) -> float:
        """How tall `write` would draw `text`."""
        lines = self.wrap(text, self.family(text, language), w, bold=bold, size=size)
        return len(lines) * _line_height(size)

    def wrap(self, text: str, family: str, w: float, *, bold: bool, size: float) -> list[str]:
        """Greedy line breaking at spaces, measuring each word once."""
        width = functools.partial(self.fonts.width, family, bold=bold, size=size)
        if width(text) <= w:
            return [text]
        return greedy_lines(text.split(" "), w, width)

    def room(self, height: float) -> None:
        """Starts a new page when `height` more does not fit on this one."""
        if self.y + height > PAGE_H - 14:
            self.pdf.add_page()
            self.frame()
            self.y = LEFT

    def joined(self, by_language: Mapping[str, str]) -> Iterator[tuple[str, str]]:
        """Telugu and English on one line (one font has both), Hindi on its own line."""
        first = " / ".join(by_language[lang] for lang in self.doc.languages if lang != "hi" and by_language.get(lang))
        if first:
            yield "te", first
        if "hi" in self.doc.languages and by_language.get("hi"):
            yield "hi", by_language["hi"]

    def texts(self, key: str) -> dict[str, str]:
        return {lang: self.doc.text(lang, key) for lang in self.doc.languages}

    def row(self, labels: Mapping[str, str], values: Sequence[tuple[str | None, str]], *, size: float = 11) -> None:
        """A label column (small, grey, every language) and a value column."""
        label_w, value_w = VALUE_X - LEFT - 2, RIGHT - VALUE_X
        label_lines = list(self.joined(labels))
        self.room(
            max(
                sum(self.height(label, label_w, size=8.5, language=lang) for lang, label in label_lines),
                sum(self.height(value, value_w, size=size, bold=True, language=lang) for lang, value in values),
            )
        )
        label_y = value_y = self.y
        for language, label in label_lines:
            label_y = self.write(LEFT, label_y, label_w, label, size=8.5, language=language, colour=GREY)
        for value_language, value in values:
            value_y = self.write(VALUE_X, value_y, value_w, value, size=size, bold=True, language=value_language)
        self.y = max(label_y, value_y) + 1.6

    # --- blocks -----------------------------------------------------------------------------

    def frame(self) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*self.template.border)
        pdf.set_line_width(1.0)
        pdf.rect(7, 7, PAGE_W - 14, PAGE_H - 14)
        pdf.set_line_width(0.25)
        pdf.rect(9.5, 9.5, PAGE_W - 19, PAGE_H - 19)

    def header(self) -> None:
        pdf, accent = self.pdf, self.template.accent
        cx, cy, radius = LEFT + 12, self.y + 12, 11.5
        pdf.set_draw_color(*accent)
        pdf.set_fill_color(*accent)
        pdf.set_line_width(0.8)
        pdf.circle(cx, cy, radius)
        pdf.set_line_width(0.25)
        pdf.circle(cx, cy, radius - 2.2)
        pdf.star(cx, cy, 3.2, 7.5, 12, style="F")  # a placeholder for the state emblem
        y = self.y + 1.5
        for language in self.doc.languages:
            size = 15.0 if language == "te" else 12.0
            state = self.doc.text(language, "certificate.state")
            y = self.write(
                LEFT + 28, y, RIGHT - LEFT - 28, state, size=size, bold=True, language=language, colour=accent
            )
        self.y = max(cy + radius, y) + 3
        pdf.set_line_width(0.6)
        pdf.line(LEFT, self.y, RIGHT, self.y)
        self.y += 4

    def title(self) -> None:
        for language in self.doc.languages:
            size = 19.0 if language == "te" else 15.0
            text = self.doc.title.get(language, "")
            if text:
                accent = self.template.accent
                self.y = self.write(
                    LEFT, self.y, RIGHT - LEFT, text, size=size, bold=True, language=language, align="C", colour=accent
                )
        self.y += 4

    def meta(self) -> None:
        statement, top = self.doc.statement, self.y
        self.row(self.texts("certificate.number"), [(None, statement.number)], size=12)
        self.row(self.texts("certificate.issued_on"), [(None, _date(statement.issued_at))])
        if self.template.show_validity:
            if statement.valid_until is not None:
                self.row(self.texts("certificate.valid_until"), [(None, _date(statement.valid_until))])
            else:
                no_expiry = list(self.joined(self.texts("certificate.no_expiry")))
                self.row(self.texts("certificate.valid_until"), [(lang, text) for lang, text in no_expiry])
        self.pdf.set_fill_color(*self.template.accent)
        self.pdf.rect(LEFT - 3, top, 1.2, self.y - top - 1.6, style="F")
        self.y += 3

    def holder(self) -> None:
        holder = self.doc.statement.holder
        names = [(lang, holder[lang]) for lang in self.doc.languages if holder.get(lang)]
        if names:  # an extract of a record (land, a bill) names no holder
            self.row(self.texts("certificate.holder"), names, size=12.5)

    def ids(self) -> None:
        for key, masked in self.doc.statement.masked_ids.items():  # an id without a label shows its key
            labels = {lang: self.doc.texts[lang].get(f"certificate.id.{key}", key) for lang in self.doc.languages}
            self.row(labels, [(None, masked)])

    def lines(self) -> None:
        size = 13.0 if self.template.wide_values else 11.0
        for labels, value in self.doc.lines:
            self.row(labels, [(None, value)], size=size)

    def office(self) -> None:
        statement = self.doc.statement
        if statement.office:
            self.row(self.texts("certificate.office"), list(self.joined(statement.office)))
        if statement.officer:
            self.row(self.texts("certificate.officer"), [(None, statement.officer)])

    def verify(self) -> None:
        """The QR, how to verify it in every language, the verification URL, the signature note."""
        pdf, doc, accent = self.pdf, self.doc, self.template.accent
        qr = qr_image(doc.qr_text)
        paragraphs: list[tuple[str, str | None, float, bool, Rgb, float]] = [  # text, language, size, bold, colour, gap
            *((doc.text(lang, "certificate.how_to_verify"), lang, 8.0, False, BLACK, 0.8) for lang in doc.languages),
            *((label, lang, 7.5, False, GREY, 0.0) for lang, label in self.joined(self.texts("certificate.verify_at"))),
            (doc.verify_url, None, 10.0, True, accent, 2.0),
            *((doc.text(lang, "certificate.digitally_signed"), lang, 7.5, False, GREY, 0.0) for lang in doc.languages),
        ]

        def block(module: float) -> tuple[float, float, float]:
            """(symbol, side with quiet zone, block height) for a module size in millimetres."""
            symbol = max(QR_SYMBOL_MM, qr.modules * module)
            side = symbol * (qr.modules + 2 * QUIET_ZONE) / qr.modules
            text = sum(
                self.height(t, RIGHT - side - LEFT, size=s, bold=b, language=lang) + gap
                for t, lang, s, b, _, gap in paragraphs
            )
            return symbol, side, max(text + 3, side + 2)

        symbol, side, needed = block(QR_MODULE_MM)
        if self.y + 4 + needed > PAGE_H - 13:  # a dense QR on a full page: smaller modules, if they still scan
            symbol, side, needed = block(QR_MODULE_MIN_MM)
        self.room(needed + 4)
        top = max(self.y + 4, PAGE_H - 13 - needed)
        pdf.set_draw_color(*accent)
        pdf.set_line_width(0.3)
        pdf.line(LEFT, top, RIGHT, top)
        pdf.image(qr.image, RIGHT - side + symbol * QUIET_ZONE / qr.modules, top + 1, side, side)
        y = top + 3
        for text, language, size, bold, colour, gap in paragraphs:
            y = self.write(LEFT, y, RIGHT - side - LEFT, text, size=size, bold=bold, language=language, colour=colour)
            y += gap


def _strings(doc: CertificateDocument) -> Iterator[tuple[str, str | None]]:
    """Every text the page may show, with its language where known: to pick the fonts up front."""
    statement = doc.statement
    for language in doc.languages:
        for key, text in doc.texts[language].items():
            if key.startswith("certificate."):
                yield text, language
        for by_language in (doc.title, statement.holder, statement.office, *(labels for labels, _ in doc.lines)):
            if by_language.get(language):
                yield by_language[language], language
    for text in (statement.number, statement.officer, doc.verify_url, *statement.masked_ids.values()):
        yield text, None
    for _, value in doc.lines:
        yield value, None


def _date(moment: datetime) -> str:
    return moment.astimezone(INDIA).strftime("%d-%m-%Y")
