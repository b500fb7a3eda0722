"""The Stripe adapter against the real ``stripe`` library, with only its HTTP faked: the tests read what
would go over the wire (form fields, Idempotency-Key) and sign webhooks with Stripe's own helper."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe

from shared.adapters.payments.stripe_provider import StripeProvider
from shared.clock import ManualClock
from shared.errors import InvalidInput
from shared.payments.provider import (
    CallbackKind,
    Channel,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    SetupRequest,
)

SECRET = "whsec_test_secret"
ACCT = "acct_wx_city_parking"


@dataclass
class Sent:
    method: str
    path: str
    form: dict[str, str]  # POST body or GET query, form-decoded: {"metadata[payment_id]": ...}
    headers: dict[str, str]


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers queued responses in order and records every request the library makes."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self._answers: deque[tuple[int, dict[str, Any]] | Exception] = deque()

    def answer(self, body: dict[str, Any], status: int = 200) -> FakeStripeHTTP:
        self._answers.append((status, body))
        return self

    def fail(self, error: Exception) -> FakeStripeHTTP:
        self._answers.append(error)
        return self

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        split = urlsplit(url)
        form = dict(parse_qsl(post_data if method == "post" else split.query, keep_blank_values=True))
        self.sent.append(Sent(method, split.path, form, dict(headers or {})))
        answer = self._answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return json.dumps(body), status, {"Request-Id": f"req_{len(self.sent)}"}

    def close(self) -> None:
        pass


@pytest.fixture
def http() -> FakeStripeHTTP:
    return FakeStripeHTTP()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))


@pytest.fixture
def provider(http, clock) -> StripeProvider:
    return StripeProvider(
        "sk_test_x", SECRET, http_client=http, clock=clock, return_url="https://pay.example/back", max_network_retries=0
    )


def _request(channel: Channel = Channel.WECHAT_PAY, **kw: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "payment_id": "pay-001",
        "bill_id": "bill-001",
        "amount_fen": 1250,
        "channel": channel,
        "destination": ACCT,
        "description": "南长街停车场 2h",
        "metadata": {"lot_id": "lx-nanchang-st-01"},
    }
    return PaymentRequest(**(fields | kw))


def _intent(status: str = "requires_action", **kw: Any) -> dict[str, Any]:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 1250,
        "amount_received": 1250 if status == "succeeded" else 0,
        "currency": "cny",
        "status": status,
        "client_secret": "pi_1_secret_x",
        "created": 1795000000,
        "metadata": {"payment_id": "pay-001", "bill_id": "bill-001"},
        "last_payment_error": None,
        "next_action": None,
    } | kw


# -- create_payment --------------------------------------------------------------------------------------


def test_wechat_pay_creates_a_confirmed_destination_charge_and_returns_the_qr(provider, http):
    qr = {"data": "weixin://wxpay/bizpayurl?pr=abc", "image_url_png": "https://qr.stripe/abc.png"}
    http.answer(_intent(next_action={"type": "wechat_pay_display_qr_code", "wechat_pay_display_qr_code": qr}))

    payment = provider.create_payment(_request())

    [sent] = http.sent
    assert (sent.method, sent.path) == ("post", "/v1/payment_intents")
    assert sent.headers["Idempotency-Key"] == "pay-001"
    assert sent.form["amount"] == "1250"
    assert sent.form["currency"] == "cny"
    assert sent.form["transfer_data[destination]"] == ACCT
    assert sent.form["payment_method_types[0]"] == "wechat_pay"
    assert sent.form["payment_method_data[type]"] == "wechat_pay"
    assert sent.form["payment_method_options[wechat_pay][client]"] == "web"
    assert sent.form["confirm"] == "true"
    assert sent.form["metadata[payment_id]"] == "pay-001"
    assert sent.form["metadata[bill_id]"] == "bill-001"
    assert sent.form["metadata[lot_id]"] == "lx-nanchang-st-01"
    assert sent.form["description"] == "南长街停车场 2h"
    assert payment.provider == "stripe"
    assert payment.provider_ref == "pi_1"
    assert payment.status is PaymentStatus.PENDING
    assert payment.next_action_url == "weixin://wxpay/bizpayurl?pr=abc"


def test_alipay_confirms_with_the_return_url_and_returns_the_redirect(provider, http):
    redirect = {"url": "https://hooks.stripe.com/alipay/redirect", "return_url": "https://pay.example/back"}
    http.answer(_intent(next_action={"type": "alipay_handle_redirect", "alipay_handle_redirect": redirect}))

    payment = provider.create_payment(_request(Channel.ALIPAY))

    form = http.sent[0].form
    assert form["payment_method_types[0]"] == "alipay"
    assert form["payment_method_data[type]"] == "alipay"
    assert form["return_url"] == "https://pay.example/back"
    assert form["confirm"] == "true"
    assert payment.next_action_url == "https://hooks.stripe.com/alipay/redirect"


def test_alipay_without_a_return_url_is_a_configuration_error(http):
    provider = StripeProvider("sk_test_x", SECRET, http_client=http, max_network_retries=0)
    with pytest.raises(ValueError, match="return_url"):
        provider.create_payment(_request(Channel.ALIPAY))
    assert http.sent == []


def test_unionpay_is_a_card_intent_left_for_the_client_to_confirm(provider, http):
    http.answer(_intent("requires_payment_method"))

    payment = provider.create_payment(_request(Channel.UNIONPAY))

    form = http.sent[0].form
    assert form["payment_method_types[0]"] == "card"
    assert "confirm" not in form
    assert payment.status is PaymentStatus.PENDING  # no attempt yet, so not a failure
    assert payment.client_secret == "pi_1_secret_x"


@pytest.mark.parametrize("channel", [Channel.ETC, Channel.LEGACY])
def test_channels_stripe_does_not_carry_are_refused(provider, http, channel):
    with pytest.raises(ValueError):
        provider.create_payment(_request(channel))
    assert http.sent == []


def test_off_session_charges_the_saved_card_without_the_payer(provider, http):
    http.answer(_intent("succeeded"))

    payment = provider.create_payment(
        _request(Channel.UNIONPAY, off_session=True, customer_ref="cus_1", payment_method_ref="pm_1")
    )

    sent = http.sent[0]
    assert sent.headers["Idempotency-Key"] == "pay-001"
    assert sent.form["customer"] == "cus_1"
    assert sent.form["payment_method"] == "pm_1"
    assert sent.form["off_session"] == "true"
    assert sent.form["confirm"] == "true"
    assert sent.form["payment_method_types[0]"] == "card"
    assert sent.form["transfer_data[destination]"] == ACCT
    assert payment.status is PaymentStatus.SUCCEEDED


def test_a_card_decline_is_a_failed_payment_not_an_exception(provider, http):
    declined = _intent(
        "requires_payment_method",
        last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"},
    )
    error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "payment_intent": declined,
    }
    http.answer({"error": error}, status=402)

    payment = provider.create_payment(
        _request(Channel.UNIONPAY, off_session=True, customer_ref="cus_1", payment_method_ref="pm_1")
    )

    assert payment.status is PaymentStatus.FAILED
    assert payment.decline_code == "insufficient_funds"
    assert payment.provider_ref == "pi_1"
    assert payment.amount_fen == 1250


def test_a_declined_intent_in_a_200_answer_maps_to_failed(provider, http):
    http.answer(_intent("requires_payment_method", last_payment_error={"code": "card_declined"}))
    payment = provider.create_payment(_request(Channel.UNIONPAY))
    assert (payment.status, payment.decline_code) == (PaymentStatus.FAILED, "card_declined")


@pytest.mark.parametrize(
    ("stripe_status", "expected"),
    [
        ("succeeded", PaymentStatus.SUCCEEDED),
        ("canceled", PaymentStatus.CANCELED),
        ("processing", PaymentStatus.PENDING),
    ],
)
def test_statuses_map(provider, http, stripe_status, expected):
    http.answer(_intent(stripe_status))
    assert provider.create_payment(_request()).status is expected


@pytest.mark.parametrize(
    "failure",
    [
        ({"error": {"type": "api_error", "message": "boom"}}, 500),
        ({"error": {"type": "invalid_request_error", "message": "slow down"}}, 429),
        stripe.APIConnectionError("connection reset"),
    ],
    ids=["5xx", "rate-limit", "connection"],
)
def test_transient_failures_raise_provider_error(provider, http, failure):
    if isinstance(failure, Exception):
        http.fail(failure)
    else:
        http.answer(*failure)
    with pytest.raises(ProviderError):
        provider.create_payment(_request())


def test_a_retry_after_a_5xx_repeats_the_same_idempotency_key(http, monkeypatch):
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n: 0)
    provider = StripeProvider("sk_test_x", SECRET, http_client=http, max_network_retries=1)
    http.answer({"error": {"type": "api_error"}}, status=500).answer(_intent("succeeded"))

    assert provider.create_payment(_request()).status is PaymentStatus.SUCCEEDED
    assert [s.headers["Idempotency-Key"] for s in http.sent] == ["pay-001", "pay-001"]


# -- refund ----------------------------------------------------------------------------------------------


def test_refund_reverses_the_transfer_with_our_id_as_the_key(provider, http):
    http.answer({"id": "re_1", "object": "refund", "amount": 500, "payment_intent": "pi_1", "status": "succeeded"})

    refund = provider.refund("pi_1", 500, refund_id="rf-001", reason="overcharge at exit")

    sent = http.sent[0]
    assert (sent.method, sent.path) == ("post", "/v1/refunds")
    assert sent.headers["Idempotency-Key"] == "rf-001"
    assert sent.form["payment_intent"] == "pi_1"
    assert sent.form["amount"] == "500"
    assert sent.form["reverse_transfer"] == "true"
    assert sent.form["metadata[refund_id]"] == "rf-001"
    assert sent.form["metadata[reason]"] == "overcharge at exit"
    assert (refund.provider_ref, refund.payment_ref, refund.amount_fen, refund.status) == (
        "re_1",
        "pi_1",
        500,
        "succeeded",
    )


def test_refund_outage_raises_provider_error(provider, http):
    http.fail(stripe.APIConnectionError("timeout"))
    with pytest.raises(ProviderError):
        provider.refund("pi_1", 500, refund_id="rf-001", reason="x")


# -- list_transactions -----------------------------------------------------------------------------------


def test_list_transactions_follows_pages(provider, http):
    first = [_intent("succeeded", id="pi_1"), _intent("canceled", id="pi_2", metadata={})]
    second = [_intent("processing", id="pi_3", created=1795000100)]
    http.answer({"object": "list", "url": "/v1/payment_intents", "has_more": True, "data": first})
    http.answer({"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": second})
    start = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)

    txs = provider.list_transactions(start, start + timedelta(days=1))

    assert [(t.provider_ref, t.status) for t in txs] == [
        ("pi_1", PaymentStatus.SUCCEEDED),
        ("pi_2", PaymentStatus.CANCELED),
        ("pi_3", PaymentStatus.PENDING),
    ]
    assert [t.payment_id for t in txs] == ["pay-001", None, "pay-001"]
    assert txs[2].created_at == datetime.fromtimestamp(1795000100, UTC)
    assert len(http.sent) == 2
    assert all((s.method, s.path) == ("get", "/v1/payment_intents") for s in http.sent)
    assert http.sent[0].form["created[gte]"] == str(int(start.timestamp()))
    assert http.sent[0].form["created[lt]"] == str(int((start + timedelta(days=1)).timestamp()))
    assert http.sent[1].form["starting_after"] == "pi_2"
    assert http.sent[1].form["created[gte]"] == str(int(start.timestamp()))


# -- create_setup ----------------------------------------------------------------------------------------


def _setup_intent(**kw: Any) -> dict[str, Any]:
    return {
        "id": "seti_1",
        "object": "setup_intent",
        "customer": "cus_new",
        "status": "requires_payment_method",
        "client_secret": "seti_1_secret_x",
        "payment_method": None,
        "next_action": None,
    } | kw


def test_create_setup_makes_a_customer_then_an_off_session_setup_intent(provider, http):
    http.answer({"id": "cus_new", "object": "customer"}).answer(_setup_intent())

    setup = provider.create_setup(
        SetupRequest(setup_id="setup-001", account_id="acc-42", metadata={"plate": "苏B12345"})
    )

    customer, intent = http.sent
    assert (customer.path, customer.headers["Idempotency-Key"]) == ("/v1/customers", "setup-001-customer")
    assert customer.form["metadata[account_id]"] == "acc-42"
    assert (intent.path, intent.headers["Idempotency-Key"]) == ("/v1/setup_intents", "setup-001")
    assert intent.form["customer"] == "cus_new"
    assert intent.form["usage"] == "off_session"
    assert intent.form["payment_method_types[0]"] == "card"
    assert intent.form["metadata[setup_id]"] == "setup-001"
    assert intent.form["metadata[account_id]"] == "acc-42"
    assert intent.form["metadata[plate]"] == "苏B12345"
    assert (setup.provider_ref, setup.customer_ref, setup.status) == ("seti_1", "cus_new", "requires_payment_method")
    assert setup.client_secret == "seti_1_secret_x"


def test_create_setup_reuses_a_known_customer(provider, http):
    http.answer(_setup_intent(customer="cus_old"))

    setup = provider.create_setup(SetupRequest(setup_id="setup-002", account_id="acc-42", customer_ref="cus_old"))

    [intent] = http.sent
    assert intent.path == "/v1/setup_intents"
    assert intent.form["customer"] == "cus_old"
    assert setup.customer_ref == "cus_old"


# -- parse_callback --------------------------------------------------------------------------------------


def _event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1", created: int = 1795000000) -> bytes:
    body = {"id": event_id, "object": "event", "type": event_type, "created": created, "data": {"object": obj}}
    return json.dumps(body, ensure_ascii=False).encode()


def _signed(body: bytes, clock: ManualClock, *, secret: str = SECRET, age_s: int = 0) -> dict[str, str]:
    timestamp = int(clock.now().timestamp()) - age_s
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)}


def test_payment_succeeded(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded", amount_received=1250))

    event = provider.parse_callback(_signed(body, clock), body)

    assert event.kind is CallbackKind.PAYMENT_SUCCEEDED
    assert (event.provider, event.event_id, event.raw_type) == ("stripe", "evt_1", "payment_intent.succeeded")
    assert (event.provider_ref, event.payment_id, event.amount_fen) == ("pi_1", "pay-001", 1250)
    assert event.occurred_at == datetime.fromtimestamp(1795000000, UTC)


def test_payment_failed_carries_the_decline_code(provider, clock):
    error = {"code": "card_declined", "decline_code": "expired_card"}
    body = _event("payment_intent.payment_failed", _intent("requires_payment_method", last_payment_error=error))

    event = provider.parse_callback(_signed(body, clock), body)

    assert (event.kind, event.decline_code, event.payment_id) == (
        CallbackKind.PAYMENT_FAILED,
        "expired_card",
        "pay-001",
    )


def test_payment_failed_falls_back_to_the_error_code(provider, clock):
    body = _event("payment_intent.payment_failed", _intent(last_payment_error={"code": "authentication_required"}))
    assert provider.parse_callback(_signed(body, clock), body).decline_code == "authentication_required"


def test_charge_refunded(provider, clock):
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "amount_refunded": 800,
        "metadata": {"payment_id": "pay-001"},
        "refunds": {"object": "list", "data": [{"id": "re_2", "amount": 300}, {"id": "re_1", "amount": 500}]},
    }
    body = _event("charge.refunded", charge)

    event = provider.parse_callback(_signed(body, clock), body)

    assert (event.kind, event.provider_ref, event.payment_id) == (CallbackKind.REFUND_SUCCEEDED, "pi_1", "pay-001")
    assert event.amount_fen == 300  # the newest refund, not the running total


@pytest.mark.parametrize("event_type", ["refund.created", "refund.updated"])
def test_refund_succeeded(provider, clock, event_type):
    refund = {"id": "re_1", "object": "refund", "amount": 500, "payment_intent": "pi_1", "status": "succeeded"}
    body = _event(event_type, refund | {"metadata": {"refund_id": "rf-001"}})

    event = provider.parse_callback(_signed(body, clock), body)

    assert (event.kind, event.provider_ref, event.amount_fen) == (CallbackKind.REFUND_SUCCEEDED, "pi_1", 500)


def test_a_pending_refund_is_ignored(provider, clock):
    body = _event("refund.created", {"id": "re_1", "amount": 500, "payment_intent": "pi_1", "status": "pending"})
    assert provider.parse_callback(_signed(body, clock), body).kind is CallbackKind.IGNORED


def test_setup_succeeded_carries_the_saved_method_and_customer(provider, clock):
    body = _event("setup_intent.succeeded", _setup_intent(status="succeeded", payment_method="pm_1"))

    event = provider.parse_callback(_signed(body, clock), body)

    assert event.kind is CallbackKind.SETUP_SUCCEEDED
    assert (event.provider_ref, event.payment_method_ref, event.customer_ref) == ("seti_1", "pm_1", "cus_new")


def test_unknown_types_are_ignored(provider, clock):
    body = _event("customer.updated", {"id": "cus_1", "object": "customer"})
    event = provider.parse_callback(_signed(body, clock), body)
    assert (event.kind, event.raw_type) == (CallbackKind.IGNORED, "customer.updated")


def test_the_signature_header_is_found_in_any_case(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded"))
    headers = {"stripe-signature": _signed(body, clock)["Stripe-Signature"]}
    assert provider.parse_callback(headers, body).kind is CallbackKind.PAYMENT_SUCCEEDED


def test_a_signature_just_inside_the_tolerance_is_accepted(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded"))
    assert provider.parse_callback(_signed(body, clock, age_s=300), body).kind is CallbackKind.PAYMENT_SUCCEEDED


def _bad_signature(provider: StripeProvider, headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        provider.parse_callback(headers, body)
    assert caught.value.code == "bad_signature"


def test_tampered_body_is_rejected(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded"))
    _bad_signature(provider, _signed(body, clock), body.replace(b"1250", b"9999"))


def test_wrong_secret_is_rejected(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded"))
    _bad_signature(provider, _signed(body, clock, secret="whsec_someone_else"), body)


def test_a_replayed_old_signature_is_rejected(provider, clock):
    body = _event("payment_intent.succeeded", _intent("succeeded"))
    _bad_signature(provider, _signed(body, clock, age_s=301), body)


@pytest.mark.parametrize("headers", [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"}])
def test_missing_or_malformed_header_is_rejected(provider, headers):
    _bad_signature(provider, headers, _event("payment_intent.succeeded", _intent("succeeded")))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "evt_1"}'])
def test_signed_garbage_is_invalid_json(provider, clock, body):
    with pytest.raises(InvalidInput) as caught:
        provider.parse_callback(_signed(body, clock), body)
    assert caught.value.code == "invalid_json"
