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

# Our pages write tags and attributes in lower case; one written otherwise would go unhashed, so its style or
# script would be refused: a page that looks wrong, never a hole.
_RAW_TEXT = re.compile(r"<(style|script)\b([^>]*)>")  # elements whose content is text up to their end tag
_STYLE_ATTRIBUTE = re.compile(r"""style\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SRC = re.compile(r"(?:^|\s)src\s*=")


def inline_blocks(page: str) -> tuple[list[str], list[str], list[str]]:
    """The page's inline style blocks, inline scripts and `style` attribute values, as a browser reads them."""
    styles: list[str] = []
    scripts: list[str] = []
    raw: list[tuple[int, int]] = []  # where the blocks' text lies: a "style=" in there is no attribute
    position = 0
    while (tag := _RAW_TEXT.search(page, position)) is not None:
        name, start = tag.group(1), tag.end()
        end = page.find("</" + name, start)
        end = len(page) if end == -1 else end
        if name == "style":
            styles.append(page[start:end])
        elif not _SRC.search(tag.group(2)):
            scripts.append(page[start:end])
        raw.append((start, end))
        position = end
    attributes = [
        html.unescape(m.group(1) or m.group(2) or "")
        for m in _STYLE_ATTRIBUTE.finditer(page)
        if m.start() > 0 and page[m.start() - 1].isspace() and not any(a <= m.start() < b for a, b in raw)
    ]
    return styles, scripts, attributes


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
