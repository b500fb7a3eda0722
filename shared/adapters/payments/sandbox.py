"""The sandbox PSP: an in-memory provider for the embedded local stack and tests that behaves like a real
one (idempotency keys, a payer who approves or declines later, signed callbacks that arrive late, twice,
out of order or never), so the platform's payment code is exercised against the awkward cases."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.adapters.payments import signed_callbacks
from shared.adapters.payments.outbox import CallbackSimulator, DeliveryBehaviour
from shared.clock import SHANGHAI, Clock
from shared.errors import Conflict, InvalidInput, NotFound
from shared.payments.provider import (
    CallbackEvent,
    CallbackKind,
    Channel,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderSetup,
    ProviderTransaction,
    SetupRequest,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
PAYER_PRESENT = frozenset({Channel.WECHAT_PAY, Channel.ALIPAY, Channel.UNIONPAY})
_KINDS = {
    "payment.succeeded": CallbackKind.PAYMENT_SUCCEEDED,
    "payment.failed": CallbackKind.PAYMENT_FAILED,
    "refund.succeeded": CallbackKind.REFUND_SUCCEEDED,
    "setup.succeeded": CallbackKind.SETUP_SUCCEEDED,
}


@dataclass
class Behaviour(DeliveryBehaviour):
    """The sandbox's knobs. A plate or saved method in a decline set is declined (off-session at once,
    payer-present when the payer approves); the ``*_next_*`` counters are consumed one call at a time."""

    decline_plates: set[str] = field(default_factory=set)
    decline_payment_methods: set[str] = field(default_factory=set)
    decline_code: str = "card_declined"
    fail_next_off_session: int = 0
    error_next_create: int = 0


@dataclass
class _Intent:
    ref: str
    request: PaymentRequest  # what was asked for: the idempotency check compares against it
    created_at: datetime
    amount_fen: int  # what the provider records (``tamper_amount`` changes only this)
    status: PaymentStatus = PaymentStatus.PENDING
    next_action_url: str | None = None
    decline_code: str | None = None
    refunded_fen: int = 0


def _ref(prefix: str, key: str) -> str:
    """Deterministic from our idempotency key, so a retried create finds the same object."""
    return f"sbx_{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class SandboxProvider(CallbackSimulator):
    name = "sandbox"

    def __init__(
        self,
        clock: Clock,
        *,
        webhook_secret: str,
        base_url: str = "http://localhost:8000/sandbox",
        behaviour: Behaviour | None = None,
        tolerance_s: int = signed_callbacks.DEFAULT_TOLERANCE_S,
    ) -> None:
        super().__init__(clock, webhook_secret, SIGNATURE_HEADER, behaviour or Behaviour())
        self.behaviour: Behaviour
        self.webhook_secret = webhook_secret
        self.base_url = base_url.rstrip("/")
        self.tolerance_s = tolerance_s
        self._intents: dict[str, _Intent] = {}
        self._refunds: dict[str, ProviderRefund] = {}
        self._setups: dict[str, ProviderSetup] = {}

    # -- the port ----------------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        with self._lock:
            if self.behaviour.error_next_create > 0:
                self.behaviour.error_next_create -= 1
                raise ProviderError("sandbox: simulated provider outage")
            ref = _ref("pi", request.payment_id)
            existing = self._intents.get(ref)
            if existing is not None:
                if (existing.request.amount_fen, existing.request.channel) != (request.amount_fen, request.channel):
                    raise InvalidInput("Idempotency key reused with other parameters", code="idempotency_key_reused")
                return self._snapshot(existing)
            if request.off_session and not request.payment_method_ref:
                raise InvalidInput("An off-session charge needs a saved payment method", code="payment_method_required")
            intent = _Intent(ref, request, self._clock.now(), request.amount_fen)
            self._intents[ref] = intent
            if request.off_session:
                declined = self.behaviour.fail_next_off_session > 0 or self._declines(intent)
                if self.behaviour.fail_next_off_session > 0:
                    self.behaviour.fail_next_off_session -= 1
                self._resolve(intent, self.behaviour.decline_code if declined else None)
            elif request.channel in PAYER_PRESENT:
                intent.next_action_url = f"{self.base_url}/pay/{ref}"
            return self._snapshot(intent)

    def refund(self, payment_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> ProviderRefund:
        with self._lock:
            if refund_id in self._refunds:
                done = self._refunds[refund_id]
                if (done.payment_ref, done.amount_fen) != (payment_ref, amount_fen):
                    raise InvalidInput("Idempotency key reused with other parameters", code="idempotency_key_reused")
                return done
            intent = self._get(payment_ref)
            if intent.status is not PaymentStatus.SUCCEEDED:
                raise InvalidInput("Only a succeeded payment can be refunded", code="payment_not_captured")
            if amount_fen <= 0:
                raise InvalidInput("A refund must be positive", code="invalid_amount")
            if intent.refunded_fen + amount_fen > intent.amount_fen:
                raise InvalidInput(
                    "The refund exceeds what is left of the payment",
                    code="refund_exceeds_payment",
                    refundable_fen=intent.amount_fen - intent.refunded_fen,
                )
            intent.refunded_fen += amount_fen
            refund = ProviderRefund(
                provider=self.name,
                provider_ref=_ref("re", refund_id),
                payment_ref=payment_ref,
                amount_fen=amount_fen,
                status="succeeded",
            )
            self._refunds[refund_id] = refund
            self._emit_event(
                "refund.succeeded",
                refund.provider_ref,
                payment_id=intent.request.payment_id,
                amount_fen=amount_fen,
                payment_ref=payment_ref,
                refund_id=refund_id,
                reason=reason,
            )
            return refund

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        header = signed_callbacks.header(headers, SIGNATURE_HEADER)
        signed_callbacks.verify(self.webhook_secret, header, body, self._clock.now(), self.tolerance_s)
        try:
            event = json.loads(body)
            data: dict[str, Any] = event.get("data") or {}
            return CallbackEvent(
                provider=self.name,
                event_id=event["id"],
                kind=_KINDS.get(event["type"], CallbackKind.IGNORED),
                occurred_at=datetime.fromtimestamp(event["created"], SHANGHAI),
                provider_ref=data.get("ref"),
                payment_id=data.get("payment_id"),
                amount_fen=data.get("amount_fen"),
                decline_code=data.get("decline_code"),
                payment_method_ref=data.get("payment_method_ref"),
                customer_ref=data.get("customer_ref"),
                raw_type=event["type"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput("The callback body is not a sandbox event", code="bad_payload") from exc

    def list_transactions(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        with self._lock:
            window = [i for i in self._intents.values() if start <= i.created_at < end]
            return [
                ProviderTransaction(
                    provider=self.name,
                    provider_ref=i.ref,
                    payment_id=i.request.payment_id,
                    amount_fen=i.amount_fen,
                    status=i.status,
                    created_at=i.created_at,
                )
                for i in sorted(window, key=lambda i: i.created_at)
            ]

    def create_setup(self, request: SetupRequest) -> ProviderSetup:
        with self._lock:
            if request.setup_id in self._setups:
                return self._setups[request.setup_id]
            setup = ProviderSetup(
                provider=self.name,
                provider_ref=_ref("seti", request.setup_id),
                customer_ref=request.customer_ref or _ref("cus", request.account_id),
                status="succeeded",
                payment_method_ref=_ref("pm", request.setup_id),
            )
            self._setups[request.setup_id] = setup
            self._emit_event(
                "setup.succeeded",
                setup.provider_ref,
                setup_id=request.setup_id,
                payment_method_ref=setup.payment_method_ref,
                customer_ref=setup.customer_ref,
            )
            return setup

    # -- the payer, and test hooks --------------------------------------------------------------------------

    def approve(self, ref: str) -> ProviderPayment:
        """The payer pays (scans the QR, confirms). A plate or method in a decline set is declined anyway."""
        with self._lock:
            intent = self._get(ref)
            if intent.status is not PaymentStatus.SUCCEEDED:
                self._resolve(intent, self.behaviour.decline_code if self._declines(intent) else None)
            return self._snapshot(intent)

    def decline(self, ref: str, code: str = "card_declined") -> ProviderPayment:
        """The payer's bank declines. The intent stays retryable: a later ``approve`` may still succeed."""
        with self._lock:
            intent = self._get(ref)
            if intent.status is PaymentStatus.SUCCEEDED:
                raise Conflict("The payment already succeeded", code="payment_already_succeeded")
            self._resolve(intent, code)
            return self._snapshot(intent)

    def channel_of(self, ref: str) -> str | None:
        """The channel the payer was asked to pay through (the local payer page names it)."""
        intent = self._intents.get(ref)
        return intent.request.channel.value if intent else None

    def payment(self, ref: str) -> ProviderPayment:
        with self._lock:
            return self._snapshot(self._get(ref))

    def tamper_amount(self, ref: str, amount_fen: int) -> None:
        """Make the provider's record disagree with ours (reconciliation's amount-mismatch case)."""
        with self._lock:
            self._get(ref).amount_fen = amount_fen

    # -- internals -----------------------------------------------------------------------------------------

    def _get(self, ref: str) -> _Intent:
        intent = self._intents.get(ref)
        if intent is None:
            raise NotFound(f"No sandbox payment {ref}", code="payment_not_found")
        return intent

    def _declines(self, intent: _Intent) -> bool:
        plate, method = intent.request.plate, intent.request.payment_method_ref
        return plate in self.behaviour.decline_plates or method in self.behaviour.decline_payment_methods

    def _resolve(self, intent: _Intent, decline_code: str | None) -> None:
        intent.status = PaymentStatus.FAILED if decline_code else PaymentStatus.SUCCEEDED
        intent.decline_code = decline_code
        self._emit_event(
            "payment.failed" if decline_code else "payment.succeeded",
            intent.ref,
            payment_id=intent.request.payment_id,
            amount_fen=intent.amount_fen,
            decline_code=decline_code,
            payment_method_ref=intent.request.payment_method_ref,
            customer_ref=intent.request.customer_ref,
        )

    def _emit_event(self, type_: str, ref: str, **data: Any) -> None:
        created = int(self._clock.now().timestamp())
        event_id = f"sbx_evt_{secrets.token_hex(12)}"
        self._emit({"id": event_id, "type": type_, "created": created, "data": {"ref": ref, **data}}, ref)

    def _snapshot(self, intent: _Intent) -> ProviderPayment:
        return ProviderPayment(
            provider=self.name,
            provider_ref=intent.ref,
            status=intent.status,
            amount_fen=intent.amount_fen,
            next_action_url=intent.next_action_url if intent.status is PaymentStatus.PENDING else None,
            decline_code=intent.decline_code,
        )
