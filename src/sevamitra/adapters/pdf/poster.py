"""Printable posters of one service, Telugu and English on one A4 or A5 page, around a large QR.

The QR encodes the service's click-to-chat link itself (`core.links.service_link`, in Telugu), so
a poster works before, and without, any WhatsApp QR sync: a citizen scans it with the phone's
camera and lands in WhatsApp with the service chosen. Around it: the service's name, the short
code and the number to send it to, the fee, the promised time and what to bring. The layout is
drawn in A4 millimetres and scaled for A5; long names shrink, then end in "…", and a long list of
documents ends with how many more there are.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fpdf import FPDF

from sevamitra.adapters.pdf.fontbook import FONT_KEY, PT_TO_MM, FontBook, greedy_lines
from sevamitra.adapters.pdf.fonts import DEFAULT_FONT_CACHE
from sevamitra.adapters.pdf.qr import QUIET_ZONE, qr_image
from sevamitra.core.amounts import format_inr
from sevamitra.core.catalogue import Service
from sevamitra.core.links import service_link

PosterSize = Literal["A4", "A5"]
PAGE_MM: Mapping[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
LINK_LANGUAGE = "te"  # the language the scanned link opens the conversation in
A4_W, A4_H = PAGE_MM["A4"]
MARGIN = 14.0
QR_SIDE = 92.0  # the symbol with its quiet zone, in A4 millimetres (about 80 mm of modules)
COLUMN_GAP = 8.0
ELLIPSIS = "…"
GREEN, DARK, GREY, WHITE = (7, 94, 84), (17, 17, 17), (84, 84, 84), (255, 255, 255)
Rgb = tuple[int, int, int]

# The poster's own words, by language: the names, documents and units come from the catalogue.
WORDS: Mapping[str, Mapping[str, str]] = {
    "te": {
        "header": "వాట్సాప్‌లో ప్రభుత్వ సేవలు",
        "scan": "ఫోన్ కెమెరాతో స్కాన్ చేయండి, లేదా {number} కు {code} అని పంపండి",
        "fee": "రుసుము",
        "time": "సమయం",
        "bring": "తీసుకురావలసినవి",
        "nothing": "ఏమీ అవసరం లేదు",
        "more": "… మరో {count}",
        "free": "ఉచితం",
        "per_unit": "ఒక్కో {unit}కు {amount}",
        "rule": "దరఖాస్తు చేసేటప్పుడు చూపిస్తాం",
        "minutes": "{minutes} నిమిషాల్లో",
        "instant": "వెంటనే",
        "one_day": "ఒక రోజులో",
        "days": "{days} రోజుల్లో",
    },
    "en": {
        "header": "Government services on WhatsApp",
        "scan": "Scan with your phone camera, or send {code} to {number}",
        "fee": "Fee",
        "time": "Time",
        "bring": "What to bring",
        "nothing": "Nothing needed",
        "more": "… and {count} more",
        "free": "Free",
        "per_unit": "{amount} per {unit}",
        "rule": "Shown when you apply",
        "minutes": "within {minutes} minutes",
        "instant": "at once",
        "one_day": "within a day",
        "days": "within {days} days",
    },
}
LANGUAGES = ("te", "en")


def display_number(number: str) -> str:
    """A WhatsApp number as printed: `+91 95523 00009` for an Indian mobile, else `+<digits>`."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 12 and digits.startswith("91"):
        return f"+91 {digits[2:7]} {digits[7:]}"
    return f"+{digits}"


def fee_words(service: Service, language: str) -> str:
    fee, words = service.fee, WORDS[language]
    if fee.is_free:
        return words["free"]
    if fee.kind == "fixed":
        return format_inr(fee.amount_inr or 0)
    if fee.kind == "per_unit":
        unit = fee.unit.get(language) or fee.unit.get("en") or ""
        return words["per_unit"].format(amount=format_inr(fee.amount_inr or 0), unit=unit)
    return words["rule"]  # the amount comes from a bill or a record the citizen names


def time_words(service: Service, language: str) -> str:
    sla, words = service.sla, WORDS[language]
    if sla.minutes is not None:
        return words["minutes"].format(minutes=sla.minutes)
    days = sla.days or 0
    if days == 0:
        return words["instant"]
    return words["one_day"] if days == 1 else words["days"].format(days=days)


class PosterRenderer:
    """Renders posters; keeps parsed fonts between them. One renderer per thread."""

    def __init__(self, *, cache_dir: Path = DEFAULT_FONT_CACHE) -> None:
        self._fonts = FontBook(cache_dir)

    def render(self, service: Service, *, number: str, size: PosterSize = "A4", source: str | None = None) -> bytes:
        return _Poster(self._fonts, service, number=number, size=size, source=source).draw()


_local = threading.local()


def render_poster(service: Service, *, number: str, size: PosterSize = "A4", source: str | None = None) -> bytes:
    """The service's poster as PDF bytes, with this thread's renderer and the default font cache.

    ValueError when the service has no short code, the size is not A4 or A5, or the source tag is
    not 1-40 letters, digits, '-' or '_'.
    """
    renderer: PosterRenderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = PosterRenderer()
    return renderer.render(service, number=number, size=size, source=source)


def _line_height(size_pt: float) -> float:
    return size_pt * PT_TO_MM * 1.45  # room for Telugu conjuncts stacked below the line


@dataclass(frozen=True, slots=True)
class _Style:
    size: float  # points on A4
    bold: bool = False
    colour: Rgb = DARK
    min_size: float | None = None  # shrink down to this before cutting with "…"
    max_lines: int = 1


class _Poster:
    """One poster. Coordinates and sizes are A4 millimetres and points; `k` scales them to the page."""

    def __init__(self, fonts: FontBook, service: Service, *, number: str, size: str, source: str | None) -> None:
        if size not in PAGE_MM:
            raise ValueError(f"a poster is A4 or A5, not {size!r}")
        self.fonts, self.service, self.source = fonts, service, source
        self.link = service_link(number, service, LINK_LANGUAGE, source)  # refuses a missing code, a bad tag
        self.number = display_number(number)
        self.code = f"#{service.code}"
        self.k = PAGE_MM[size][0] / A4_W
        self.pdf = pdf = FPDF(orientation="P", unit="mm", format=PAGE_MM[size])  # fpdf2 warns on "A5"
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_title(f"{service.name('en')} {self.code}")
        pdf.set_lang("te-IN")
        pdf.set_text_shaping(True, direction="ltr")  # for any cell(); text() is shaped by ShapingFont
        texts = [service.name(lang) for lang in LANGUAGES]
        texts += [text for document in service.documents for text in document.values()]
        texts += service.fee.unit.values()
        covered = all(fonts.covers("telugu", text) for text in texts)  # Noto Sans Telugu has Latin too
        self.families = ("telugu",) if covered else ("telugu", "latin")
        self.font = fonts.attach(pdf, self.families)

    def draw(self) -> bytes:
        self.pdf.add_page()
        y = self.header()
        y = self.names(y)
        y = self.qr(y + 4)
        y = self.how_to_send(y + 2)
        self.details(y + 3)
        self.tag()
        self.fonts.finish(self.pdf)
        return bytes(self.pdf.output())

    # --- blocks (A4 millimetres) --------------------------------------------------------------

    def header(self) -> float:
        self.pdf.set_fill_color(*GREEN)
        heading = " · ".join(WORDS[lang]["header"] for lang in LANGUAGES)
        band = 20.0
        self.pdf.rect(0, 0, self.pdf.w, band * self.k, style="F")
        self.write(
            MARGIN, (band - _line_height(12)) / 2, A4_W - 2 * MARGIN, heading, _Style(12, True, WHITE, min_size=8)
        )
        return band + 6

    def names(self, y: float) -> float:
        width = A4_W - 2 * MARGIN
        y = self.write(MARGIN, y, width, self.service.name("te"), _Style(30, True, GREEN, min_size=18, max_lines=2))
        return self.write(
            MARGIN, y + 1, width, self.service.name("en"), _Style(18, True, GREY, min_size=12, max_lines=2)
        )

    def qr(self, y: float) -> float:
        symbol = qr_image(self.link)
        left = (A4_W - QR_SIDE) / 2
        k = self.k
        self.pdf.image(symbol.image, left * k, y * k, QR_SIDE * k, QR_SIDE * k)
        quiet = QR_SIDE * QUIET_ZONE / (symbol.modules + 2 * QUIET_ZONE)
        self.pdf.set_draw_color(*GREEN)
        self.pdf.set_line_width(0.8 * k)
        self.pdf.rect((left + quiet / 2) * k, (y + quiet / 2) * k, (QR_SIDE - quiet) * k, (QR_SIDE - quiet) * k)
        return y + QR_SIDE

    def how_to_send(self, y: float) -> float:
        width = A4_W - 2 * MARGIN
        y = self.write(MARGIN, y, width, self.code, _Style(28, True, GREEN, min_size=16))
        y = self.write(MARGIN, y, width, self.number, _Style(20, True))
        for language, size in (("te", 12.5), ("en", 11.5)):
            scan = WORDS[language]["scan"].format(code=self.code, number=self.number)
            y = self.write(MARGIN, y + 0.8, width, scan, _Style(size, min_size=size - 3, max_lines=2))
        return y

    def details(self, y: float) -> None:
        """Fee, time and what to bring: Telugu on the left, English on the right."""
        pdf, k = self.pdf, self.k
        pdf.set_draw_color(*GREEN)
        pdf.set_line_width(0.4 * k)
        pdf.line(MARGIN * k, y * k, (A4_W - MARGIN) * k, y * k)
        column = (A4_W - 2 * MARGIN - COLUMN_GAP) / 2
        bottom = A4_H - MARGIN
        for index, language in enumerate(LANGUAGES):
            self.column(language, MARGIN + index * (column + COLUMN_GAP), y + 3, column, bottom)

    def column(self, language: str, x: float, y: float, width: float, bottom: float) -> None:
        words = WORDS[language]
        y = self.labelled(x, y, width, words["fee"], fee_words(self.service, language))
        y = self.labelled(x, y, width, words["time"], time_words(self.service, language))
        y = self.write(x, y + 1.5, width, words["bring"], _Style(10, True, GREY), align="L")
        documents = [d.get(language) or d.get("en") or next(iter(d.values()), "") for d in self.service.documents]
        if not documents:
            self.write(x, y, width, words["nothing"], _Style(11.5), align="L")
            return
        for size in (11.5, 10.5, 9.5):
            if self.listed(x, y, width, documents, size, bottom, draw=False) == len(documents):
                break
        shown = self.listed(x, y, width, documents, size, bottom, draw=True)
        if shown < len(documents):
            more = words["more"].format(count=len(documents) - shown)
            self.write(x, bottom - _line_height(size), width, more, _Style(size, colour=GREY), align="L")

    def labelled(self, x: float, y: float, width: float, label: str, value: str) -> float:
        """`label  value` on one line: the label small and grey, the value bold (cut to fit)."""
        prefix = f"{label}: "
        label_w = self.measure(prefix, size=10, bold=False)
        self.write(x, y + 0.9, label_w, prefix, _Style(10, colour=GREY), align="L")
        return self.write(x + label_w, y, width - label_w, value, _Style(13, bold=True, min_size=9), align="L")

    def listed(
        self, x: float, y: float, width: float, documents: list[str], size: float, bottom: float, *, draw: bool
    ) -> int:
        """How many documents fit above `bottom` at `size` (each up to two lines), drawing them if `draw`;
        when not all fit, a line is left free for how many more there are."""
        style, bullet = _Style(size, max_lines=2), "• "
        indent = self.measure(bullet, size=size, bold=False)
        height = _line_height(size)
        shown = 0
        for number, document in enumerate(documents):
            lines = len(self.fit(document, width - indent, style)[1])
            reserve = 0 if number == len(documents) - 1 else height
            if y + (lines * height) + reserve > bottom:
                break
            if draw:
                self.write(x, y, indent, bullet, _Style(size, colour=GREEN), align="L")
                self.write(x + indent, y, width - indent, document, style, align="L")
            y += lines * height + 0.6
            shown += 1
        return shown

    def tag(self) -> None:
        """The source tag, small in the corner, so that whoever puts the poster up can tell it apart."""
        if self.source:
            width = A4_W - 2 * MARGIN
            self.write(MARGIN, A4_H - MARGIN + 4, width, f"{self.code}@{self.source}", _Style(7, colour=GREY), "R")

    # --- text (A4 millimetres and points, scaled by k when drawn) ------------------------------

    def family(self, text: str) -> str:
        if len(self.families) == 1 or text.isascii() or self.fonts.covers("telugu", text):
            return "telugu"
        return "latin"

    def measure(self, text: str, *, size: float, bold: bool) -> float:
        return self.fonts.width(self.family(text), text, bold=bold, size=size)

    def write(self, x: float, y: float, width: float, text: str, style: _Style, align: str = "C") -> float:
        """Draws `text` in a box `width` wide from `y` down, shrunk and cut to fit; returns the y below."""
        size, lines = self.fit(text, width, style)
        pdf, k, family = self.pdf, self.k, self.family(text)
        pdf.set_font(FONT_KEY, "", size * k)
        self.font.use(family, size_pt=size * k, bold=style.bold)
        pdf.set_text_color(*style.colour)
        height = _line_height(size)
        for line in lines:
            gap = width - self.measure(line, size=size, bold=style.bold)
            left = x + (gap if align == "R" else gap / 2 if align == "C" else 0)
            pdf.text(left * k, (y + (height + size * PT_TO_MM * 0.6) / 2) * k, line)  # the baseline, as cell() sets it
            y += height
        return y

    def fit(self, text: str, width: float, style: _Style) -> tuple[float, list[str]]:
        """The largest size from `style.size` down to `style.min_size` at which `text` fits in
        `style.max_lines` lines, with its lines; at the smallest, the last line ends in "…"."""
        size = style.size
        while True:
            lines = self.wrap(text, width, size=size, bold=style.bold)
            fits = len(lines) <= style.max_lines and all(
                self.measure(line, size=size, bold=style.bold) <= width for line in lines
            )
            if fits or style.min_size is None or size <= style.min_size:
                break
            size = max(style.min_size, size - 1)
        if fits:
            return size, lines
        kept = lines[: style.max_lines]
        cut = len(lines) > style.max_lines
        clipped = [self.clip(line, width, size=size, bold=style.bold) for line in kept[:-1]]
        return size, [*clipped, self.clip(kept[-1], width, size=size, bold=style.bold, more=cut)]

    def wrap(self, text: str, width: float, *, size: float, bold: bool) -> list[str]:
        """Greedy line breaking at spaces (a word wider than the line stays whole: `clip` cuts it)."""
        measure = functools.partial(self.measure, size=size, bold=bold)
        if measure(text) <= width:
            return [text]
        return greedy_lines(text.split(), width, measure)

    def clip(self, line: str, width: float, *, size: float, bold: bool, more: bool = False) -> str:
        """`line` as it is when it fits (and nothing follows it), else cut at a word, or within one, before "…"."""
        measure = functools.partial(self.measure, size=size, bold=bold)
        if not more and measure(line) <= width:
            return line
        words = line.split(" ")
        while len(words) > 1 and measure(" ".join(words) + ELLIPSIS) > width:
            words.pop()
        cut = " ".join(words)
        while cut and measure(cut + ELLIPSIS) > width:
            cut = _whole_clusters(cut[:-1])
        return cut.rstrip(" ,;:") + ELLIPSIS


def _whole_clusters(text: str) -> str:
    """`text` without a trailing vowel sign, virama or other mark whose letter was cut away."""
    while text and unicodedata.category(text[-1]).startswith("M"):
        text = text[:-1]
    return text
