"""Signing a certificate statement into its QR payload, and checking one offline.

The checks run in a fixed order, cheapest trust decision first, and parse the claims only once
the signature is known good: unreadable → unknown_key → altered → key window → revoked →
superseded → expired → valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sevamitra.adapters.certs.cose import ALG_EDDSA, HEADER_KID, CoseError, decode1, sign1
from sevamitra.adapters.certs.keys import Signer, TrustList, verify_signature
from sevamitra.core.certificates import CertificateStatement, Status, Verdict, verdict
from sevamitra.core.qr import QrError, payload_of

RegistryStatus = Callable[[str], Status | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """A verification result. `statement` is set only when a trusted key's signature covers it."""

    verdict: Verdict
    statement: CertificateStatement | None
    kid: bytes | None
    reason: str
    cose: bytes | None = None  # the signed payload, when `statement` is set


def sign_certificate(statement: CertificateStatement, signer: Signer, kid: bytes) -> bytes:
    """The COSE_Sign1 bytes of the statement's claims, signed by `signer` (whose kid is `kid`)."""
    if kid != signer.kid:
        raise ValueError(f"kid {kid.hex()} is not the signer's ({signer.kid.hex()})")
    return sign1(statement.claims(), signer, kid)


def check_certificate(cose: bytes, trust: TrustList, registry_status: RegistryStatus, now: datetime) -> Checked:
    """The verdict on a QR payload; never raises on any input (except from `registry_status`)."""
    try:
        decoded = decode1(cose)
    except CoseError as error:
        return _failed(Verdict.UNREADABLE, None, str(error))
    kid = decoded.kid
    if kid is None:
        where = "only in the unprotected header" if HEADER_KID in decoded.unprotected else "missing"
        return _failed(Verdict.UNKNOWN_KEY, None, f"kid {where}")
    key = trust.get(kid)
    if key is None:
        return _failed(Verdict.UNKNOWN_KEY, kid, f"kid {kid.hex()} is not in the trust list")
    if decoded.alg != ALG_EDDSA:
        return _failed(Verdict.ALTERED, kid, f"alg {decoded.alg!r} in the protected header is not EdDSA (-8)")
    if not verify_signature(key.public, decoded.signature, decoded.to_be_signed):
        return _failed(Verdict.ALTERED, kid, "the signature does not verify")
    try:
        statement = CertificateStatement.from_claims(decoded.claims)
    except ValueError as error:
        return _failed(Verdict.UNREADABLE, kid, str(error))  # signed by us, but not a certificate
    if not key.covers(statement.issued_at):
        why = "revoked" if key.status == "revoked" else "not valid on the issue date"
        return _failed(Verdict.UNKNOWN_KEY, kid, f"key {kid.hex()} is {why}")
    status = registry_status(statement.number)
    result = verdict(
        signature_ok=True,
        key_known=True,
        key_valid_at_issue=True,
        statement=statement,
        status=status,
        now=now,
    )
    return Checked(verdict=result, statement=statement, kid=kid, reason=_reason(result, statement, status), cose=cose)


def verify_qr_text(
    text: str,
    trust: TrustList,
    registry_status: RegistryStatus,
    now: datetime,
    *,
    public_url: str | None = None,
) -> Checked:
    """The verdict on scanned QR text (the full link or bare base32); never raises on any text."""
    try:
        cose = payload_of(text, public_url=public_url)
    except QrError as error:
        return _failed(Verdict.UNREADABLE, None, f"qr {error}")
    return check_certificate(cose, trust, registry_status, now)


def _failed(result: Verdict, kid: bytes | None, reason: str) -> Checked:
    return Checked(verdict=result, statement=None, kid=kid, reason=reason)


def _reason(result: Verdict, statement: CertificateStatement, status: Status | None) -> str:
    if result is Verdict.SUPERSEDED and status is not None:
        return f"superseded by {status.superseded_by}"
    if result is Verdict.EXPIRED and statement.valid_until is not None:
        return f"expired at {statement.valid_until.isoformat()}"
    if result is Verdict.REVOKED and status is not None and status.reason:
        return f"revoked: {status.reason}"
    return result.value
