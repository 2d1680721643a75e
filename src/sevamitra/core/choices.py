"""Reading choices a citizen tapped or typed: option ids, list numbers, labels in any language, yes and no."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from sevamitra.core.fields import Option, choice_key

_CONNECTIVES: Final = frozenset({"and", "మరియు", "और", "&"})
_MAX_WORDS: Final = 40  # per comma-separated part; more is no list of choices


def resolver(options: Sequence[Option]) -> Callable[[str], str | None]:
    """Reads a tapped id, a 1-based number, or an id or label typed in any language, as an option id."""
    by_key: dict[str, str] = {}
    for option in options:
        for text in (option.id, *option.labels.values()):
            by_key.setdefault(choice_key(text), option.id)
    ids = {option.id for option in options}

    def resolve(text: str) -> str | None:
        if text in ids:
            return text
        if text.isdecimal() and 1 <= int(text) <= len(options):
            return options[int(text) - 1].id
        return by_key.get(choice_key(text.strip(" .")))

    return resolve


def read_choices(options: Sequence[Option], text: str) -> tuple[str, ...] | None:
    """The ids named by comma- or space-separated numbers, ids or labels, in the options' order; None if any is unknown.

    Labels may hold spaces ("Fee reimbursement"), so each part is read as the longest runs of
    words that name an option.
    """
    resolve = resolver(options)
    chosen: set[str] = set()
    for part in re.split(r"[,;/+\n、]", text):
        words = [w for w in part.split() if w.casefold() not in _CONNECTIVES]
        if len(words) > _MAX_WORDS:
            return None
        start = 0
        while start < len(words):
            found = next(
                (
                    (end, option)
                    for end in range(len(words), start, -1)
                    if (option := resolve(" ".join(words[start:end])))
                ),
                None,
            )
            if found is None:
                return None
            start, option = found
            chosen.add(option)
    return tuple(o.id for o in options if o.id in chosen)


_YES: Final = frozenset(("yes", "y", "yeah", "yep", "ha", "haan", "han", "avunu", "avnu", "aunu", "ji"))
_YES_NATIVE: Final = frozenset(("అవును", "అవునండి", "హా", "हाँ", "हां", "हाँजी", "जी"))
_NO: Final = frozenset(("no", "n", "nope", "na", "nahi", "nahin", "ledu", "ledhu", "kaadu", "kadu", "kaadhu"))
_NO_NATIVE: Final = frozenset(("లేదు", "లేదండి", "కాదు", "కాదండి", "వద్దు", "नहीं", "नही", "ना"))
_POLITE: Final = frozenset(("जी", "ji", "andi", "అండి", "garu", "గారు", "sir", "madam"))
YES_WORDS: Final = _YES | _YES_NATIVE
NO_WORDS: Final = _NO | _NO_NATIVE


def read_yes_no(text: str) -> bool | None:
    """True for yes, False for no (in English, Telugu, romanised Telugu, Hindi), None otherwise."""
    words = [w for w in (w.strip(".!?,।") for w in text.casefold().split()) if w]
    content = [w for w in words if w not in _POLITE] or words  # "जी" alone means yes; "जी नहीं" means no
    if not content or not all(w in YES_WORDS or w in NO_WORDS for w in content):
        return None
    meanings = {w in YES_WORDS for w in content}
    return meanings.pop() if len(meanings) == 1 else None
