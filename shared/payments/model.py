"""Payments and refunds as the platform records them. Pure: no I/O.

A payment record is written *before* the provider is asked, so every callback finds its payment; its id is
the idempotency key sent to the provider. Status moves forward only: a late ``failed`` never undoes a
``succeeded`` (providers deliver out of order), and ``succeeded`` is applied to the bill exactly once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from shared.payments.provider import Channel


class PaymentState(str, Enum):
    CREATED = "created"  # recorded; the provider has not answered yet
    PENDING = "pending"  # the provider has it; the payer (or the issuer) has not finished
    FAILED = "failed"  # declined; may still succeed (a payer retries on the same intent)
    SUCCEEDED = "succeeded"  # applied to the bill and posted, once


class PaymentSource(str, Enum):
    PAY_CODE = "pay_code"  # the unified QR code, at a lane or inside the lot (prepay)
    ETC = "etc"  # deduction by the ETC issuer at the exit
    LEGACY = "legacy"  # a lot's own pay code, reported by the lot system
    OFF_SESSION = "off_session"  # pay-later: the saved method charged without the payer
    RECONCILIATION = "reconciliation"  # found at the provider, missing here (a lost callback)


class Payment(BaseModel):
    payment_id: str
    bill_id: str
    provider: str
    channel: Channel
    source: PaymentSource
    amount_fen: int = Field(gt=0)
    state: PaymentState = PaymentState.CREATED
    provider_ref: str | None = None
    next_action_url: str | None = None
    decline_code: str | None = None
    created_at: datetime
    succeeded_at: datetime | None = None
    refunded_fen: int = Field(0, ge=0)
    refunds: list[str] = Field(default_factory=list, description="Refund ids requested against it.")
    allocations: dict[str, int] = Field(default_factory=dict, description=(
        "A payment for several bills (a citizen's arrears paid together): fen per bill id, in the order they are "
        "applied; ``bill_id`` is then the first of them. Empty: the whole amount is ``bill_id``'s."))
    succeeded_event: str | None = Field(None, description=(
        "The provider's callback event that applied it (issue 10): the payment is that delivery's receipt, "
        "written in the same transaction, so no separate receipt item is stored for it."))
    version: int = 1

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.state is PaymentState.SUCCEEDED else 0

    def shares(self, amount_fen: int | None = None) -> dict[str, int]:
        """Fen per bill for a received ``amount_fen`` (default: the amount asked). Bills are filled in order;
        a provider that collected more than asked leaves the surplus on the last bill, to be refunded."""
        amount = self.amount_fen if amount_fen is None else amount_fen
        if not self.allocations:
            return {self.bill_id: amount}
        out, left = {}, amount
        for bill_id, fen in self.allocations.items():
            out[bill_id] = min(fen, left)
            left -= out[bill_id]
        last = next(reversed(out))
        out[last] += left
        return {k: v for k, v in out.items() if v > 0}

    def bumped(self, **changes) -> Payment:
        return self.model_copy(update={**changes, "version": self.version + 1})


class RefundState(str, Enum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"


class RefundReason(str, Enum):
    DUPLICATE = "duplicate"  # the bill was already paid through another channel
    DISPUTE = "dispute"  # staff reduced the bill
    REQUESTED = "requested_by_customer"
    CORRECTION = "correction"  # the lot corrected or voided the session (issue 11)
    PRICE_CORRECTED = "price_corrected"  # a fact that arrived late lowered the price (a charging report)


class Refund(BaseModel):
    refund_id: str
    payment_id: str
    bill_id: str
    provider: str
    amount_fen: int = Field(gt=0)
    reason: RefundReason
    state: RefundState = RefundState.REQUESTED
    provider_ref: str | None = None
    created_at: datetime
    succeeded_at: datetime | None = None
    version: int = 1

    def bumped(self, **changes) -> Refund:
        return self.model_copy(update={**changes, "version": self.version + 1})


def payment_id_for(*parts: object) -> str:
    """Deterministic from what makes the request the same request, so a retry reuses the payment."""
    return "pay_" + hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:24]


def refund_id_for(payment_id: str, reason: RefundReason, sequence: int = 0) -> str:
    return f"rf_{payment_id.removeprefix('pay_')}_{reason.value[:3]}{sequence}"
