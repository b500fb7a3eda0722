"""The payment port on Stripe: WeChat Pay, Alipay and UnionPay cards as *destination charges*, so each
payment settles into the lot operator's connected account (S9) and a refund pulls it back from there.

Every money call carries the platform's id as Stripe's ``Idempotency-Key``: a retried Lambda replays the
same request and Stripe answers with the first result instead of charging twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe

from shared.clock import Clock, SystemClock
from shared.errors import InvalidInput
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

WEBHOOK_TOLERANCE_S = 300  # Stripe's own default: older signed deliveries are treated as replays
_METHOD_TYPES = {Channel.WECHAT_PAY: "wechat_pay", Channel.ALIPAY: "alipay", Channel.UNIONPAY: "card"}
_TRANSIENT = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)
_REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


@contextmanager
def _transient_as_provider_error() -> Iterator[None]:
    """Unreachable, 5xx or throttled: the caller may retry with the same idempotency key."""
    try:
        yield
    except _TRANSIENT as e:
        raise ProviderError(f"stripe: {e.user_message or type(e).__name__}") from e


def _id(value: Any) -> str | None:
    """Stripe sends a related object as its id, or as the whole object when expanded."""
    return value.get("id") if isinstance(value, Mapping) else value


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _status(intent: Mapping[str, Any]) -> PaymentStatus:
    status = intent.get("status")
    if status == "succeeded":
        return PaymentStatus.SUCCEEDED
    if status == "canceled":
        return PaymentStatus.CANCELED
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return PaymentStatus.FAILED  # an attempt was declined; without an error it simply has not started
    return PaymentStatus.PENDING


def _decline_code(error: Mapping[str, Any] | None) -> str | None:
    return (error or {}).get("decline_code") or (error or {}).get("code")


def _next_action_url(action: Mapping[str, Any] | None) -> str | None:
    """The URL the payer opens: WeChat's QR payload, Alipay's redirect, or a 3-D Secure page."""
    action = action or {}
    wechat = action.get("wechat_pay_display_qr_code") or {}
    alipay = action.get("alipay_handle_redirect") or {}
    redirect = action.get("redirect_to_url") or {}
    return wechat.get("data") or wechat.get("image_url_png") or alipay.get("url") or redirect.get("url") or None


class StripeProvider:
    """``PaymentProvider`` over ``stripe.StripeClient``. ``http_client`` lets tests fake Stripe's HTTP."""

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        http_client: stripe.HTTPClient | None = None,
        clock: Clock | None = None,
        return_url: str | None = None,
        max_network_retries: int = 2,
    ) -> None:
        self._client = stripe.StripeClient(api_key, http_client=http_client, max_network_retries=max_network_retries)
        self._webhook_secret = webhook_secret
        self._clock: Clock = clock or SystemClock()
        self._return_url = return_url  # where Alipay sends the payer back after the redirect

    # -- payments ---------------------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        params = self._intent_params(request)
        try:
            with _transient_as_provider_error():
                intent = self._client.v1.payment_intents.create(
                    params,
                    {"idempotency_key": request.payment_id},
                ).to_dict()
        except stripe.CardError as e:  # HTTP 402: a decline is an answer, not an outage
            return self._declined(request, e)
        return ProviderPayment(
            provider=self.name,
            provider_ref=intent["id"],
            status=_status(intent),
            amount_fen=intent.get("amount", request.amount_fen),
            next_action_url=_next_action_url(intent.get("next_action")),
            client_secret=intent.get("client_secret"),
            decline_code=_decline_code(intent.get("last_payment_error")),
        )

    def _intent_params(self, request: PaymentRequest) -> dict[str, Any]:
        if not request.off_session and request.channel not in _METHOD_TYPES:
            raise ValueError(f"Stripe does not carry the {request.channel.value} channel")
        params: dict[str, Any] = {
            "amount": request.amount_fen,
            "currency": request.currency.lower(),
            "payment_method_types": ["card" if request.off_session else _METHOD_TYPES[request.channel]],
            "transfer_data": {"destination": request.destination},
            "metadata": {**request.metadata, "payment_id": request.payment_id, "bill_id": request.bill_id},
        }
        if request.description:
            params["description"] = request.description
        if request.off_session:
            if not (request.customer_ref and request.payment_method_ref):
                raise ValueError("an off-session charge needs customer_ref and payment_method_ref")
            params |= {
                "customer": request.customer_ref,
                "payment_method": request.payment_method_ref,
                "off_session": True,
                "confirm": True,
            }
        elif request.channel is Channel.WECHAT_PAY:  # confirm now so the answer carries the QR code
            params |= {
                "payment_method_data": {"type": "wechat_pay"},
                "payment_method_options": {"wechat_pay": {"client": "web"}},
                "confirm": True,
            }
        elif request.channel is Channel.ALIPAY:  # confirm now so the answer carries the redirect URL
            if not self._return_url:
                raise ValueError("StripeProvider needs return_url for Alipay")
            params |= {"payment_method_data": {"type": "alipay"}, "confirm": True, "return_url": self._return_url}
        return params

    def _declined(self, request: PaymentRequest, e: stripe.CardError) -> ProviderPayment:
        error = (e.json_body or {}).get("error") or {}
        intent = error.get("payment_intent") or {}
        return ProviderPayment(
            provider=self.name,
            provider_ref=intent.get("id", ""),  # Stripe includes the intent on a confirm-time decline
            status=PaymentStatus.FAILED,
            amount_fen=request.amount_fen,
            client_secret=intent.get("client_secret"),
            decline_code=_decline_code(error) or e.code,
        )

    def refund(self, payment_ref: str, amount_fen: int, *, refund_id: str, reason: str) -> ProviderRefund:
        params = {
            "payment_intent": payment_ref,
            "amount": amount_fen,
            "metadata": {"refund_id": refund_id, "reason": reason},
            "reverse_transfer": True,  # destination charge: take the money back from the operator's account
        }
        with _transient_as_provider_error():
            refund = self._client.v1.refunds.create(
                params,
                {"idempotency_key": refund_id},
            ).to_dict()
        return ProviderRefund(
            provider=self.name,
            provider_ref=refund["id"],
            payment_ref=_id(refund.get("payment_intent")) or payment_ref,
            amount_fen=refund.get("amount", amount_fen),
            status=_REFUND_STATUS.get(refund.get("status", ""), "pending"),
        )

    def list_transactions(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        params = {"created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())}, "limit": 100}
        with _transient_as_provider_error():
            page = self._client.v1.payment_intents.list(params)
            intents = [intent.to_dict() for intent in page.auto_paging_iter()]
        return [
            ProviderTransaction(
                provider=self.name,
                provider_ref=intent["id"],
                payment_id=(intent.get("metadata") or {}).get("payment_id"),
                amount_fen=intent.get("amount_received") or intent["amount"],
                status=_status(intent),
                created_at=_at(intent["created"]),
            )
            for intent in intents
        ]

    def create_setup(self, request: SetupRequest) -> ProviderSetup:
        if request.channel is not Channel.UNIONPAY:
            raise ValueError("Stripe saves only cards for off-session charges")
        metadata = {**request.metadata, "setup_id": request.setup_id, "account_id": request.account_id}
        with _transient_as_provider_error():
            customer_ref = (
                request.customer_ref
                or self._client.v1.customers.create(
                    {"metadata": {"account_id": request.account_id}},
                    {"idempotency_key": f"{request.setup_id}-customer"},
                ).id
            )
            setup = self._client.v1.setup_intents.create(
                {
                    "customer": customer_ref,
                    "usage": "off_session",  # the mandate that lets pay-later charge without the payer
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                },
                {"idempotency_key": request.setup_id},
            ).to_dict()
        return ProviderSetup(
            provider=self.name,
            provider_ref=setup["id"],
            customer_ref=customer_ref,
            status=setup["status"],
            payment_method_ref=_id(setup.get("payment_method")),
            next_action_url=_next_action_url(setup.get("next_action")),
            client_secret=setup.get("client_secret"),
        )

    # -- callbacks --------------------------------------------------------------------------------------

    def parse_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        event = self._verified_event(headers, body)
        raw_type, obj = event["type"], event["data"]["object"]
        payment_id = (obj.get("metadata") or {}).get("payment_id")
        kind, fields = CallbackKind.IGNORED, dict[str, Any]()
        if raw_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            failed = raw_type == "payment_intent.payment_failed"
            kind = CallbackKind.PAYMENT_FAILED if failed else CallbackKind.PAYMENT_SUCCEEDED
            amount = obj.get("amount_received") or obj.get("amount")
            decline = _decline_code(obj.get("last_payment_error")) if failed else None
            fields = {
                "provider_ref": obj["id"],
                "payment_id": payment_id,
                "amount_fen": amount,
                "decline_code": decline,
            }
        elif raw_type == "charge.refunded" or (
            raw_type in ("refund.created", "refund.updated") and obj.get("status") == "succeeded"
        ):
            kind = CallbackKind.REFUND_SUCCEEDED
            if raw_type == "charge.refunded":  # a Charge: its newest refund if listed, else the refunded total
                refunds = (obj.get("refunds") or {}).get("data") or []
                amount = refunds[0]["amount"] if refunds else obj.get("amount_refunded")
            else:  # a Refund
                amount = obj.get("amount")
            fields = {"provider_ref": _id(obj.get("payment_intent")), "payment_id": payment_id, "amount_fen": amount}
        elif raw_type == "setup_intent.succeeded":
            kind = CallbackKind.SETUP_SUCCEEDED
            fields = {
                "provider_ref": obj["id"],
                "payment_method_ref": _id(obj.get("payment_method")),
                "customer_ref": _id(obj.get("customer")),
            }
        return CallbackEvent(
            provider=self.name,
            event_id=event["id"],
            kind=kind,
            occurred_at=_at(event["created"]),
            raw_type=raw_type,
            **fields,
        )

    def _verified_event(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """Stripe's own signature check; the age limit is measured on the injected clock, not wall time."""
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        if not header:
            raise InvalidInput("missing Stripe-Signature header", code="bad_signature")
        try:
            payload = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
        except UnicodeDecodeError as e:
            raise InvalidInput("callback body is not UTF-8", code="invalid_json") from e
        try:
            stripe.WebhookSignature.verify_header(payload, header, self._webhook_secret, tolerance=None)
        except stripe.SignatureVerificationError as e:
            raise InvalidInput("Stripe signature does not verify", code="bad_signature") from e
        # verify_header has parsed the header, so ``t=`` exists and is an integer.
        signed_at = int(next(p.split("=", 1)[1] for p in header.split(",") if p.startswith("t=")))
        if signed_at < self._clock.now().timestamp() - WEBHOOK_TOLERANCE_S:
            raise InvalidInput("Stripe signature is too old (replay?)", code="bad_signature")
        try:
            event = json.loads(payload)
        except ValueError as e:
            raise InvalidInput("callback body is not JSON", code="invalid_json") from e
        data = event.get("data") if isinstance(event, dict) else None
        if not (
            isinstance(data, dict)
            and isinstance(data.get("object"), dict)
            and isinstance(event.get("created"), int)
            and event.get("id")
            and event.get("type")
        ):
            raise InvalidInput("callback body is not a Stripe event", code="invalid_json")
        return event
