"""Uploads are read only as the photo formats phones and scanners make: an EPS file (which Pillow would hand
to Ghostscript) is refused like any unreadable upload."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sevamitra.adapters.qr_scan import ScanError, qr_texts

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\nshowpage\n"


def test_an_eps_upload_is_refused_before_any_interpreter_sees_it() -> None:
    with pytest.raises(ScanError, match="not a readable image"):
        qr_texts(EPS)


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP", "BMP"])
def test_photo_formats_are_read(kind: str) -> None:
    encoded = io.BytesIO()
    Image.new("L", (64, 64), color=255).save(encoded, kind)
    assert qr_texts(encoded.getvalue()) == []  # read, and no QR code in a blank picture
