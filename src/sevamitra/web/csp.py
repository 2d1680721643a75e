"""The Content-Security-Policy of an HTML page, without 'unsafe-inline'.

Each inline `<style>` or `<script>` the page carries (and each `style` attribute) is allowed by its
SHA-256, so one that an attacker managed to add would not be applied or run. Pages are rendered with
autoescaping (Jinja2, `html.escape`), so nothing a request sends can become such a block.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from collections.abc import Iterable

_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")  # an opening tag and its attributes
_STYLE_ATTRIBUTE = re.compile(r"""(?:^|\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_SRC = re.compile(r"(?:^|\s)src\s*=", re.I)
RAW_TEXT = ("style", "script")  # elements whose content is text to the end tag, never markup


def inline_blocks(page: str) -> tuple[list[str], list[str], list[str]]:
    """The page's inline style blocks, inline scripts and `style` attribute values, as a browser reads them."""
    styles: list[str] = []
    scripts: list[str] = []
    attributes: list[str] = []
    lowered = page.lower() if page.isascii() else None  # for finding end tags (lower() keeps ASCII's offsets)
    position = 0
    while (tag := _TAG.search(page, position)) is not None:
        name, attrs = tag.group(1).lower(), tag.group(2)
        position = tag.end()
        attributes += [html.unescape(m.group(1) or m.group(2) or "") for m in _STYLE_ATTRIBUTE.finditer(attrs)]
        if name not in RAW_TEXT:
            continue
        end = _end_tag(page, lowered, name, position)
        if name == "style":
            styles.append(page[position:end])
        elif not _SRC.search(attrs):
            scripts.append(page[position:end])
        position = end
    return styles, scripts, attributes


def _end_tag(page: str, lowered: str | None, name: str, start: int) -> int:
    if lowered is not None:
        found = lowered.find("</" + name, start)
    else:
        match = re.compile("</" + name, re.I).search(page, start)
        found = match.start() if match else -1
    return len(page) if found == -1 else found


@functools.lru_cache(maxsize=512)  # the same few style blocks on every page: hashed once each
def _sha256(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as the browser's HTML parser reads it
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def html_policy(page: str) -> str:
    """The Content-Security-Policy for this HTML page: same-origin everything, its own inline styles and
    scripts by hash, no plugins, no framing, forms only to us."""
    blocks, inline_scripts, style_attributes = inline_blocks(page)
    styles = ["'self'", *_hashes(blocks)]
    attributes = _hashes(style_attributes)
    if attributes:  # `style="..."`: allowed one by one ('unsafe-hashes' is what CSP calls that)
        styles += ["'unsafe-hashes'", *attributes]
    scripts = ["'self'", *_hashes(inline_scripts)]
    return (
        f"default-src 'self'; script-src {' '.join(scripts)}; style-src {' '.join(styles)}; "
        "img-src 'self' data:; media-src 'self' mediastream: blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def _hashes(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(map(_sha256, texts)))
