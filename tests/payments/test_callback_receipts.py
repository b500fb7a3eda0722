"""Issue 10: a payment success applied by a provider callback is recorded by the payment itself
(``Payment.succeeded_event``, in the transaction that applies it), not by a receipt item written before it;
every other delivery keeps its receipt. Crash-and-retry: a crash before the transaction leaves nothing and the
resend applies the payment; a crash after it leaves the payment applied and the resend is a duplicate that
changes no money (and is receipted)."""

from __future__ import annotations

import json

import pytest

from shared.ledger.accounts import Account
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import gate_event, price_lot

LOT = "lx-nanchang-st-01"


@pytest.fixture
def priced(platform, city):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    return platform.services


def _approved_callback(services, api, device, clock, plate):
    """Park, pay at the lane with the pay code, approve: the provider's queued success callback."""
    device("lx-in1").post(gate_event("entry", plate, clock.now()))
    clock.advance(2.5 * 3600)
    status, body = device("lx-out1").post(gate_event("exit", plate, clock.now()))
    assert status == 200, body
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill["bill_id"], "channel": "wechat_pay"}))
    assert resp.status_code == 201, resp.body
    payment = json.loads(resp.body)
    sandbox = services.providers["sandbox"]
    sandbox.approve(services.payments.payment(payment["payment_id"]).provider_ref)
    (headers, raw), = sandbox.pending_deliveries()
    return bill["bill_id"], payment["payment_id"], headers, raw, json.loads(raw)["id"]


def _receipted(services, event_id) -> bool:
    """Whether a receipt of the event exists (put-if-absent: a refused put says it does; the probe's own put
    is harmless, it records a receipt the test does not look at again)."""
    return not services.payments._money.record_receipt("sandbox", event_id, {"probe": True}, services.payments._clock.now())


def _money_moved(services, plate):
    return services.ledger.balance(Account.provider_clearing("sandbox")), services.ledger.balance(Account.receivable(plate))


def _applied_once(services, api, device, clock, plate):
    bill_id, payment_id, headers, raw, event_id = _approved_callback(services, api, device, clock, plate)
    before = _money_moved(services, plate)
    out = services.payments.callback("sandbox", headers, raw)
    assert (out["outcome"], out["first_delivery"]) == ("applied", True)
    payment = services.payments.payment(payment_id)
    assert payment.state.value == "succeeded" and payment.succeeded_event == event_id
    assert not _receipted(services, event_id)  # no receipt item: the payment is the record
    moved = _money_moved(services, plate)
    assert moved[0] - before[0] == 600 and services.billing.get(bill_id).balance_fen == 0
    again = services.payments.callback("sandbox", headers, raw)  # the provider repeats the delivery
    assert again["outcome"] == "duplicate"
    assert _money_moved(services, plate) == moved and services.payments.payment(payment_id).version == payment.version
    assert services.ledger.check() == []


def test_an_applied_payment_is_its_own_receipt(priced, api, device, clock):
    _applied_once(priced, api, device, clock, "苏B61001")


def test_an_applied_payment_is_its_own_receipt_on_dynamodb(stack, priced, api, device, clock):
    _applied_once(priced, api, device, clock, "苏B61002")
    # the payments table holds no callback receipt for the applied delivery (the probe above wrote one for
    # the duplicate, whose receipt is what a repeat records)
    from shared.adapters.dynamo.models import PaymentItem

    receipts = [i.pk for i in PaymentItem.scan(PaymentItem.pk.startswith("CALLBACK#"))]
    assert len(receipts) == 1


def test_a_crash_before_the_transaction_leaves_nothing_and_the_resend_applies(priced, api, device, clock, monkeypatch):
    plate = "苏B61003"
    bill_id, payment_id, headers, raw, event_id = _approved_callback(priced, api, device, clock, plate)
    money = priced.payments.applier._money
    before = _money_moved(priced, plate)

    def crash(change):
        raise RuntimeError("the function died before its transaction")

    monkeypatch.setattr(money, "commit", crash)
    with pytest.raises(RuntimeError):
        priced.payments.callback("sandbox", headers, raw)
    monkeypatch.undo()
    assert priced.payments.payment(payment_id).state.value == "pending" and _money_moved(priced, plate) == before
    out = priced.payments.callback("sandbox", headers, raw)  # the provider resends: it had no answer
    assert out["outcome"] == "applied" and priced.payments.payment(payment_id).succeeded_event == event_id
    assert priced.billing.get(bill_id).balance_fen == 0 and priced.ledger.check() == []


def test_a_crash_after_the_transaction_makes_the_resend_a_duplicate(priced, api, device, clock, monkeypatch):
    plate = "苏B61004"
    bill_id, payment_id, headers, raw, event_id = _approved_callback(priced, api, device, clock, plate)
    money = priced.payments.applier._money
    real_commit = money.commit

    def commit_then_crash(change):
        assert real_commit(change)
        raise RuntimeError("the function died after its transaction, before answering")

    monkeypatch.setattr(money, "commit", commit_then_crash)
    with pytest.raises(RuntimeError):
        priced.payments.callback("sandbox", headers, raw)
    monkeypatch.undo()
    moved = _money_moved(priced, plate)
    out = priced.payments.callback("sandbox", headers, raw)
    assert out["outcome"] == "duplicate" and _money_moved(priced, plate) == moved
    assert priced.payments.payment(payment_id).succeeded_event == event_id
    assert priced.billing.get(bill_id).balance_fen == 0 and priced.ledger.check() == []
    assert _receipted(priced, event_id)  # the answered resend is receipted


def test_a_delivery_that_applies_no_payment_keeps_its_receipt(priced, api, device, clock):
    bill_id, payment_id, headers, raw, event_id = _approved_callback(priced, api, device, clock, "苏B61005")
    body = json.loads(raw)
    body["type"] = "payment.mystery"  # a type the platform ignores
    sandbox = priced.providers["sandbox"]
    forged = json.dumps(body).encode()
    signed = sandbox._outbox._signed(forged)
    out = priced.payments.callback("sandbox", signed, forged)
    assert out["outcome"] in ("ignored", "unknown") and out["first_delivery"] is True
    assert _receipted(priced, body["id"])
