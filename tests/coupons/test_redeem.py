"""Coupons on the local stack: redemption in one transaction with the bill and the ledger, idempotent per
bill, counted exactly under concurrency; who may create them; and, once wired into the API, a coupon
redeemed on the pay page before paying."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from functions.api.errors import status_for
from shared import tokens
from shared.payments.ports import Change, MoneyStore
from shared.auth import Principal, Role
from shared.bills.model import Bill, bill_id_for
from shared.bootstrap import Services
from shared.coupons.service import CouponService
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput
from shared.ledger.accounts import Account
from shared.ledger.model import Posting
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CallbackPoster, gate_event, price_lot

LOT, OPERATOR, OTHER_OP, OTHER_LOT = "lx-nanchang-st-01", "wx-city-parking", "xinwu-hitech", "xw-taihu-plaza"
PLATE = "苏B12345"
CITY = Principal(subject="city-user", role=Role.CITY_ADMIN)
OP = Principal(subject="op-user", role=Role.OPERATOR, operator_id=OPERATOR)


@pytest.fixture
def coupons(platform, city, clock) -> CouponService:
    svc = platform.services
    return CouponService(svc.stores.coupons, svc.stores.money, svc.registry.lots, clock)


@pytest.fixture
def money(platform) -> MoneyStore:
    return platform.services.stores.money


def spec(clock, **over) -> dict:
    data = {
        "code": "WELCOME-2", "operator_id": OPERATOR, "kind": "amount_off", "amount_fen": 200,
        "valid_from": clock.now().isoformat(), "valid_until": (clock.now() + timedelta(days=7)).isoformat(),
        "max_redemptions": 100,
    }  # fmt: skip
    data.update(over)
    return data


def make_bill(
    money: MoneyStore, clock, n: int, amount_fen: int = 600, plate: str | None = None, lot=LOT, op=OPERATOR
) -> Bill:
    """A bill of a car that left, charged ``amount_fen`` (as the exit would have)."""
    session = f"sess-{n}"
    bill = Bill(
        bill_id=bill_id_for(session), session_id=session, lot_id=lot, operator_id=op, district_code="320213",
        plate=plate or f"苏B1000{n}", plate_colour=PlateColour.BLUE, vehicle_class=VehicleClass.SMALL,
        entered_at=clock.now() - timedelta(hours=2), exited_at=clock.now(), amount_fen=amount_fen,
        created_at=clock.now(),
    )  # fmt: skip
    charge = Posting.charge(
        f"charge:{bill.bill_id}:0", bill.plate, op, amount_fen, clock.now(), refs={"bill_id": bill.bill_id}
    )
    assert money.commit(Change(bills=[bill], postings=[charge]))
    return bill


def code_of(call) -> tuple[int, str]:
    with pytest.raises(DomainError) as exc:
        call()
    return status_for(exc.value), exc.value.code


def test_redeem_lowers_the_due_and_posts_a_balanced_discount(coupons, money, platform, clock):
    coupons.create(OP, spec(clock))
    bill = make_bill(money, clock, 1)
    after = coupons.redeem("welcome-2", bill)  # codes are case-insensitive for drivers
    assert (after.discount_fen, after.due_fen, after.coupons, after.version) == (200, 400, ["WELCOME-2"], 2)
    assert money.bill(bill.bill_id) == after
    ledger = platform.services.ledger
    assert ledger.balance(Account.operator_discounts(OPERATOR)) == 200
    assert ledger.balance(Account.receivable(bill.plate)) == 400
    assert ledger.get(f"discount:{bill.bill_id}:WELCOME-2").amount_fen == 200
    assert ledger.check() == []
    assert coupons.get(OP, "WELCOME-2").redeemed == 1


def test_a_retried_redeem_for_the_same_bill_is_idempotent(coupons, money, platform, clock):
    coupons.create(OP, spec(clock))
    bill = make_bill(money, clock, 1)
    first = coupons.redeem("WELCOME-2", bill)
    assert coupons.redeem("WELCOME-2", first) == first
    assert coupons.redeem("WELCOME-2", bill) == first  # the stale bill of a request sent twice
    assert coupons.get(CITY, "WELCOME-2").redeemed == 1
    assert platform.services.ledger.balance(Account.operator_discounts(OPERATOR)) == 200
    assert platform.services.ledger.check() == []


def test_a_lost_race_on_the_bill_is_retried_with_a_fresh_read(coupons, money, platform, clock):
    coupons.create(OP, spec(clock, code="HALF-OFF", kind="percent_off", amount_fen=None, percent=50))
    stale = make_bill(money, clock, 1, amount_fen=600)
    repriced = stale.bumped(amount_fen=800)  # the car stayed longer: the bill moved on
    charge = Posting.charge(f"charge:{stale.bill_id}:1", stale.plate, OPERATOR, 200, clock.now())
    assert money.commit(Change(bills=[repriced], postings=[charge]))
    after = coupons.redeem("HALF-OFF", stale)
    assert (after.version, after.amount_fen, after.discount_fen, after.due_fen) == (3, 800, 400, 400)
    assert platform.services.ledger.check() == []


def test_max_redemptions_hold_under_concurrent_redeems(coupons, money, platform, clock):
    coupons.create(OP, spec(clock, max_redemptions=3))
    bills = [make_bill(money, clock, n) for n in range(8)]

    def redeem(bill):
        try:
            return coupons.redeem("WELCOME-2", bill).discount_fen
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(redeem, bills))
    assert sorted(results, key=str) == [200] * 3 + ["coupon_exhausted"] * 5
    assert coupons.get(OP, "WELCOME-2").redeemed == 3
    assert sum(money.bill(b.bill_id).discount_fen for b in bills) == 600
    assert platform.services.ledger.balance(Account.operator_discounts(OPERATOR)) == 600
    assert platform.services.ledger.check() == []


def test_concurrent_redeems_of_one_bill_apply_the_coupon_once(coupons, money, platform, clock):
    coupons.create(OP, spec(clock))
    bill = make_bill(money, clock, 1)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: coupons.redeem("WELCOME-2", bill), range(6)))
    assert {(b.version, b.discount_fen) for b in results} == {(2, 200)}
    assert coupons.get(OP, "WELCOME-2").redeemed == 1
    assert platform.services.ledger.check() == []


def test_per_plate_limit(coupons, money, clock):
    coupons.create(OP, spec(clock, per_plate_limit=1))
    coupons.redeem("WELCOME-2", make_bill(money, clock, 1, plate=PLATE))
    assert code_of(lambda: coupons.redeem("WELCOME-2", make_bill(money, clock, 2, plate=PLATE))) == (
        409,
        "coupon_plate_limit",
    )
    assert coupons.redeem("WELCOME-2", make_bill(money, clock, 3, plate="苏B99999")).discount_fen == 200


def test_refusals_are_400_with_codes_and_consume_nothing(coupons, money, clock):
    coupons.create(OP, spec(clock, lot_ids=["lx-zhongshan-rd"], min_due_fen=0))
    coupons.create(OP, spec(clock, code="BIG-ONLY", min_due_fen=1000))
    bill = make_bill(money, clock, 1)
    assert code_of(lambda: coupons.redeem("WELCOME-2", bill)) == (400, "coupon_not_for_lot")
    assert code_of(lambda: coupons.redeem("BIG-ONLY", bill)) == (400, "coupon_min_due")
    assert code_of(lambda: coupons.redeem("NO-SUCH", bill)) == (404, "unknown_coupon")
    assert code_of(lambda: coupons.redeem("bad code!", bill)) == (400, "malformed_coupon")
    clock.advance(days=8)
    assert code_of(lambda: coupons.redeem("BIG-ONLY", bill)) == (400, "coupon_expired")
    assert money.bill(bill.bill_id) == bill
    assert coupons.get(CITY, "WELCOME-2").redeemed == 0


def test_a_deactivated_coupon_no_longer_applies(coupons, money, clock):
    created = coupons.create(OP, spec(clock))
    assert code_of(lambda: coupons.deactivate(OP, "WELCOME-2", created.version + 1)) == (409, "version_conflict")
    assert code_of(lambda: coupons.deactivate(OP, "WELCOME-2", None)) == (400, "version_required")
    gone = coupons.deactivate(OP, "WELCOME-2", created.version)
    assert (gone.active, gone.version) == (False, 2)
    assert code_of(lambda: coupons.redeem("WELCOME-2", make_bill(money, clock, 1))) == (400, "coupon_inactive")


def test_operators_manage_coupons_of_their_own_lots_only(coupons, clock):
    assert code_of(lambda: coupons.create(OP, spec(clock, lot_ids=[OTHER_LOT]))) == (403, "operator_forbidden")
    assert code_of(lambda: coupons.create(OP, spec(clock, operator_id=OTHER_OP))) == (403, "operator_forbidden")
    district = Principal(subject="lx", role=Role.DISTRICT_ADMIN, district_code="320213")
    assert code_of(lambda: coupons.create(district, spec(clock))) == (403, "operator_forbidden")
    assert code_of(lambda: coupons.create(CITY, spec(clock, lot_ids=[OTHER_LOT]))) == (403, "operator_forbidden")
    assert code_of(lambda: coupons.create(OP, spec(clock, lot_ids=["nowhere"]))) == (404, "unknown_lot")
    mine = {k: v for k, v in spec(clock, lot_ids=[LOT]).items() if k != "operator_id"}  # defaults to the caller's
    assert coupons.create(OP, mine).created_by == "op-user"
    assert coupons.create(CITY, spec(clock, code="XW-TAIHU", operator_id=OTHER_OP)).operator_id == OTHER_OP
    other = Principal(subject="xw", role=Role.OPERATOR, operator_id=OTHER_OP)
    assert code_of(lambda: coupons.get(other, "WELCOME-2")) == (403, "operator_forbidden")
    assert code_of(lambda: coupons.deactivate(other, "WELCOME-2", 1)) == (403, "operator_forbidden")
    assert code_of(lambda: coupons.create(OP, spec(clock))) == (409, "already_exists")
    with pytest.raises(InvalidInput) as exc:
        coupons.create(OP, spec(clock, code="NEW-ONE", kind="percent_off"))
    assert exc.value.code == "invalid_coupon" and exc.value.details["errors"]
    with pytest.raises(Forbidden):
        coupons.create(Principal(subject="a", role=Role.AUDITOR), spec(clock, code="NEW-ONE"))


# Through the HTTP API, once the lead has wired ``coupons`` into Services and registered the routes.
def _wired() -> bool:
    from functions.api.app import app

    return "coupons" in {f.name for f in dataclasses.fields(Services)} and "/v1/admin/coupons" in app.routes


@pytest.fixture
def wired(platform, city):
    if not _wired():
        pytest.skip("coupons are not wired into bootstrap / the API yet")
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    return platform.services


@pytest.fixture
def token(platform, clock):
    def make(role: Role, operator: str | None = None) -> dict:
        t = tokens.mint(
            platform.services.token_key(), subject=f"{role.value}-user", role=role, now=clock.now(), operator_id=operator
        )
        return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}

    return make


def _call(api, method, path, headers, body=None):
    resp = getattr(api, method)(path, headers=headers, body=json.dumps(body).encode() if body is not None else b"")
    return resp.status_code, json.loads(resp.body or b"null")


def test_pay_page_redeems_a_coupon_before_paying(wired, api, device, token, clock):
    op = token(Role.OPERATOR, OPERATOR)
    status, created = _call(
        api, "post", "/v1/admin/coupons", op, {k: v for k, v in spec(clock).items() if k != "operator_id"}
    )
    assert status == 201 and created["redeemed"] == 0, created
    assert _call(api, "post", "/v1/admin/coupons", op, spec(clock, code="XW-1", operator_id=OTHER_OP))[0] == 403

    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    clock.advance(hours=2.5)
    device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    bill = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]
    assert bill["due_fen"] == 600

    pay = {"bill_id": bill["bill_id"], "channel": "wechat_pay", "coupon": "WELCOME-2"}
    headers = {"Content-Type": "application/json"}
    status, payment = _call(api, "post", f"/v1/pay/{LOT}/payments", headers, pay)
    assert status == 201 and payment["amount_fen"] == 400, payment
    again = _call(api, "post", f"/v1/pay/{LOT}/payments", headers, pay)[1]  # the driver taps twice
    assert again["payment_id"] == payment["payment_id"]
    assert _call(api, "get", "/v1/admin/coupons/WELCOME-2", op)[1]["redeemed"] == 1

    sandbox = wired.providers["sandbox"]
    sandbox.approve(wired.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    stored = wired.billing.get(bill["bill_id"])
    assert (stored.discount_fen, stored.paid_fen, stored.status.value) == (200, 400, "settled")
    assert wired.ledger.balance(Account.operator_discounts(OPERATOR)) == 200
    assert wired.ledger.check() == []

    status, gone = _call(api, "post", "/v1/admin/coupons/WELCOME-2/deactivate", op, {"version": created["version"]})
    assert status == 200 and gone["active"] is False
