"""A citizen pays several of their own due bills with one payment: applied exactly once, to every bill at once
(a balanced posting each), never partly; only their own bills, of one operator, due and not disputed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.auth import Principal, Role
from shared.ledger.model import Posting
from shared.payments.applier import PaymentContention
from shared.tokens import mint
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CITY_ADMIN, CallbackPoster, gate_event, pay_later_citizen

PLATE, LOT, XINWU_LOT = "苏B12345", "lx-nanchang-st-01", "xw-taihu-plaza"


def _stay(device, clock, device_in: str, device_out: str, lot: str, hours: float) -> None:
    device(device_in).post(gate_event("entry", PLATE, clock.now(), lot=lot))
    clock.advance(hours=hours)
    device(device_out).post(gate_event("exit", PLATE, clock.now(), lot=lot, lane="out-1"))
    clock.advance(minutes=5)


@pytest.fixture
def due_bills(services, api, device, clock, city):
    """Three stays left unpaid: two in a Liangxi lot (operator wx-city-parking), one in Xinwu (xinwu-hitech)."""
    me = pay_later_citizen(services, api, clock, PLATE, LOT, ZHUMADIAN_CLASS1)
    me("post", "/v1/me/pay-later/pause")  # so the exits leave bills due instead of charging the saved method
    lot = services.registry.lots.require(XINWU_LOT)  # the tariff is registered already: point the lot at it
    services.registry.update_lot(CITY_ADMIN, XINWU_LOT, {**lot.model_dump(mode="json"), "tariff_ref": ZHUMADIAN_CLASS1.id})
    _stay(device, clock, "lx-in1", "lx-out1", LOT, 2.5)
    _stay(device, clock, "lx-in1", "lx-out1", LOT, 1)
    xw_out = services.registry.register_device(CITY_ADMIN,
        {"device_id": "xw-out1", "kind": "gate_camera", "lot_id": XINWU_LOT, "lane": "out-1"}).secret
    city.secrets["xw-out1"] = xw_out
    _stay(device, clock, "xw-in1", "xw-out1", XINWU_LOT, 1)
    bills = me("get", "/v1/me/bills")[1]["bills"]
    by_lot = {lot: [b for b in bills if b["lot_id"] == lot and b["due_fen"] > 0] for lot in (LOT, XINWU_LOT)}
    assert len(by_lot[LOT]) == 2 and len(by_lot[XINWU_LOT]) == 1, bills
    return me, by_lot


def _settle(services, api, payment_id: str) -> CallbackPoster:
    sandbox = services.providers["sandbox"]
    sandbox.approve(services.payments.payment(payment_id).provider_ref)
    poster = CallbackPoster(api, "sandbox")
    sandbox.deliver(poster)
    return poster


def test_two_bills_one_payment_each_settled_once_with_its_posting(services, api, due_bills):
    me, by_lot = due_bills
    ids = [b["bill_id"] for b in by_lot[LOT]]
    case = services.arrears.open(services.billing.get(ids[0]), {})  # one of them is already an arrears case
    status, payment = me("post", "/v1/me/payments", {"bill_ids": ids, "channel": "alipay"})
    assert status == 201, payment
    total = sum(b["due_fen"] for b in by_lot[LOT])
    assert payment["amount_fen"] == total and payment["allocations"] == {b["bill_id"]: b["due_fen"] for b in sorted(by_lot[LOT], key=lambda b: b["bill_id"])}
    again = me("post", "/v1/me/payments", {"bill_ids": list(reversed(ids)), "channel": "alipay"})[1]
    assert again["payment_id"] == payment["payment_id"]  # a double tap: the same payment, not a second charge

    poster = _settle(services, api, payment["payment_id"])
    assert poster.responses and all(s == 200 for s, _ in poster.responses)
    for bill_id in ids:
        bill = services.billing.get(bill_id)
        assert bill.balance_fen == 0 and bill.payments == [payment["payment_id"]]
        posting = services.ledger.get(f"pay:{payment['payment_id']}:{bill_id}")
        assert posting.amount_fen == services.billing.get(bill_id).paid_fen and sum(e.amount_fen for e in posting.entries) == 0
    assert services.ledger.check() == []
    assert services.arrears.view(Principal(subject="c", role=Role.CITY_ADMIN), case.case_id).state.value == "closed"

    # The provider repeats itself: nothing moves twice.
    sandbox = services.providers["sandbox"]
    before = {i: services.billing.get(i).paid_fen for i in ids}
    assert services.payments.applier.succeeded(payment["payment_id"], total, None, services.clock.now()) == "duplicate"
    sandbox.deliver(poster)
    assert {i: services.billing.get(i).paid_fen for i in ids} == before
    assert me("get", f"/v1/payments/{payment['payment_id']}")[1]["state"] == "succeeded"


def test_nothing_is_applied_when_one_bills_posting_cannot_be_written(services, api, due_bills):
    me, by_lot = due_bills
    ids = [b["bill_id"] for b in by_lot[LOT]]
    payment = me("post", "/v1/me/payments", {"bill_ids": ids, "channel": "wechat_pay"})[1]
    # Someone wrote the second bill's posting id first: the whole change must fail, the first bill included.
    clash = Posting.payment(f"pay:{payment['payment_id']}:{sorted(ids)[1]}", "苏B00000", "sandbox", 1, services.clock.now())
    assert services.ledger.post(clash)
    with pytest.raises(PaymentContention):
        services.payments.applier.succeeded(payment["payment_id"], payment["amount_fen"], "ref", services.clock.now())
    for bill_id in ids:
        assert services.billing.get(bill_id).paid_fen == 0
    assert services.payments.payment(payment["payment_id"]).state.value != "succeeded"


def test_a_bill_paid_meanwhile_elsewhere_gets_back_only_its_own_share(services, api, due_bills):
    me, by_lot = due_bills
    first, second = sorted(by_lot[LOT], key=lambda b: b["bill_id"])
    payment = me("post", "/v1/me/payments", {"bill_ids": [first["bill_id"], second["bill_id"]], "channel": "unionpay"})[1]
    alone = json.loads(api.post(f"/v1/bills/{second['bill_id']}/payments", headers={"Content-Type": "application/json"},
                                body=json.dumps({"channel": "wechat_pay"})).body)
    _settle(services, api, alone["payment_id"])  # the second bill is paid on its own first
    _settle(services, api, payment["payment_id"])
    one, two = services.billing.get(first["bill_id"]), services.billing.get(second["bill_id"])
    assert one.balance_fen == 0 and one.refunded_fen == 0
    assert two.balance_fen == 0 and two.refunded_fen == second["due_fen"]  # its share of the joint payment went back
    refunds = services.payments.refunds_of(two)
    assert [r["amount_fen"] for r in refunds] == [second["due_fen"]] and services.payments.refunds_of(one) == []
    assert services.ledger.check() == []


def test_only_my_due_bills_of_one_operator(services, api, clock, due_bills):
    me, by_lot = due_bills
    lx, xw = [b["bill_id"] for b in by_lot[LOT]], by_lot[XINWU_LOT][0]["bill_id"]
    status, body = me("post", "/v1/me/payments", {"bill_ids": [lx[0], xw], "channel": "alipay"})
    assert (status, body["code"]) == (409, "mixed_operators")
    assert me("post", "/v1/me/payments", {"bill_ids": [lx[0], "bill_nope"], "channel": "alipay"})[1]["code"] == "unknown_bill"
    assert me("post", "/v1/me/payments", {"bill_ids": [lx[0]], "channel": "etc"})[1]["code"] == "bad_channel"
    assert me("post", "/v1/me/payments", {"bill_ids": [], "channel": "alipay"})[1]["code"] == "bad_bill_selection"
    assert me("post", "/v1/me/payments", {"bill_ids": [lx[0], lx[0]], "channel": "alipay"})[1]["code"] == "bad_bill_selection"
    assert me("post", "/v1/me/payments", {"bill_ids": "x", "channel": "alipay"})[1]["code"] == "bad_bill_selection"

    token = mint(services.token_key(), subject="mallory", role=Role.CITIZEN, now=clock.now(), ttl=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    api.post("/v1/me/account", headers=headers, body=json.dumps({"consent": True}))
    resp = api.post("/v1/me/payments", headers=headers, body=json.dumps({"bill_ids": lx, "channel": "alipay"}))
    assert (resp.status_code, json.loads(resp.body)["code"]) == (404, "unknown_bill")  # not mine: as if absent

    me("post", f"/v1/me/bills/{lx[1]}/disputes", {"reason": "missed_exit", "detail": "left earlier"})
    status, body = me("post", "/v1/me/payments", {"bill_ids": lx, "channel": "alipay"})
    assert (status, body["code"]) == (409, "bill_disputed")


def test_on_dynamodb_the_bills_and_postings_go_in_one_transaction(stack, services, api, due_bills):
    """The same journey on the DynamoDB adapters (moto): the change is one TransactWriteItems."""
    assert type(services.stores.money).__module__.startswith("shared.adapters.dynamo")
    test_two_bills_one_payment_each_settled_once_with_its_posting(services, api, due_bills)
