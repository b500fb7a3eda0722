"""The coupon store's redemption contract on both adapters, and the fake Workflows against its port."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.memory.workflows import Workflows as FakeWorkflows
from shared.coupons.model import Coupon
from shared.coupons.ports import Outcome, Redemption
from shared.ledger.model import Posting
from shared.payments.ports import Change
from tests.contracts.records import T0, bill


def _coupon(code: str, **more) -> Coupon:
    return Coupon(code=code, operator_id="op-1", kind="amount_off", amount_fen=100, valid_from=T0 - timedelta(days=1),
                  valid_until=T0 + timedelta(days=1), created_by="t", **{"max_redemptions": 2, **more})  # fmt: skip


def _redemption(coupon: Coupon, before, uid: str) -> Redemption:
    after = before.bumped(discount_fen=before.discount_fen + 100, coupons=[*before.coupons, coupon.code])
    posting = Posting.discount(f"coupon:{coupon.code}:{before.bill_id}", before.plate, "op-1", 100, T0)
    return Redemption(coupon=coupon, before=before, after=after, posting=posting, at=T0)


def _stored_bill(stores, bill_id, **more):
    b = bill(bill_id, **more)
    assert stores.money.commit(Change(bills=[b]))
    return b


def test_a_redemption_writes_everything_once(stores, uid):
    code = f"C-{uid}".upper()[:32]
    coupon = stores.coupons.create(_coupon(code))
    b = _stored_bill(stores, f"b-{uid}")
    assert stores.coupons.redeem(_redemption(coupon, b, uid)) is Outcome.REDEEMED
    assert stores.coupons.require(code).redeemed == 1 and stores.money.bill(b.bill_id).discount_fen == 100
    assert stores.coupons.redemption(code, b.bill_id)["discount_fen"] == 100
    assert stores.ledger.get(f"coupon:{code}:{b.bill_id}") is not None
    again = _redemption(stores.coupons.require(code), stores.money.bill(b.bill_id), uid)
    assert stores.coupons.redeem(again) is Outcome.ALREADY and stores.coupons.require(code).redeemed == 1


def test_a_stale_bill_or_coupon_writes_nothing(stores, uid):
    code = f"S-{uid}".upper()[:32]
    coupon = stores.coupons.create(_coupon(code))
    b = _stored_bill(stores, f"b-{uid}")
    stores.money.commit(Change(bills=[b.bumped(paid_fen=100)]))  # the bill moved on since read
    assert stores.coupons.redeem(_redemption(coupon, b, uid)) is Outcome.STALE
    edited = stores.coupons.replace(coupon.model_copy(update={"active": False}), expected_version=1)
    fresh = stores.money.bill(b.bill_id)
    assert stores.coupons.redeem(_redemption(coupon, fresh, uid)) is Outcome.STALE  # the coupon moved on
    assert edited.version == 2 and stores.coupons.require(code).redeemed == 0
    assert stores.coupons.redemption(code, b.bill_id) is None and stores.money.bill(b.bill_id).discount_fen == 0


def test_limits_are_kept(stores, uid):
    code = f"L-{uid}".upper()[:32]
    coupon = stores.coupons.create(_coupon(code, max_redemptions=2, per_plate_limit=1))
    first, second = _stored_bill(stores, f"b1-{uid}"), _stored_bill(stores, f"b2-{uid}")
    other = _stored_bill(stores, f"b3-{uid}", plate="苏B54321")
    third = _stored_bill(stores, f"b4-{uid}", plate="苏B77777")
    assert stores.coupons.redeem(_redemption(coupon, first, uid)) is Outcome.REDEEMED
    coupon = stores.coupons.require(code)
    assert stores.coupons.redeem(_redemption(coupon, second, uid)) is Outcome.PLATE_LIMIT
    assert stores.coupons.redeem(_redemption(coupon, other, uid)) is Outcome.REDEEMED
    assert stores.coupons.redeem(_redemption(stores.coupons.require(code), third, uid)) is Outcome.EXHAUSTED
    assert stores.coupons.require(code).redeemed == 2


def test_the_fake_workflows_start_once_per_name_and_wake_a_token_once():
    wf = FakeWorkflows()
    wf.start("pay-later-billing", "bill-1", {"bill_id": "bill-1"})
    wf.start("pay-later-billing", "bill-1", {"bill_id": "other"})
    assert [(s.name, s.payload) for s in wf.runs("pay-later-billing")] == [("bill-1", {"bill_id": "bill-1"})]
    token = wf.token("bill-1")
    assert wf.wake(token, {"paid": True}) and not wf.wake(token, {"paid": True})
    assert not wf.wake("never-issued", {}) and wf.woken == [(token, {"paid": True})]


def test_step_functions_start_once_per_name(aws_stack, uid):
    wf = aws_stack.services.stores.workflows
    for _ in range(2):
        wf.start("unmatched-exit-review", f"s-{uid}", {"session_id": f"s-{uid}", "lot_id": "x", "review_after_s": 900})
    assert [e["name"] for e in aws_stack.executions("unmatched-exit-review")].count(f"s-{uid}") == 1

