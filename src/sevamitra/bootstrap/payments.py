"""What the payment routes need: the store, the gateway, its webhooks' parsers, built by bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sevamitra.core.conversation import Context
from sevamitra.core.payments import PaymentEvent, PaymentProvider, PaymentRecord, Payments
from sevamitra.core.ports import CertificateMaker, Clock

WebhookParser = Callable[[bytes, Mapping[str, str]], list[PaymentEvent]]
Outcome = Literal["paid", "failed"]


class Simulator(Protocol):
    async def complete(self, payment: PaymentRecord, outcome: Outcome, now: datetime) -> int:
        """Post the gateway's signed webhook for a press of Pay or Fail; the webhook's HTTP status."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentsWiring:
    """What the payment routes need, built by bootstrap."""

    payments: Payments
    webhooks: Mapping[str, WebhookParser]  # provider name -> its parser, secret bound
    context: Context
    maker: CertificateMaker | None
    clock: Clock
    simulator: Simulator | None = None  # the simulated gateway's page, in development only
    provider: PaymentProvider | None = None  # with `link_key`: `GET /pay/{reference}` starts a payment
    link_key: str = ""  # keys the tokens of pay links (`actions.pay.pay_link`)
    link_valid_for: timedelta | None = None  # how long an order stays payable
