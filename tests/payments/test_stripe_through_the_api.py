"""The pay code with Stripe as the provider, through the HTTP API: the PaymentIntent the platform asks for
(a destination charge to the operator's account, with our idempotency key), and webhooks signed by
Stripe's own helper applied exactly once; a bad signature is refused with 400 and changes nothing."""

from __future__ import annotations

import json

import pytest
import stripe

from shared.adapters.payments.stripe_provider import StripeProvider
from shared.payments.provider import Channel
from shared.payments.service import Routing
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.payments.test_stripe_provider import SECRET, FakeStripeHTTP, _event, _intent
from tests.support import gate_event, price_lot

LOT = "lx-nanchang-st-01"


@pytest.fixture
def stripe_city(stack, city):
    price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
    http = FakeStripeHTTP()
    stack.services.providers["stripe"] = StripeProvider("sk_test_local", SECRET, http_client=http, clock=stack.clock, max_network_retries=0)
    stack.services.payments._routing = Routing({Channel.WECHAT_PAY: "stripe"})  # as TONGTING_PAYMENTS=stripe does
    return http


def _signed(body: bytes, clock, secret=SECRET) -> dict:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, int(clock.now().timestamp()))
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def test_stripe_pay_code_payment_and_webhooks(stack, api, device, clock, stripe_city):
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    clock.advance(hours=2.5)
    device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    qr = {"data": "weixin://wxpay/bizpayurl?pr=abc", "image_url_png": "https://qr.stripe/abc.png"}
    stripe_city.answer(_intent(id="pi_lx", amount=600, next_action={"type": "wechat_pay_display_qr_code", "wechat_pay_display_qr_code": qr}))
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill["bill_id"], "channel": "wechat_pay"}))
    payment = json.loads(resp.body)
    assert resp.status_code == 201 and payment["next_action_url"] == "weixin://wxpay/bizpayurl?pr=abc"

    sent = stripe_city.sent[-1]
    assert sent.form["amount"] == "600" and sent.form["currency"] == "cny"
    assert sent.form["transfer_data[destination]"] == "acct_wx-city-parking"  # the operator's own account (S9)
    assert sent.form["metadata[payment_id]"] == payment["payment_id"]
    assert sent.headers["Idempotency-Key"] == payment["payment_id"]

    succeeded = _event("payment_intent.succeeded", _intent("succeeded", id="pi_lx", amount=600, amount_received=600,
                                                            metadata={"payment_id": payment["payment_id"], "bill_id": bill["bill_id"]}),
                       event_id="evt_ok", created=int(clock.now().timestamp()))
    forged = succeeded.replace(b'"amount_received": 600', b'"amount_received": 6')
    refused = api.post("/v1/payments/callbacks/stripe", headers=_signed(succeeded, clock) | {}, body=forged)
    assert refused.status_code == 400 and json.loads(refused.body)["code"] == "bad_signature"
    assert stack.services.billing.get(bill["bill_id"]).paid_fen == 0

    for _ in range(3):  # Stripe retries until it gets a 2xx
        ok = api.post("/v1/payments/callbacks/stripe", headers=_signed(succeeded, clock), body=succeeded)
        assert ok.status_code == 200
    unknown = _event("customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_other")
    ignored = api.post("/v1/payments/callbacks/stripe", headers=_signed(unknown, clock), body=unknown)
    assert ignored.status_code == 200 and json.loads(ignored.body)["outcome"] == "ignored"

    stored = stack.services.billing.get(bill["bill_id"])
    assert (stored.paid_fen, stored.balance_fen) == (600, 0)
    assert stack.services.ledger.check() == []
