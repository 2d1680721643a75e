"""What a file is, by its first bytes, and how large the channel lets each kind be.

A citizen's file is taken for what its bytes say, never for its name or the MIME type its sender
declared: a "PDF" that is an HTML page is not served as a PDF, a "voice note" that is a playlist is not
handed to the audio decoder. The size limits are WhatsApp Cloud API's for media: images 5 MB, audio and
video 16 MB, documents 100 MB (stickers 500 KB); a larger file is refused from its stated size, before
it is downloaded.
"""

from __future__ import annotations

from typing import Final

MB: Final = 1024 * 1024
IMAGE_MAX_BYTES: Final = 5 * MB
AUDIO_MAX_BYTES: Final = 16 * MB
VIDEO_MAX_BYTES: Final = 16 * MB
DOCUMENT_MAX_BYTES: Final = 100 * MB
STICKER_MAX_BYTES: Final = 500 * 1024

AUDIO: Final = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr"})
IMAGES: Final = frozenset({"image/jpeg", "image/png", "image/webp"})
# What each declared type may turn out to be: a declared type whose bytes say otherwise is refused.
SAME_KIND: Final = {
    "audio/opus": AUDIO,
    "video/3gpp": frozenset({"video/mp4", "audio/mp4"}),
    "video/mp4": frozenset({"video/mp4", "audio/mp4"}),
    "audio/mp4": frozenset({"audio/mp4", "video/mp4"}),  # an .m4a and an .mp4 share the ISO box format
    "audio/ogg": AUDIO,
    "audio/mpeg": AUDIO,
    "audio/aac": AUDIO,
    "audio/amr": AUDIO,
    **dict.fromkeys(IMAGES, IMAGES),  # served as what the bytes say it is
}
_OOXML: Final = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
_OLE: Final = ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint")


def max_bytes(mime_type: str) -> int:
    """The channel's limit for a file of this declared type."""
    kind = _base(mime_type)
    if kind.startswith("image/"):
        return STICKER_MAX_BYTES if kind == "image/webp" else IMAGE_MAX_BYTES
    if kind.startswith("audio/"):
        return AUDIO_MAX_BYTES
    if kind.startswith("video/"):
        return VIDEO_MAX_BYTES
    return DOCUMENT_MAX_BYTES


def sniff(data: bytes) -> str | None:
    """The file's type by its magic bytes; None when it is none of the kinds a citizen may send."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # an MP3 frame's sync word; AAC's ADTS header has the same eleven bits and layer 0
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"  # an Office Open XML document is a zip; which one, the name says
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # a legacy Word, Excel or PowerPoint file
    if _is_text(data[:4096]):
        return "text/plain"
    return None


def agrees(declared: str, data: bytes) -> str | None:
    """The type to treat the file as, when its bytes agree with what its sender declared; else None."""
    kind, found = _base(declared), sniff(data)
    if found is None:
        return None
    if found == kind or found in SAME_KIND.get(kind, frozenset()):
        return found
    if (found == "application/zip" and kind in _OOXML) or (found == "application/x-ole-storage" and kind in _OLE):
        return kind
    return None


def _is_text(sample: bytes) -> bool:
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 3  # a character cut at the sample's end
    return not sample.lstrip().lower().startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script"))


def _base(mime_type: str) -> str:
    return mime_type.partition(";")[0].strip().lower()
