"""Citizen-facing texts, by language and key; loaded from locale files, never written in code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sevamitra.core.catalogue import FALLBACK_LANGUAGE


class MissingText(KeyError):
    """A key is in no locale: a bug in the locale files, caught by tests."""


@dataclass(frozen=True, slots=True)
class Texts:
    """`texts.get("te", "greeting", name="Ravi")` formats the Telugu template, falling back to English."""

    by_language: Mapping[str, Mapping[str, str]]

    def get(self, language: str, key: str, /, **params: object) -> str:
        template = self.by_language.get(language, {}).get(key)
        if template is None:
            template = self.by_language.get(FALLBACK_LANGUAGE, {}).get(key)
        if template is None:
            raise MissingText(key)
        return template.format(**params) if params else template

    def variants(self, key: str) -> frozenset[str]:
        """Every language's text for `key`, e.g. all the words that mean "menu"."""
        return frozenset(t for texts in self.by_language.values() if (t := texts.get(key)) is not None)
