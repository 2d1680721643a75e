"""Reading QR codes out of what people have: a photo of a certificate, or its PDF."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo at most: more is no phone camera, and would eat memory
PDF_DPI = 200
PDF_PAGES = 2  # the QR is on the first page; a second covers a cover letter in front


class ScanError(ValueError):
    """Not an image or PDF we can read, or too large."""


def qr_texts(data: bytes) -> list[str]:
    """The texts of every QR code found in an image or the first pages of a PDF."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScanError("file too large")
    images = _pdf_pages(data) if data.startswith(b"%PDF") else [_image(data)]
    texts: list[str] = []
    for image in images:
        texts += [c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    return texts


# what phones and scanners produce; never EPS and the like, which Pillow hands to Ghostscript
PHOTO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


def _image(data: bytes) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
        pixels = image.width * image.height
        if pixels <= MAX_PIXELS:  # Pillow only warns up to twice its limit
            image.load()
            return image.convert("L")
    except Exception as error:  # Pillow's decoders raise many types on corrupt input (OSError, SyntaxError, ...)
        raise ScanError(f"not a readable image: {error}") from error
    raise ScanError(f"an image of {pixels} pixels, more than {MAX_PIXELS}")


def _pdf_pages(data: bytes) -> list[Image.Image]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise ScanError(f"not a readable PDF: {error}") from error
    try:
        return [
            document[i].render(scale=PDF_DPI / 72).to_pil().convert("L") for i in range(min(len(document), PDF_PAGES))
        ]
    except pdfium.PdfiumError as error:  # a page that does not load or render
        raise ScanError(f"not a readable PDF: {error}") from error
    finally:
        document.close()
