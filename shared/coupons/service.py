"""Creating coupons (operators for their own lots, city staff for any operator), and redeeming one on a
bill before it is paid.

A redemption is idempotent per bill: the pay page may be submitted twice, or the payment retried after a
provider failed, and the coupon is counted, and the discount posted, once.
"""

from __future__ import annotations

import random
import re
import time

from shared.auth import Principal, Role
from shared.bills.model import Bill
from shared.clock import Clock
from shared.coupons.model import CODE_PATTERN, Coupon, apply, discount_for
from shared.coupons.ports import CouponStore, Outcome, Redemption
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.ledger.model import Posting
from shared.payments.ports import MoneyStore
from shared.registry.ports import LotStore
from shared.registry.service import parse

ATTEMPTS = 8  # lost races on the bill (a reprice, a payment) or on the coupon's counter: re-read and retry


class CouponContention(Conflict):
    code = "contention"


def _forbidden(principal: Principal, operator_id: str) -> Forbidden:
    return Forbidden(f"{principal.subject} may not manage coupons of operator {operator_id}", code="operator_forbidden")


def _require_manager(principal: Principal, operator_id: str) -> None:
    """City admins for any operator; an operator for itself only."""
    if principal.role is Role.CITY_ADMIN:
        return
    if principal.role is Role.OPERATOR and principal.operator_id and principal.operator_id == operator_id:
        return
    raise _forbidden(principal, operator_id)


def normalise_code(raw: str) -> str:
    code = (raw or "").strip().upper()
    if not re.fullmatch(CODE_PATTERN, code):
        raise InvalidInput("a coupon code is 4..32 letters, digits and '-'", code="malformed_coupon")
    return code


class CouponService:
    def __init__(self, store: CouponStore, money: MoneyStore, lots: LotStore, clock: Clock) -> None:
        self._store, self._money, self._lots, self._clock = store, money, lots, clock

    # Staff
    def create(self, principal: Principal, data: dict) -> Coupon:
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        if principal.role is Role.OPERATOR and "operator_id" not in data:
            data = {**data, "operator_id": principal.operator_id}
        operator_id = data.get("operator_id")
        if not isinstance(operator_id, str):
            raise InvalidInput("operator_id is required", code="invalid_coupon")
        _require_manager(principal, operator_id)
        fields = {k: v for k, v in data.items() if k not in ("created_by", "created_at", "redeemed", "version")}
        coupon = parse(Coupon, {
            **fields, "created_by": principal.subject, "created_at": self._clock.now().isoformat(), "version": 1,
        }, code="invalid_coupon")  # fmt: skip
        for lot_id in coupon.lot_ids:
            if self._lots.require(lot_id).operator_id != coupon.operator_id:
                raise Forbidden(f"lot {lot_id} is not operated by {coupon.operator_id}", code="operator_forbidden")
        if not coupon.lot_ids and not self._lots.list(operator_id=coupon.operator_id):
            raise InvalidInput(f"operator {coupon.operator_id} has no lots to redeem in", code="coupon_no_lots")
        return self._store.create(coupon)

    def get(self, principal: Principal, code: str) -> Coupon:
        coupon = self._store.require(normalise_code(code))
        if not (principal.is_city or (principal.role is Role.OPERATOR and principal.operator_id == coupon.operator_id)):
            raise _forbidden(principal, coupon.operator_id)
        return coupon

    def deactivate(self, principal: Principal, code: str, version: object) -> Coupon:
        if type(version) is not int:
            raise InvalidInput("the body names the version it is based on: {version}", code="version_required")
        coupon = self._store.require(normalise_code(code))
        _require_manager(principal, coupon.operator_id)
        if not coupon.active:
            return coupon  # already: the desired state holds
        return self._store.replace(coupon.model_copy(update={"active": False}), expected_version=version)

    # Drivers, on the pay page
    def redeem(self, code: str, bill: Bill) -> Bill:
        """Apply the coupon ``code`` to ``bill`` and return the bill's new version (or ``bill`` unchanged if
        the coupon is applied already, or would take nothing off). InvalidInput with a ``coupon_*`` code if it
        does not apply; Conflict ``coupon_exhausted`` / ``coupon_plate_limit`` if its redemptions are used up."""
        code = normalise_code(code)
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))  # jitter: the counter is hot
                bill = self._money.bill(bill.bill_id) or bill
            if code in bill.coupons:
                return bill  # a retried request
            if bill.disputed:
                raise Conflict("the bill is disputed; staff decide before it can be paid", code="bill_disputed")
            coupon = self._store.require(code)
            now = self._clock.now()
            off = discount_for(coupon, bill, now)
            if off == 0:
                return bill  # nothing due, or a percentage too small to take a fen off: keep the coupon unused
            after = apply(bill, code, off)
            posting = Posting.discount(
                f"discount:{bill.bill_id}:{code}", bill.plate, bill.operator_id, off, now,
                refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id, "coupon": code},
            )  # fmt: skip
            outcome = self._store.redeem(Redemption(coupon=coupon, before=bill, after=after, posting=posting, at=now))
            if outcome is Outcome.REDEEMED:
                return after
            if outcome is Outcome.ALREADY:
                return self._money.bill(bill.bill_id) or bill
            if outcome is Outcome.EXHAUSTED:
                raise Conflict(f"coupon {code} has been used up", code="coupon_exhausted")
            if outcome is Outcome.PLATE_LIMIT:
                raise Conflict(f"coupon {code} has been used up for this plate", code="coupon_plate_limit")
        raise CouponContention(f"the bill {bill.bill_id} keeps changing; retry")
