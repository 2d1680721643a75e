"""What a certificate PDF shows: the statement plus everything printed around it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sevamitra.core.certificates import CertificateStatement

LANGUAGE_SETS = (("te", "en"), ("te", "en", "hi"))


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateDocument:
    """A certificate to render; all wording comes from the catalogue, none from code."""

    statement: CertificateStatement
    qr_text: str  # what the QR encodes: an upper-case URL keeps it in compact alphanumeric mode
    languages: tuple[str, ...]  # ("te", "en") or ("te", "en", "hi")
    title: Mapping[str, str]  # the certificate's name by language
    lines: tuple[tuple[Mapping[str, str], str], ...]  # (label by language, value as printed)
    verify_url: str
    texts: Mapping[str, Mapping[str, str]]  # certificates.yaml texts by language

    def __post_init__(self) -> None:
        if self.languages not in LANGUAGE_SETS:
            raise ValueError(f"languages must be one of {LANGUAGE_SETS}, not {self.languages}")
        for language in self.languages:
            if language not in self.texts:
                raise ValueError(f"no certificate texts for {language!r}")

    def text(self, language: str, key: str) -> str:
        """The catalogue text `key` in `language`; KeyError names a key missing from the locale file."""
        try:
            return self.texts[language][key]
        except KeyError as error:
            raise KeyError(f"certificates.yaml ({language}) has no {key!r}") from error
