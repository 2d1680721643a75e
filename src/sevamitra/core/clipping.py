"""Cutting text to WhatsApp's limits without breaking a Telugu or Devanagari syllable."""

from __future__ import annotations

import unicodedata


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut, never inside a syllable."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and not _syllable_boundary(text, cut):
        cut -= 1
    return text[:cut].rstrip() + "…"


def _syllable_boundary(text: str, i: int) -> bool:
    """Whether a cut before `text[i]` keeps every syllable whole (no orphan vowel sign, virama, conjunct)."""
    joiners = "\u200c\u200d"
    here, before = text[i], text[i - 1]
    return not (
        unicodedata.category(here).startswith("M")
        or here in joiners
        or before in joiners
        or unicodedata.combining(before) == _VIRAMA_CLASS
    )


_VIRAMA_CLASS = 9  # Unicode canonical combining class of viramas: the next letter joins this one
