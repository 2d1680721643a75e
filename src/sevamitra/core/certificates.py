"""Certificates: the statement a certificate makes, its signed claims, and verification verdicts.

The claims travel in the QR code as a CWT (RFC 8392) inside COSE_Sign1, so anyone can verify a
certificate offline. They hold only what the paper shows, with identifiers masked, plus a hash of
the full record, never more personal data than the holder already carries on paper.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# CWT claim keys (RFC 8392) and our private claim (a negative key, as the EU DCC's hcert uses -260).
CLAIM_ISSUER = 1
CLAIM_EXPIRY = 4
CLAIM_ISSUED_AT = 6
CLAIM_CERTIFICATE = -70001

# Keys inside the private claim: short, since every byte makes the QR denser.
K_NUMBER, K_KIND, K_SERVICE, K_HOLDER, K_IDS, K_FACTS, K_OFFICE, K_OFFICER, K_RECORD = (
    "n", "k", "s", "h", "i", "f", "o", "p", "r",
)  # fmt: skip


class Verdict(StrEnum):
    VALID = "valid"
    ALTERED = "altered"  # the signature does not match: altered or forged
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    UNKNOWN_KEY = "unknown_key"  # signed by a key the state does not trust (or not for that date)
    UNREADABLE = "unreadable"  # not a certificate QR at all, or damaged beyond reading


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateStatement:
    """What a certificate says, exactly as printed (identifiers masked)."""

    number: str  # the certificate number, e.g. AP-REV-INC-2026-000123
    kind: str  # the template, e.g. revenue-certificate
    service_id: str
    issuer: str  # e.g. "Government of Andhra Pradesh"
    issued_at: datetime
    valid_until: datetime | None
    holder: Mapping[str, str]  # the holder's name by language as printed (te, en, hi)
    masked_ids: Mapping[str, str] = field(default_factory=dict)  # {"aadhaar": "XXXX XXXX 1234"}
    facts: tuple[tuple[str, str], ...] = ()  # (label key, value) as printed
    office: Mapping[str, str] = field(default_factory=dict)  # the issuing office, by language
    officer: str = ""  # the officer's designation (or name) as printed
    record_hash: bytes = b""  # SHA-256 of the full stored record

    def claims(self) -> dict[int, Any]:
        """The CWT claims set (a CBOR map once encoded)."""
        claims: dict[int, Any] = {
            CLAIM_ISSUER: self.issuer,
            CLAIM_ISSUED_AT: int(self.issued_at.timestamp()),
            CLAIM_CERTIFICATE: {
                K_NUMBER: self.number,
                K_KIND: self.kind,
                K_SERVICE: self.service_id,
                K_HOLDER: dict(self.holder),
                K_IDS: dict(self.masked_ids),
                K_FACTS: [list(f) for f in self.facts],
                K_OFFICE: dict(self.office),
                K_OFFICER: self.officer,
                K_RECORD: self.record_hash,
            },
        }
        if self.valid_until is not None:
            claims[CLAIM_EXPIRY] = int(self.valid_until.timestamp())
        return claims

    @staticmethod
    def from_claims(claims: Mapping[int, Any]) -> CertificateStatement:
        """The statement back from decoded claims; ValueError when they are not ours.

        Strict about types (the claims may come from an untrusted QR): text must be text, times
        integers, the record hash bytes; nothing is coerced.
        """
        try:
            body = _mapping(claims[CLAIM_CERTIFICATE])
            expiry = claims.get(CLAIM_EXPIRY)
            return CertificateStatement(
                number=_text(body[K_NUMBER]),
                kind=_text(body[K_KIND]),
                service_id=_text(body[K_SERVICE]),
                issuer=_text(claims[CLAIM_ISSUER]),
                issued_at=_time(claims[CLAIM_ISSUED_AT]),
                valid_until=_time(expiry) if expiry is not None else None,
                holder=_texts(body[K_HOLDER]),
                masked_ids=_texts(body.get(K_IDS, {})),
                facts=tuple(_pair(fact) for fact in _list(body.get(K_FACTS, []))),
                office=_texts(body.get(K_OFFICE, {})),
                officer=_text(body.get(K_OFFICER, "")),
                record_hash=_bytes(body.get(K_RECORD, b"")),
            )
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
            raise ValueError(f"not certificate claims: {error}") from error


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return value


def _time(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer time, got {type(value).__name__}")
    return datetime.fromtimestamp(value, UTC)


def _mapping(value: object) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a map, got {type(value).__name__}")
    return value


def _list(value: object) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value


def _texts(value: object) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in _mapping(value).items()}


def _pair(value: object) -> tuple[str, str]:
    items = _list(value)
    if len(items) != 2:
        raise ValueError("a fact is a [label, value] pair")
    return _text(items[0]), _text(items[1])


def record_hash(record: Mapping[str, Any]) -> bytes:
    """SHA-256 of a record's canonical JSON: binds the QR to the full stored application."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """What the state's registers say about one certificate number."""

    revoked: bool = False
    superseded_by: str | None = None
    reason: str = ""


def verdict(
    *,
    signature_ok: bool,
    key_known: bool,
    key_valid_at_issue: bool,
    statement: CertificateStatement | None,
    status: Status | None,
    now: datetime,
) -> Verdict:
    """The one-word answer a verifier gives, in order of what matters most."""
    if statement is None:
        return Verdict.UNREADABLE
    if not key_known:
        return Verdict.UNKNOWN_KEY
    if not signature_ok:
        return Verdict.ALTERED
    if not key_valid_at_issue:
        return Verdict.UNKNOWN_KEY  # a key used outside its validity window (e.g. after retirement)
    if status is not None and status.revoked:
        return Verdict.REVOKED
    if status is not None and status.superseded_by:
        return Verdict.SUPERSEDED
    if statement.valid_until is not None and now > statement.valid_until:
        return Verdict.EXPIRED
    return Verdict.VALID
