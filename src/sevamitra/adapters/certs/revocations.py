"""The signed revocation list served at /.well-known/sevamitra/revocations.cbor.

A COSE_Sign1 like a certificate's, whose payload is {"iat": <unix>, "entries": [[number,
"revoked" | "superseded", superseded_by | null, <unix>], ...]}. Offline verifiers fetch it now
and then; its `iat` tells them how fresh their copy is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sevamitra.adapters.certs.cose import ALG_EDDSA, CoseError, decode1, sign1
from sevamitra.adapters.certs.keys import Signer, TrustList, verify_signature
from sevamitra.core.certificates import Status

REVOKED, SUPERSEDED = "revoked", "superseded"
Entry = tuple[str, str, str | None, datetime]  # number, revoked | superseded, superseded by, when


class RevocationListError(ValueError):
    """A revocation list that is malformed, or not signed by a trusted key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationList:
    issued_at: datetime
    kid: bytes
    statuses: Mapping[str, Status]


def sign_revocations(entries: Sequence[Entry], signer: Signer, kid: bytes, now: datetime) -> bytes:
    """The signed list (COSE_Sign1 bytes) of every revoked or superseded certificate."""
    if kid != signer.kid:
        raise ValueError(f"kid {kid.hex()} is not the signer's ({signer.kid.hex()})")
    rows = [[number, kind, by, int(at.timestamp())] for number, kind, by, at in entries]
    _statuses(rows)  # refuse to sign what no reader would accept
    return sign1({"iat": int(now.timestamp()), "entries": rows}, signer, kid)


def read_revocation_list(data: bytes, trust: TrustList) -> RevocationList:
    """The verified list; RevocationListError unless a trusted key, valid at `iat`, signed it."""
    try:
        decoded = decode1(data)
    except CoseError as error:
        raise RevocationListError(str(error)) from error
    kid = decoded.kid
    key = trust.get(kid) if kid is not None else None
    if kid is None or key is None:
        raise RevocationListError("signed by a key not in the trust list")
    if decoded.alg != ALG_EDDSA or not verify_signature(key.public, decoded.signature, decoded.to_be_signed):
        raise RevocationListError("the signature does not verify")
    issued = decoded.claims.get("iat")
    if not isinstance(issued, int) or isinstance(issued, bool):
        raise RevocationListError("iat is not an integer time")
    try:
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise RevocationListError("iat is out of range") from error
    if not key.covers(issued_at):
        raise RevocationListError(f"key {kid.hex()} was not valid when the list was issued")
    return RevocationList(issued_at=issued_at, kid=kid, statuses=_statuses(decoded.claims.get("entries")))


def read_revocations(data: bytes, trust: TrustList) -> dict[str, Status]:
    """The verified list as {certificate number: Status}; RevocationListError on a bad one."""
    return dict(read_revocation_list(data, trust).statuses)


def _statuses(entries: object) -> dict[str, Status]:
    if not isinstance(entries, list):
        raise RevocationListError("entries is not an array")
    statuses: dict[str, Status] = {}
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 4:
            raise RevocationListError("an entry is [number, kind, superseded_by, time]")
        number, kind, by, at = entry
        if not isinstance(number, str) or not isinstance(at, int) or number in statuses:
            raise RevocationListError(f"bad or repeated certificate number {number!r}")
        if kind == REVOKED and (by is None or isinstance(by, str)):
            statuses[number] = Status(revoked=True)
        elif kind == SUPERSEDED and isinstance(by, str) and by:
            statuses[number] = Status(superseded_by=by)
        else:
            raise RevocationListError(f"bad entry for {number}: {kind!r}, superseded by {by!r}")
    return statuses
