"""Coupons, pure: their shape, when they apply, and what they take off a bill."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.bills.model import Bill
from shared.clock import SHANGHAI
from shared.coupons.model import Coupon, apply, discount_for
from shared.errors import InvalidInput
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
OP, LOT = "wx-city-parking", "lx-nanchang-st-01"


def coupon(**over) -> Coupon:
    data = {
        "code": "WELCOME-5", "operator_id": OP, "kind": "amount_off", "amount_fen": 500,
        "valid_from": (NOW - timedelta(days=1)).isoformat(), "valid_until": (NOW + timedelta(days=30)).isoformat(),
        "max_redemptions": 100, "created_by": "op-user",
    }  # fmt: skip
    data.update(over)
    return Coupon.model_validate({k: v for k, v in data.items() if v is not None})


def bill(amount_fen=600, **over) -> Bill:
    data = {
        "bill_id": "bill_1", "session_id": "s1", "lot_id": LOT, "operator_id": OP, "district_code": "320213",
        "plate": "苏B12345", "plate_colour": PlateColour.BLUE, "vehicle_class": VehicleClass.SMALL,
        "amount_fen": amount_fen, "created_at": NOW, "exited_at": NOW,
    }  # fmt: skip
    data.update(over)
    return Bill(**data)


def refused(c: Coupon, b: Bill, now=NOW) -> str:
    with pytest.raises(InvalidInput) as exc:
        discount_for(c, b, now)
    return exc.value.code


def test_amount_off_takes_its_amount_and_never_more_than_is_due():
    assert discount_for(coupon(), bill(600), NOW) == 500
    assert discount_for(coupon(), bill(300), NOW) == 300
    assert discount_for(coupon(), bill(600, paid_fen=600), NOW) == 0


def test_percent_off_rounds_down_to_the_fen_and_respects_its_cap():
    half = coupon(kind="percent_off", amount_fen=None, percent=33)
    assert discount_for(half, bill(601), NOW) == 198  # 601 * 0.33 = 198.33
    capped = coupon(kind="percent_off", amount_fen=None, percent=50, max_off_fen=200)
    assert discount_for(capped, bill(1000), NOW) == 200
    assert discount_for(coupon(kind="percent_off", amount_fen=None, percent=100), bill(777), NOW) == 777
    assert discount_for(coupon(kind="percent_off", amount_fen=None, percent=1), bill(99), NOW) == 0


def test_percent_applies_to_what_is_still_due():
    c = coupon(kind="percent_off", amount_fen=None, percent=50)
    assert discount_for(c, bill(1000, paid_fen=400), NOW) == 300


def test_a_coupon_applies_once_per_bill():
    b = bill(600)
    after = apply(b, "WELCOME-5", discount_for(coupon(), b, NOW))
    assert (after.discount_fen, after.due_fen, after.coupons, after.version) == (500, 100, ["WELCOME-5"], 2)
    assert discount_for(coupon(), after, NOW) == 0


def test_refusals_have_codes():
    assert refused(coupon(active=False), bill()) == "coupon_inactive"
    assert refused(coupon(), bill(), NOW - timedelta(days=2)) == "coupon_not_yet_valid"
    assert refused(coupon(), bill(), NOW + timedelta(days=30)) == "coupon_expired"  # valid_until is exclusive
    assert refused(coupon(), bill(operator_id="xinwu-hitech")) == "coupon_not_for_lot"
    assert refused(coupon(lot_ids=["lx-zhongshan-rd"]), bill()) == "coupon_not_for_lot"
    assert discount_for(coupon(lot_ids=[LOT]), bill(), NOW) == 500
    assert refused(coupon(min_due_fen=1000), bill(600)) == "coupon_min_due"


@pytest.mark.parametrize("over", [
    {"code": "ab"},  # too short, lower case
    {"code": "WELCOME_5"},  # underscore
    {"code": "X" * 33},
    {"kind": "percent_off"},  # keeps amount_fen, lacks percent
    {"kind": "percent_off", "amount_fen": None, "percent": 0},
    {"kind": "percent_off", "amount_fen": None, "percent": 101},
    {"amount_fen": None},
    {"amount_fen": 5.5},  # money is integer fen
    {"max_off_fen": 100},  # only for percent_off
    {"valid_until": (NOW - timedelta(days=2)).isoformat()},
    {"valid_from": "2026-11-22T00:00:00"},  # naive
    {"max_redemptions": 0},
    {"per_plate_limit": 0},
    {"lot_ids": [LOT, LOT]},
    {"surprise": 1},
])  # fmt: skip
def test_malformed_coupons_are_rejected(over):
    with pytest.raises(ValidationError):
        coupon(**over)


@given(
    amount=st.integers(0, 10_000_000),
    paid=st.integers(0, 10_000_000),
    percent=st.integers(1, 100),
    cap=st.none() | st.integers(1, 10_000_000),
    off=st.integers(1, 10_000_000),
)
def test_discount_never_exceeds_due_never_negative_and_rounds_exactly(amount, paid, percent, cap, off):
    b = bill(amount, paid_fen=paid)
    pct = discount_for(coupon(kind="percent_off", amount_fen=None, percent=percent, max_off_fen=cap), b, NOW)
    fixed = discount_for(coupon(amount_fen=off), b, NOW)
    for d in (pct, fixed):
        assert type(d) is int and 0 <= d <= b.due_fen
        assert apply(b, "X-1X", d).balance_fen >= 0 or b.balance_fen < 0
    exact = b.due_fen * percent // 100  # integer arithmetic: no float ever touches the amount
    assert pct == (exact if cap is None else min(exact, cap))
    assert pct * 100 <= b.due_fen * percent < (pct + 1) * 100 or (cap is not None and pct == cap)
    assert fixed == min(off, b.due_fen)
