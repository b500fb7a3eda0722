"""End to end on the local stack: entry, exit with ``pay``, the unified pay code with the sandbox provider,
callbacks repeated and out of order, the QR-then-ETC double payment, and the ledger after each."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.ledger.accounts import Account
from shared.payments.model import PaymentSource
from shared.payments.provider import Channel
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CallbackPoster, gate_event, price_lot

LOT, OPERATOR, PLATE = "lx-nanchang-st-01", "wx-city-parking", "苏B12345"


@pytest.fixture
def priced(platform, city):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    return platform.services


def _park(device, clock, plate=PLATE, hours=2.5, **exit_extra):
    device("lx-in1").post(gate_event("entry", plate, clock.now()))
    clock.advance(hours * 3600)
    status, body = device("lx-out1").post(gate_event("exit", plate, clock.now(), **exit_extra))
    assert status == 200, body
    return body["acks"][0]


def _pay(api, bill_id, channel="wechat_pay"):
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill_id, "channel": channel}))
    return resp.status_code, json.loads(resp.body)


def _balances(services):
    ledger = services.ledger
    return {
        "receivable": ledger.balance(Account.receivable(PLATE)),
        "revenue": ledger.balance(Account.operator_revenue(OPERATOR)),
        "sandbox": ledger.balance(Account.provider_clearing("sandbox")),
        "etc": ledger.balance(Account.provider_clearing("etc")),
    }


def test_exit_asks_to_pay_the_tariff_price_with_the_lanes_pay_code(priced, device, clock):
    ack = _park(device, clock)
    # Zhumadian class 1: 2 h 30 min = ¥4 for the first hour + ¥1 for each of 2 started hours.
    assert ack["gate"] == {"decision": "pay", "amount_fen": 600, "reason": "pay",
                           "pay_url": f"https://pay.tongting.example/v1/pay/{LOT}?lane=out-1"}


def test_a_stay_within_the_free_half_hour_opens_free(priced, device, clock):
    ack = _park(device, clock, hours=0.4)
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "free"


def test_pay_code_payment_applied_once_whatever_the_callbacks(priced, api, device, clock):
    _park(device, clock)
    page = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)
    bill = page["bill"]
    assert bill["due_fen"] == 600 and bill["plate"] == "苏B****5"

    status, payment = _pay(api, bill["bill_id"])
    assert status == 201 and payment["next_action_url"].startswith("http")
    again_status, again = _pay(api, bill["bill_id"])  # the driver taps twice: the same payment
    assert again["payment_id"] == payment["payment_id"]

    sandbox = priced.providers["sandbox"]
    ref = priced.payments.payment(payment["payment_id"]).provider_ref
    sandbox.configure(duplicates=2, reverse_order=True)
    sandbox.decline(ref)  # the first try is declined, the second goes through: failed then succeeded
    sandbox.approve(ref)
    poster = CallbackPoster(api, "sandbox")
    assert sandbox.deliver(poster) == 6  # two events, each delivered three times, newest first

    outcomes = [json.loads(body)["outcome"] for _, body in poster.responses]
    assert outcomes.count("applied") == 1
    stored = priced.billing.get(bill["bill_id"])
    assert (stored.paid_fen, stored.balance_fen, stored.status.value) == (600, 0, "settled")
    assert priced.payments.payment(payment["payment_id"]).state.value == "succeeded"
    assert _balances(priced) == {"receivable": 0, "revenue": -600, "sandbox": 600, "etc": 0}
    assert priced.ledger.check() == []


def test_qr_then_etc_ends_with_one_charge_and_one_automatic_refund(priced, api, device, clock):
    ack = _park(device, clock, etc_obu=True)
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "etc"
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    _, payment = _pay(api, bill["bill_id"])  # the driver scans the QR code as well
    sandbox, issuer = priced.providers["sandbox"], priced.providers["etc"].issuer
    sandbox.approve(priced.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    issuer.deliver(CallbackPoster(api, "etc"))  # ...and the ETC issuer deducts too
    issuer.deliver(CallbackPoster(api, "etc"))

    stored = priced.billing.get(bill["bill_id"])
    assert (stored.paid_fen, stored.refunded_fen, stored.balance_fen) == (1200, 600, 0)
    assert _balances(priced) == {"receivable": 0, "revenue": -600, "sandbox": 600, "etc": 0}
    refunds = [p for p in map(priced.payments.payment, stored.payments) if p.refunded_fen]
    assert [(p.channel.value, p.refunded_fen) for p in refunds] == [("etc", 600)]
    assert priced.ledger.check() == []


def test_prepaid_inside_the_lot_opens_within_the_grace_period(priced, api, device, clock):
    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    clock.advance(hours=2)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?plate={PLATE}").body)["bill"]
    assert bill["status"] == "open" and bill["due_fen"] == 500
    _, payment = _pay(api, bill["bill_id"], "alipay")
    sandbox = priced.providers["sandbox"]
    sandbox.approve(priced.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    clock.advance(minutes=10)
    _, body = device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    assert body["acks"][0]["gate"] == {"decision": "open", "amount_fen": 0, "reason": "paid"}


def test_prepaid_but_late_pays_the_difference(priced, api, device, clock):
    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    clock.advance(hours=2)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?plate={PLATE}").body)["bill"]
    _, payment = _pay(api, bill["bill_id"])
    sandbox = priced.providers["sandbox"]
    sandbox.approve(priced.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    clock.advance(minutes=50)  # past the 15-minute grace: a third started hour
    _, body = device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    assert body["acks"][0]["gate"]["decision"] == "pay" and body["acks"][0]["gate"]["amount_fen"] == 100
    assert priced.ledger.check() == []


def test_bad_signature_gets_400_and_changes_nothing(priced, api, device, clock):
    _park(device, clock)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    _, payment = _pay(api, bill["bill_id"])
    sandbox = priced.providers["sandbox"]
    sandbox.approve(priced.payments.payment(payment["payment_id"]).provider_ref)
    (headers, body), = sandbox.pending_deliveries()
    forged = body.replace(b"600", b"60")
    resp = api.post("/v1/payments/callbacks/sandbox", headers={**headers, "Content-Type": "application/json"}, body=forged)
    assert resp.status_code == 400 and json.loads(resp.body)["code"] == "bad_signature"
    assert priced.billing.get(bill["bill_id"]).paid_fen == 0
    unknown = api.post("/v1/payments/callbacks/nowhere", headers={"Content-Type": "application/json"}, body=b"{}")
    assert unknown.status_code == 404 and json.loads(unknown.body)["code"] == "unknown_provider"


def test_pay_page_errors_are_clear(priced, api):
    assert json.loads(api.get(f"/v1/pay/{LOT}?lane=out-9").body)["code"] == "no_bill"
    assert json.loads(api.get(f"/v1/pay/{LOT}?plate=XX").body)["code"] == "malformed_plate"
    assert api.get(f"/v1/pay/{LOT}").status_code == 400
    assert api.get("/v1/pay/nowhere?lane=out-1").status_code == 404
    status, body = _pay(api, "bill_nope")
    assert status == 404 and body["code"] == "unknown_bill"


def test_quote_endpoint_uses_the_same_engine(priced, api):
    resp = api.get(f"/v1/lots/{LOT}/quote?entry=2026-11-23T08:00:00%2B08:00&exit=2026-11-23T10:30:00%2B08:00&plate=苏B12345")
    body = json.loads(resp.body)
    assert resp.status_code == 200 and body["amount_fen"] == 600 and body["tariff_id"] == ZHUMADIAN_CLASS1.id
    unencoded = json.loads(api.get(f"/v1/lots/{LOT}/quote?entry=2026-11-23T08:00:00+08:00&exit=2026-11-23T10:30:00+08:00").body)
    assert unencoded["amount_fen"] == 600
    naive = api.get(f"/v1/lots/{LOT}/quote?entry=2026-11-23T08:00:00")
    assert naive.status_code == 400 and json.loads(naive.body)["code"] == "bad_time"
    backwards = api.get(f"/v1/lots/{LOT}/quote?entry=2026-11-23T10:00:00%2B08:00&exit=2026-11-23T08:00:00%2B08:00")
    assert json.loads(backwards.body)["code"] == "quote_bad_interval"


def test_a_refund_the_provider_could_not_take_is_sent_again_by_the_next_delivery(priced, api, device, clock, monkeypatch):
    from shared.payments.provider import ProviderError

    priced.providers["etc"].issuer.configure(duplicates=1)  # the issuer will notify the deduction twice
    _park(device, clock, etc_obu=True)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    _, payment = _pay(api, bill["bill_id"])
    sandbox, etc = priced.providers["sandbox"], priced.providers["etc"]
    sandbox.approve(priced.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))

    real_refund, calls = etc.refund, []

    def down_once(*args, **kwargs):
        calls.append(kwargs["refund_id"])
        if len(calls) == 1:
            raise ProviderError("issuer timeout")
        return real_refund(*args, **kwargs)

    monkeypatch.setattr(etc, "refund", down_once)
    etc.issuer.deliver(CallbackPoster(api, "etc"))  # the deduction, delivered twice: the second sends the refund again

    stored = priced.billing.get(bill["bill_id"])
    assert (stored.paid_fen, stored.refunded_fen, stored.balance_fen) == (1200, 600, 0)
    assert len(calls) == 2 and calls[0] == calls[1]  # the same refund id both times: one refund at the issuer
    assert priced.ledger.check() == []


def test_staff_get_the_urls_to_print_as_pay_codes(priced, api, clock):
    from datetime import timedelta

    from shared.auth import Role
    from shared.tokens import mint

    token = mint(priced.token_key(), subject="lx", role=Role.DISTRICT_ADMIN, district_code="320213", now=clock.now(), ttl=timedelta(hours=1))
    body = json.loads(api.get(f"/v1/admin/lots/{LOT}/pay-codes", headers={"Authorization": f"Bearer {token}"}).body)
    base = f"https://pay.tongting.example/v1/pay/{LOT}"
    assert body["pay_codes"] == [{"lane": None, "url": base}, {"lane": "in-1", "url": f"{base}?lane=in-1"},
                                 {"lane": "out-1", "url": f"{base}?lane=out-1"}]


def test_a_qr_payment_stored_once_survives_a_crash_between_the_provider_and_the_store(priced, api, device, clock, monkeypatch):
    """Issue 10: a QR payment is asked for first and written once, with the provider's answer. A crash after
    the provider answered and before the write leaves an intent nobody can approve (the driver never saw its
    link); the retried request gets the same intent back (our payment id is the provider's idempotency key)
    and stores it; the payment is then applied once."""
    _park(device, clock)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    money = priced.payments._money
    real_create, writes = money.create_payment, []

    def crash_once(payment):
        writes.append(payment)
        if len(writes) == 1:
            raise RuntimeError("the function died after the provider answered")
        return real_create(payment)

    monkeypatch.setattr(money, "create_payment", crash_once)
    with pytest.raises(RuntimeError):
        priced.payments.pay(priced.billing.get(bill["bill_id"]), Channel.WECHAT_PAY, PaymentSource.PAY_CODE)
    assert priced.payments._money.payment(writes[0].payment_id) is None  # nothing stored
    status, payment = _pay(api, bill["bill_id"])  # the driver taps again
    assert status == 201 and payment["payment_id"] == writes[0].payment_id
    stored = priced.payments.payment(payment["payment_id"])
    assert (stored.state.value, stored.version, stored.provider_ref) == ("pending", 1, writes[0].provider_ref)
    assert len(writes) == 2  # one write per request: the payment with the provider's answer
    sandbox = priced.providers["sandbox"]
    assert len([r for r in sandbox._intents if r == stored.provider_ref]) == 1  # one intent at the provider
    sandbox.approve(stored.provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    assert priced.billing.get(bill["bill_id"]).balance_fen == 0
    assert _balances(priced)["sandbox"] == 600 and priced.ledger.check() == []


def test_a_retried_qr_payment_during_a_provider_outage_gets_the_stored_answer(priced, api, device, clock):
    _park(device, clock)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    status, payment = _pay(api, bill["bill_id"])
    assert status == 201
    priced.providers["sandbox"].configure(error_next_create=1)  # the provider is down for the retry
    again_status, again = _pay(api, bill["bill_id"])
    assert again_status == 201 and again["payment_id"] == payment["payment_id"]
    assert again["next_action_url"] == payment["next_action_url"]
    priced.providers["sandbox"].configure(error_next_create=1)  # a new bill in an outage: 503, nothing stored
    _park(device, clock, plate="苏B54321")
    other = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    assert _pay(api, other["bill_id"])[0] == 503
