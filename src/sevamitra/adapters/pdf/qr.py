"""The verification QR: error correction Q, alphanumeric mode, a fixed mask.

segno tries all eight masks to pick the best, which costs four to five times the encoding itself
(a version 23 symbol, ~850 characters: 30 ms against 6 ms; version 7: 5 ms against 1 ms). Any mask
decodes; the choice only avoids patterns marginally harder to scan. The symbol goes into the PDF as
a small grey-scale image, two pixels a module: cheaper in fpdf2 than a rectangle per dark run.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from PIL import Image

MASK = 0
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
PIXELS_PER_MODULE = 2  # sharp edges where a viewer smooths an enlarged image; 4 costs 2 ms more
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_GREY = bytes([255, 0]) + bytes(254)  # segno's module values (0 light, 1 dark) -> grey levels


@dataclass(frozen=True, slots=True)
class QrImage:
    image: Image.Image  # the symbol with its quiet zone
    modules: int  # modules across the symbol itself, without the quiet zone


def qr_image(text: str) -> QrImage:
    """The QR for `text`; alphanumeric mode when `text` allows it (upper-case URLs do)."""
    mode = "alphanumeric" if set(text) <= _ALPHANUMERIC else None
    qr = segno.make(text, error="Q", mode=mode, mask=MASK, boost_error=False, micro=False)
    matrix = qr.matrix
    modules = len(matrix)
    side = modules + 2 * QUIET_ZONE
    white, margin = b"\xff" * side, b"\xff" * QUIET_ZONE
    rows = [white] * QUIET_ZONE
    rows += [margin + bytes(row).translate(_GREY) + margin for row in matrix]
    rows += [white] * QUIET_ZONE
    image = Image.frombytes("L", (side, side), b"".join(rows))
    scaled = side * PIXELS_PER_MODULE
    return QrImage(image.resize((scaled, scaled), Image.Resampling.NEAREST), modules)
