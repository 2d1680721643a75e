"""Anchors: a signed checkpoint's hash and tree size published in a public chain, and where it landed.

An anchor is made before anything is sent and is carried by one transaction at a time until it is
confirmed; the transactions tried before the current one are kept, so that whichever of them the
chain mines is recognised. Anchors are made in increasing tree size, one in flight at a time.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime


class AnchorState(enum.StrEnum):
    SENDING = "sending"  # no successful transaction mined yet
    INCLUDED = "included"  # mined in `block`, not yet deep enough
    CONFIRMED = "confirmed"  # `confirmations` blocks deep


class ChainError(Exception):
    """The chain's node refused or could not answer; the anchor waits and is tried again."""


class FeesTooHigh(ChainError):
    """The chain's fees are above the configured cap; the anchor waits for them to fall."""


def checkpoint_hash(body: bytes) -> bytes:
    """What an anchor commits to: SHA-256 of the checkpoint body (origin, size and root lines)."""
    return hashlib.sha256(body).digest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedTransaction:
    hash: bytes
    nonce: int
    raw: bytes  # kept to broadcast it again
    max_fee: int  # wei per gas
    priority_fee: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Inclusion:
    """A transaction as mined: where, whether it succeeded, what it cost."""

    block: int
    block_hash: bytes
    succeeded: bool
    gas_used: int
    fee_paid: int  # wei


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    id: int
    size: int
    checkpoint_hash: bytes
    chain_id: int
    created_at: datetime
    state: AnchorState = AnchorState.SENDING
    transaction: SignedTransaction | None = None  # the one carrying it now
    earlier: tuple[bytes, ...] = ()  # hashes of the transactions it replaced
    sent_at: datetime | None = None
    inclusion: Inclusion | None = None
    attempts: int = 0  # transactions signed
    error: str = ""  # the last problem, kept until the anchor is included
    confirmed_at: datetime | None = None

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Every transaction hash that carried it, newest first."""
        current = (self.transaction.hash,) if self.transaction else ()
        return current + tuple(reversed(self.earlier))
