"""Files taken for what their bytes say, within the channel's limits for their kind."""

from __future__ import annotations

import pytest

from sevamitra.core.filetypes import MB, agrees, max_bytes, sniff

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "
OGG = b"OggS\x00\x02" + b"\x00" * 20
MP3 = b"\xff\xfb\x90\x64" + b"\x00" * 12
AAC = b"\xff\xf1\x50\x80" + b"\x00" * 12
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"
DOCX = b"PK\x03\x04\x14\x00\x06\x00"
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"
HTML = b"<!DOCTYPE html><html><script>alert(1)</script>"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PLAYLIST = b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\nhttp://169.254.169.254/latest/meta-data\n"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (OGG, "audio/ogg"),
        (MP3, "audio/mpeg"),
        (AAC, "audio/aac"),
        (b"#!AMR\n\x3c", "audio/amr"),
        (b"ID3\x04\x00\x00", "audio/mpeg"),
        (M4A, "audio/mp4"),
        (MP4, "video/mp4"),
        (DOCX, "application/zip"),
        (DOC, "application/x-ole-storage"),
        ("Survey no. 12/3, ఖాతా 45".encode(), "text/plain"),
        (HTML, None),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", None),
        (b"\x00\x01\x02\x03binary", None),
        (b"", None),
    ],
)
def test_a_file_is_known_by_its_first_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    ("declared", "data", "taken_as"),
    [
        ("application/pdf", PDF, "application/pdf"),
        ("application/pdf", HTML, None),  # an HTML page named .pdf is not served as a PDF
        ("image/jpeg", PNG, "image/png"),  # an image is served as the image it is
        ("image/png", PDF, None),
        ("audio/ogg; codecs=opus", OGG, "audio/ogg"),
        ("audio/ogg", PLAYLIST, None),  # a playlist posing as a voice note never reaches a decoder
        ("audio/mp4", MP4, "video/mp4"),
        (WORD, DOCX, WORD),  # a zip, which the stated Office type names
        ("application/msword", DOC, "application/msword"),
        ("application/msword", DOCX, None),
        ("text/plain", b"plain words", "text/plain"),
        ("text/plain", HTML, None),
    ],
)
def test_a_file_is_taken_as_its_stated_type_only_when_its_bytes_agree(
    declared: str, data: bytes, taken_as: str | None
) -> None:
    assert agrees(declared, data) == taken_as


@pytest.mark.parametrize(
    ("declared", "limit"),
    [
        ("image/jpeg", 5 * MB),
        ("image/png", 5 * MB),
        ("image/webp", 500 * 1024),  # a sticker
        ("audio/ogg; codecs=opus", 16 * MB),
        ("video/mp4", 16 * MB),
        ("application/pdf", 100 * MB),
        ("", 100 * MB),
    ],
)
def test_each_kind_has_the_channels_size_limit(declared: str, limit: int) -> None:
    assert max_bytes(declared) == limit
