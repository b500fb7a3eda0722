"""Coupons and their redemptions in memory; a redemption is checked whole, then applied whole."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK
from shared.adapters.memory.money import MoneyStore
from shared.adapters.records import Lookup
from shared.coupons.model import Coupon
from shared.coupons.ports import Outcome, Redemption
from shared.errors import Conflict
from shared.payments.ports import Change


class CouponStore(Lookup[Coupon]):
    kind, missing = "coupon", "does not exist"

    def __init__(self, money: MoneyStore) -> None:
        self._money = money
        self.coupons: dict[str, dict] = {}  # code -> {"doc", "version", "redeemed"}
        self.redemptions: dict[tuple[str, str], dict] = {}
        self.per_plate: dict[tuple[str, str], int] = {}

    def get(self, code: str) -> Coupon | None:
        item = self.coupons.get(code)
        return Coupon.model_validate({**item["doc"], "redeemed": item["redeemed"]}) if item else None

    def create(self, coupon: Coupon) -> Coupon:
        coupon = coupon.model_copy(update={"version": 1, "redeemed": 0})
        with LOCK:
            if coupon.code in self.coupons:
                raise Conflict(f"coupon {coupon.code} already exists", code="already_exists")
            self.coupons[coupon.code] = {"doc": coupon.model_dump(mode="json", exclude={"redeemed"}), "version": 1, "redeemed": 0}
        return coupon

    def replace(self, coupon: Coupon, expected_version: int) -> Coupon:
        new = coupon.model_copy(update={"version": expected_version + 1})
        with LOCK:
            item = self.coupons.get(coupon.code)
            if item is None or item["version"] != expected_version:
                current = self.require(coupon.code)
                raise Conflict(
                    f"coupon changed since version {expected_version} (now {current.version})",
                    code="version_conflict", current_version=current.version,
                )  # fmt: skip
            item.update(doc=new.model_dump(mode="json", exclude={"redeemed"}), version=new.version)
        return self.require(coupon.code)

    def redemption(self, code: str, bill_id: str) -> dict | None:
        found = self.redemptions.get((code, bill_id))
        return dict(found) if found is not None else None

    def redeem(self, r: Redemption) -> Outcome:
        coupon, code, bill_id, plate = r.coupon, r.coupon.code, r.before.bill_id, r.before.plate
        change = Change(bills=[r.after], postings=[r.posting])
        with LOCK:
            if (code, bill_id) in self.redemptions or not self._money.ledger.absent([r.posting]):
                return Outcome.ALREADY
            item = self.coupons.get(code)
            if item is None or item["version"] != coupon.version or item["redeemed"] >= coupon.max_redemptions:
                if item is not None and item["version"] == coupon.version:
                    return Outcome.EXHAUSTED
                return Outcome.STALE
            if coupon.per_plate_limit is not None and self.per_plate.get((code, plate), 0) >= coupon.per_plate_limit:
                return Outcome.PLATE_LIMIT
            stored = self._money.bills.get(bill_id)
            if stored is None or stored["version"] != r.before.version or not self._money.fits(change):
                return Outcome.STALE
            self.redemptions[(code, bill_id)] = {
                "code": code, "bill_id": bill_id, "plate": plate, "lot_id": r.before.lot_id,
                "discount_fen": r.after.discount_fen - r.before.discount_fen, "at": r.at.isoformat(),
            }  # fmt: skip
            item["redeemed"] += 1
            if coupon.per_plate_limit is not None:
                self.per_plate[(code, plate)] = self.per_plate.get((code, plate), 0) + 1
            self._money.apply(change)
        return Outcome.REDEEMED
