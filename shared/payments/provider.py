"""The payment-provider port: what the platform needs from WeChat Pay, Alipay, UnionPay (through Stripe),
ETC issuers and the sandbox. Adapters live in ``shared/adapters/payments``; the domain sees only this.

Every call that moves money carries an idempotency key chosen by the platform, so a Lambda retried after a
crash at any line asks the provider for the *same* operation again and never for a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Channel(str, Enum):
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"  # UnionPay cards (Stripe: the ``card`` method)
    ETC = "etc"  # deduction by the ETC issuer from the car's OBU account
    LEGACY = "legacy"  # paid through a lot's own pay code, reported by the lot system


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentRequest(_Msg):
    """Ask a provider to collect ``amount_fen`` for a bill. ``payment_id`` is ours and is the idempotency
    key; ``destination`` is the operator's connected account, so the money settles there (S9)."""

    payment_id: str
    bill_id: str
    amount_fen: int = Field(gt=0)
    currency: str = "cny"
    channel: Channel
    destination: str = Field(description="The lot operator's payout account (Stripe: acct_...).")
    description: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)
    # Off-session charges (pay-later): the customer and saved method to charge without the payer present.
    customer_ref: str | None = None
    payment_method_ref: str | None = None
    off_session: bool = False
    plate: str | None = Field(None, description="ETC only: the issuer finds the OBU account by plate.")


class PaymentStatus(str, Enum):
    PENDING = "pending"  # created, the payer has not finished (or the issuer not answered)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # declined; the same payment may still succeed later on a new attempt
    CANCELED = "canceled"


class ProviderPayment(_Msg):
    """The provider's answer to a create: its reference and what the payer must do next."""

    provider: str
    provider_ref: str  # e.g. a PaymentIntent id
    status: PaymentStatus
    amount_fen: int
    next_action_url: str | None = Field(None, description="A QR/redirect URL the payer opens (WeChat, Alipay).")
    client_secret: str | None = None
    decline_code: str | None = None


class ProviderRefund(_Msg):
    provider: str
    provider_ref: str  # the refund's id at the provider
    payment_ref: str
    amount_fen: int
    status: str  # pending / succeeded / failed


class CallbackKind(str, Enum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    REFUND_SUCCEEDED = "refund_succeeded"
    SETUP_SUCCEEDED = "setup_succeeded"  # a saved method for off-session charges is ready (pay-later)
    IGNORED = "ignored"  # a genuine event the platform has no use for: acknowledged, changes nothing


class CallbackEvent(_Msg):
    """A verified provider callback, in the platform's terms."""

    provider: str
    event_id: str = Field(description="The provider's id of this delivery's event (dedupe key).")
    kind: CallbackKind
    occurred_at: AwareDatetime
    provider_ref: str | None = None  # the payment (or refund / setup) it is about
    payment_id: str | None = None  # ours, from the metadata we sent
    amount_fen: int | None = Field(None, strict=True)  # "1" from a provider is malformed, not 1 fen
    decline_code: str | None = None
    # SETUP_SUCCEEDED only: the saved method and its customer, to charge off-session later (pay-later).
    payment_method_ref: str | None = None
    customer_ref: str | None = None
    raw_type: str = Field("", description="The provider's own event type, for the audit trail.")


class ProviderTransaction(_Msg):
    """One settled payment as the provider lists it, for daily reconciliation."""

    provider: str
    provider_ref: str
    payment_id: str | None
    amount_fen: int
    status: PaymentStatus
    created_at: AwareDatetime


class SetupRequest(_Msg):
    """Save a payment method for later off-session charges (pay-later registration)."""

    setup_id: str  # ours; the idempotency key
    customer_ref: str | None = None
    account_id: str
    channel: Channel = Channel.UNIONPAY
    metadata: dict[str, str] = Field(default_factory=dict)


class ProviderSetup(_Msg):
    provider: str
    provider_ref: str  # e.g. a SetupIntent id
    customer_ref: str
    status: str  # requires_action / succeeded
    payment_method_ref: str | None = None
    next_action_url: str | None = None
    client_secret: str | None = None


class ProviderError(Exception):
    """The provider could not be reached or failed (5xx, timeout): transient, retry with the same key."""


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    def refund(self, payment_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> ProviderRefund:
        """``refund_id`` is ours and the idempotency key."""
        ...

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        """Verify the signature and translate. Raises ``InvalidInput(code="bad_signature")`` when it fails."""
        ...

    def list_transactions(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        """Payments created in [start, end), for reconciliation."""
        ...

    def create_setup(self, request: SetupRequest) -> ProviderSetup: ...
