"""Payments on SQLAlchemy Core, for SQLite and PostgreSQL.

`SqlPayments.apply` records a verified event and applies it in one transaction: the event row
(its unique key makes a redelivery a no-op), the payment locked (`FOR UPDATE` on PostgreSQL;
SQLite serialises writers), the new status, and whatever the caller does on the change (the
receipt, its transparency-log entry, the messages to the citizen, the seat confirmed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.bookings import confirm_places, release_places
from sevamitra.adapters.sql.engine import is_sqlite
from sevamitra.adapters.sql.stores import (
    enqueue_message,
    insert_certificate,
    insert_payment,
    record_event,
    unseal_json,
)
from sevamitra.adapters.sql.tables import (
    applications,
    payment_events,
    payments,
    reference_counters,
)
from sevamitra.core.applications import Status, format_reference
from sevamitra.core.messages import Recipient
from sevamitra.core.payments import (
    RECEIPT_PREFIX,
    AmountMismatch,
    Applied,
    BookingOutcome,
    OnChange,
    Payable,
    PayingApplication,
    PaymentEvent,
    PaymentRecord,
    PaymentStatus,
    apply_event,
    paise,
)
from sevamitra.core.ports import IssuedCertificate, Sealer

log = logging.getLogger(__name__)


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _record(row: Any) -> PaymentRecord:
    detail: Mapping[str, Any] = row.detail or {}
    return PaymentRecord(
        id=row.id,
        reference=row.reference,
        address=row.address,
        provider=row.provider,
        provider_ref=row.provider_ref,
        amount_paise=row.amount_paise,
        status=PaymentStatus(row.status),
        link=row.link,
        created_at=row.created_at,
        updated_at=row.updated_at,
        paid_at=row.paid_at,
        expires_at=_when(detail.get("expires_at")),
        purpose=str(detail.get("purpose", "")),
        message=detail.get("message"),
        transaction_id=detail.get("transaction_id"),
    )


def _upsert(engine: AsyncEngine) -> Any:
    return sqlite_insert if is_sqlite(engine) else pg_insert


# ---------------------------------------------------------------- payments


@dataclass
class SqlPaymentTransaction:
    """One payment whose status an event has just changed, in the event's transaction."""

    connection: AsyncConnection
    sealer: Sealer
    payment: PaymentRecord
    previous: PaymentStatus
    event: PaymentEvent
    now: datetime
    sqlite: bool
    application: PayingApplication | None = None

    async def add_certificate(self, certificate: IssuedCertificate) -> None:
        await insert_certificate(self.connection, certificate)

    async def notify(self, recipient: Recipient, address: str, payload: dict[str, Any]) -> None:
        """A message in the outbox, sent after the commit."""
        await enqueue_message(self.connection, address, recipient, payload, self.now)

    async def receipt_number(self, year: int) -> str:
        """The next receipt number: one upsert, so two first receipts of a year never collide."""
        counter = (sqlite_insert if self.sqlite else pg_insert)(reference_counters).values(
            prefix=RECEIPT_PREFIX, year=year, last=1
        )
        statement = counter.on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last": reference_counters.c.last + 1}
        ).returning(reference_counters.c.last)
        number = (await self.connection.execute(statement)).scalar_one()
        return format_reference(RECEIPT_PREFIX, year, int(number))

    async def other_paid(self) -> bool:
        count = await self.connection.scalar(
            select(func.count())
            .select_from(payments)
            .where(
                payments.c.reference == self.payment.reference,
                payments.c.id != self.payment.id,
                payments.c.status.in_((PaymentStatus.PAID.value, PaymentStatus.REFUNDED.value)),
            )
        )
        return bool(count)

    async def confirm_booking(self) -> BookingOutcome:
        return await confirm_places(self.connection, self.payment.reference, self.now, sqlite=self.sqlite)

    async def history(self, kind: str, detail: dict[str, Any]) -> None:
        await record_event(self.connection, self.payment.reference, self.now, "payment", kind, detail)

    async def issued(self) -> None:
        await self.connection.execute(
            update(applications)
            .where(applications.c.reference == self.payment.reference, applications.c.status == Status.DECIDED.value)
            .values(status=Status.ISSUED.value, updated_at=self.now)
        )

    async def release_booking(self) -> None:
        await release_places(self.connection, self.payment.reference, sqlite=self.sqlite)

    async def refund_due(self, reason: str) -> None:
        detail = dict(await self._detail())
        detail["refund_due"] = reason
        await self.connection.execute(update(payments).where(payments.c.id == self.payment.id).values(detail=detail))

    async def _detail(self) -> Mapping[str, Any]:
        detail = await self.connection.scalar(select(payments.c.detail).where(payments.c.id == self.payment.id))
        return detail or {}


@dataclass
class SqlPayments:
    engine: AsyncEngine
    sealer: Sealer
    sqlite: bool = field(init=False)

    def __post_init__(self) -> None:
        self.sqlite = is_sqlite(self.engine)

    async def create(
        self,
        *,
        reference: str,
        address: str,
        provider: str,
        provider_ref: str,
        amount_paise: int,
        link: str | None,
        now: datetime,
        expires_at: datetime | None = None,
        purpose: str = "",
        message: Mapping[str, Any] | None = None,
    ) -> PaymentRecord:
        async with self.engine.begin() as connection:
            row = await insert_payment(
                connection,
                reference=reference,
                address=address,
                provider=provider,
                provider_ref=provider_ref,
                amount_paise=amount_paise,
                link=link,
                now=now,
                expires_at=expires_at,
                purpose=purpose,
                message=message,
            )
        return _record(row)

    async def latest_for(self, reference: str) -> PaymentRecord | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(payments).where(payments.c.reference == reference).order_by(payments.c.id.desc()).limit(1)
                )
            ).first()
        return _record(row) if row else None

    async def by_provider_ref(self, provider_ref: str) -> PaymentRecord | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(payments).where(payments.c.provider_ref == provider_ref))).first()
        return _record(row) if row else None

    async def payable(self, reference: str) -> Payable | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        applications.c.reference,
                        applications.c.service_id,
                        applications.c.language,
                        applications.c.address,
                        applications.c.fee_inr,
                    ).where(applications.c.reference == reference)
                )
            ).first()
        if row is None:
            return None
        fee = paise(row.fee_inr) if row.fee_inr else None
        return Payable(
            reference=row.reference,
            service_id=row.service_id,
            language=row.language,
            address=row.address,
            fee_paise=fee,
        )

    async def apply(self, event: PaymentEvent, now: datetime, on_change: OnChange) -> Applied:
        async with self._locked(event, now) as (connection, row):
            if connection is None:
                return Applied(outcome="duplicate", payment=_record(row) if row else None)
            if row is None:
                log.warning(
                    "payment event %s for unknown %s order %s", event.event_key, event.provider, event.provider_ref
                )
                return Applied(outcome="unknown")
            record = _record(row)
            try:
                new = apply_event(record.status, event, record.amount_paise)
            except AmountMismatch as error:
                log.error("payment %s: %s; event %s refused", record.id, error, event.event_key)
                await connection.execute(
                    update(payment_events)
                    .where(payment_events.c.event_key == event.event_key)
                    .values(detail=_event_detail(event) | {"refused": str(error)})
                )
                return Applied(outcome="rejected", payment=record)
            if new is None:
                return Applied(outcome="ignored", payment=record)
            return await self._change(connection, row, new, event, now, on_change)

    async def refund(self, reference: str, now: datetime, on_change: OnChange) -> Applied | None:
        """A refund recorded here (after the provider's refund, or one owed): the paid payment of
        the reference becomes refunded, once."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(payments)
                    .where(payments.c.reference == reference, payments.c.status == PaymentStatus.PAID.value)
                    .order_by(payments.c.id.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        event = PaymentEvent(
            provider=row.provider,
            event_key=f"refund:{row.id}",
            provider_ref=row.provider_ref,
            kind="refunded",
            amount_paise=row.amount_paise,
            at=now,
        )
        return await self.apply(event, now, on_change)

    @asynccontextmanager
    async def _locked(self, event: PaymentEvent, now: datetime) -> AsyncIterator[tuple[AsyncConnection | None, Any]]:
        """The payment row locked, with the event recorded; no connection when it was recorded before."""
        async with self.engine.begin() as connection:
            query = select(payments).where(
                payments.c.provider == event.provider, payments.c.provider_ref == event.provider_ref
            )
            row = (await connection.execute(query if self.sqlite else query.with_for_update())).first()
            recorded = await connection.execute(
                _upsert(self.engine)(payment_events)
                .values(
                    event_key=event.event_key,
                    payment_id=row.id if row else None,
                    kind=event.kind,
                    at=event.at,
                    detail=_event_detail(event),
                )
                .on_conflict_do_nothing(index_elements=["event_key"])
                .returning(payment_events.c.id)
            )
            yield (connection if recorded.first() is not None else None), row

    async def _change(
        self,
        connection: AsyncConnection,
        row: Any,
        new: PaymentStatus,
        event: PaymentEvent,
        now: datetime,
        on_change: OnChange,
    ) -> Applied:
        record, detail = _record(row), dict(row.detail or {})
        values: dict[str, Any] = {"status": new.value, "updated_at": now}
        changed = replace(record, status=new, updated_at=now)
        if new is PaymentStatus.PAID:
            values["paid_at"] = event.at
            if event.transaction_id:
                detail["transaction_id"] = event.transaction_id
            values["detail"] = detail
            changed = replace(changed, paid_at=event.at, transaction_id=event.transaction_id or record.transaction_id)
        await connection.execute(update(payments).where(payments.c.id == record.id).values(**values))
        tx = SqlPaymentTransaction(
            connection=connection,
            sealer=self.sealer,
            payment=changed,
            previous=record.status,
            event=event,
            now=now,
            sqlite=self.sqlite,
            application=await self._application(connection, record.reference),
        )
        await on_change(tx)
        return Applied(outcome="changed", payment=changed, previous=record.status)

    async def _application(self, connection: AsyncConnection, reference: str) -> PayingApplication | None:
        query = select(applications).where(applications.c.reference == reference)
        row = (await connection.execute(query if self.sqlite else query.with_for_update())).first()
        if row is None:
            return None
        return PayingApplication(
            reference=row.reference,
            service_id=row.service_id,
            language=row.language,
            address=row.address,
            recipient=Recipient(wa_id=row.wa_id, user_id=row.user_id),
            answers=unseal_json(self.sealer, row.answers),
            status=row.status,
            decision=row.decision,
        )


def _event_detail(event: PaymentEvent) -> dict[str, Any]:
    return {
        "provider": event.provider,
        "provider_ref": event.provider_ref,
        "amount_paise": event.amount_paise,
        "transaction_id": event.transaction_id,
    }
