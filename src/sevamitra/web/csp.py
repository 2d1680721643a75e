"""The Content-Security-Policy of an HTML page, without 'unsafe-inline'.

Each inline `<style>` or `<script>` the page carries (and each `style` attribute) is allowed by its
SHA-256, so one that an attacker managed to add would not be applied or run. Pages are rendered with
autoescaping (Jinja2, `html.escape`), so nothing a request sends can become such a block.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I)
_SCRIPT_BLOCK = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_SRC = re.compile(r"\ssrc\s*=", re.I)


def _sha256(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as the browser's HTML parser reads it
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def html_policy(page: str) -> str:
    """The Content-Security-Policy for this HTML page: same-origin everything, its own inline styles and
    scripts by hash, no plugins, no framing, forms only to us."""
    styles = ["'self'", *_hashes(m.group(1) for m in _STYLE_BLOCK.finditer(page))]
    attributes = _hashes(html.unescape(m.group(1) or m.group(2) or "") for m in _STYLE_ATTRIBUTE.finditer(page))
    if attributes:  # `style="..."`: allowed one by one ('unsafe-hashes' is what CSP calls that)
        styles += ["'unsafe-hashes'", *attributes]
    scripts = ["'self'", *_hashes(m.group(2) for m in _SCRIPT_BLOCK.finditer(page) if not _SRC.search(m.group(1)))]
    return (
        f"default-src 'self'; script-src {' '.join(scripts)}; style-src {' '.join(styles)}; "
        "img-src 'self' data:; media-src 'self' mediastream: blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def _hashes(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(map(_sha256, texts)))
