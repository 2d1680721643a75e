"""Signing keys (private halves sealed) and issued certificates, with their revocation status."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.stores import append_log_entry, enqueue_message, insert_certificate
from sevamitra.adapters.sql.tables import certificates, conversations, signing_keys
from sevamitra.core import logentries
from sevamitra.core.messages import Recipient
from sevamitra.core.ports import IssuedCertificate


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRow:
    kid: bytes
    public: bytes
    private_sealed: str
    not_before: datetime
    not_after: datetime | None
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRow:
    number: str
    reference: str
    service_id: str
    address: str
    language: str
    issued_at: datetime
    cose: bytes
    pdf: bytes
    download_token: str
    status: str
    superseded_by: str | None
    status_reason: str | None
    status_at: datetime | None


def _certificate(row: Any) -> CertificateRow:
    return CertificateRow(
        number=row.number,
        reference=row.reference,
        service_id=row.service_id,
        address=row.address,
        language=row.language,
        issued_at=row.issued_at,
        cose=row.cose,
        pdf=row.pdf,
        download_token=row.download_token,
        status=row.status,
        superseded_by=row.superseded_by,
        status_reason=row.status_reason,
        status_at=row.status_at,
    )


class SqlKeys:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self) -> list[KeyRow]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(signing_keys).order_by(signing_keys.c.not_before))
            return [
                KeyRow(
                    kid=bytes.fromhex(r.kid),
                    public=r.public,
                    private_sealed=r.private,
                    not_before=r.not_before,
                    not_after=r.not_after,
                    status=r.status,
                )
                for r in rows
            ]

    async def add(self, key: KeyRow, now: datetime) -> None:
        """A new signing key, and its key-rotation entry in the transparency log, in one transaction."""
        entry = logentries.key_rotation(
            kid=key.kid, public=key.public, not_before=int(key.not_before.timestamp()), time=int(now.timestamp())
        )
        async with self.engine.begin() as connection:
            await append_log_entry(connection, entry.encode(), None, now)
            await connection.execute(
                insert(signing_keys).values(
                    kid=key.kid.hex(),
                    public=key.public,
                    private=key.private_sealed,
                    not_before=key.not_before,
                    not_after=key.not_after,
                    status=key.status,
                    created_at=now,
                )
            )

    async def retire(self, kid: bytes, at: datetime) -> None:
        """Stop signing with a key; what it signed before `at` stays valid."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(signing_keys).where(signing_keys.c.kid == kid.hex()).values(status="retired", not_after=at)
            )


async def _salted(connection: AsyncConnection, number: str) -> tuple[bytes, bytes]:
    """A certificate's log salt (made now for one issued before the log) and its signed payload."""
    row = (
        await connection.execute(
            select(certificates.c.log_salt, certificates.c.cose).where(certificates.c.number == number)
        )
    ).first()
    if row is None:
        return secrets.token_bytes(logentries.SALT_BYTES), b""
    if row.log_salt is not None:
        return row.log_salt, row.cose
    salt = secrets.token_bytes(logentries.SALT_BYTES)
    await connection.execute(update(certificates).where(certificates.c.number == number).values(log_salt=salt))
    return salt, row.cose


def _recipient(address: str, wa_id: str | None, user_id: str | None) -> Recipient:
    """Who the holder is on WhatsApp: their conversation says; else the address (a number is a wa_id)."""
    if wa_id or user_id:
        return Recipient(wa_id=wa_id, user_id=user_id)
    return Recipient(wa_id=address) if address.isdigit() else Recipient(user_id=address)


class SqlCertificates:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        """Store a certificate in a transaction of its own (the `CertificateSink` port)."""
        async with self.engine.begin() as connection:
            await insert_certificate(connection, certificate)

    async def by_number(self, number: str) -> CertificateRow | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(certificates).where(certificates.c.number == number))).first()
        return _certificate(row) if row else None

    async def by_token(self, token: str) -> CertificateRow | None:
        async with self.engine.connect() as connection:
            query = select(certificates).where(certificates.c.download_token == token)
            row = (await connection.execute(query)).first()
        return _certificate(row) if row else None

    async def revoke(self, number: str, reason: str, now: datetime) -> bool:
        """Revoke a valid certificate, with its revocation entry in the log, in one transaction."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(certificates)
                .where(certificates.c.number == number, certificates.c.status == "valid")
                .values(status="revoked", status_reason=reason, status_at=now)
            )
            if result.rowcount != 1:
                return False
            salt, cose = await _salted(connection, number)
            entry = logentries.revocation(number=number, salt=salt, time=int(now.timestamp()), cose=cose)
            await append_log_entry(connection, entry.encode(), number, now)
        return True

    async def supersede(self, number: str, by: str, reason: str, now: datetime) -> bool:
        """Mark a certificate superseded by another (issued) one, with the supersession entry in the log."""
        async with self.engine.begin() as connection:
            if await connection.scalar(select(certificates.c.number).where(certificates.c.number == by)) is None:
                return False
            result = await connection.execute(
                update(certificates)
                .where(certificates.c.number == number, certificates.c.status == "valid")
                .values(status="superseded", superseded_by=by, status_reason=reason, status_at=now)
            )
            if result.rowcount != 1:
                return False
            (salt, _), (by_salt, _) = await _salted(connection, number), await _salted(connection, by)
            entry = logentries.supersession(number=number, salt=salt, by=by, by_salt=by_salt, time=int(now.timestamp()))
            await append_log_entry(connection, entry.encode(), number, now)
        return True

    async def alert(
        self, number: str, *, now: datetime, since: datetime, compose: Callable[[str], dict[str, Any]]
    ) -> bool:
        """Queue the holder's note `compose(language)` if they asked for notes and none went out
        after `since`; the claim (a compare-and-set on `alerted_at`) and the message commit together."""
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                update(certificates)
                .where(
                    certificates.c.number == number,
                    certificates.c.alerts.is_(True),
                    or_(certificates.c.alerted_at.is_(None), certificates.c.alerted_at <= since),
                )
                .values(alerted_at=now)
            )
            if claimed.rowcount != 1:
                return False
            holder = (
                await connection.execute(
                    select(
                        certificates.c.address, certificates.c.language, conversations.c.wa_id, conversations.c.user_id
                    )
                    .select_from(
                        certificates.outerjoin(conversations, conversations.c.address == certificates.c.address)
                    )
                    .where(certificates.c.number == number)
                )
            ).one()
            recipient = _recipient(holder.address, holder.wa_id, holder.user_id)
            await enqueue_message(connection, holder.address, recipient, compose(holder.language), now)
        return True

    async def withdrawn(self) -> list[CertificateRow]:
        """Every revoked or superseded certificate: the revocation list."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(certificates).where(certificates.c.status != "valid").order_by(certificates.c.status_at)
            )
            return [_certificate(r) for r in rows]
