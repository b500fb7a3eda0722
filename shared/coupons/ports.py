"""The coupons' port, and the unit of work and outcomes of one redemption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from shared.bills.model import Bill
from shared.coupons.model import Coupon
from shared.ledger.model import Posting


class Outcome(str, Enum):
    REDEEMED = "redeemed"  # everything was written
    ALREADY = "already"  # the coupon was applied to this bill before: nothing written
    EXHAUSTED = "exhausted"  # max_redemptions reached
    PLATE_LIMIT = "plate_limit"  # per_plate_limit reached for the bill's plate
    STALE = "stale"  # the bill or the coupon changed since read, or a concurrent transaction won: re-read


@dataclass(frozen=True)
class Redemption:
    """What one redemption writes: the coupon as read, the bill before and after, the ledger posting."""

    coupon: Coupon
    before: Bill
    after: Bill
    posting: Posting
    at: datetime


class CouponStore(Protocol):
    """Contract (``tests/contracts/test_coupons.py``):

    - ``create`` stores version 1 with no redemptions (``Conflict`` ``already_exists`` if the code is taken);
      ``replace`` stores version n + 1 over n and leaves the redemption counter as it is.
    - ``redeem`` records the redemption for the bill, counts it (and the plate's), stores the bill's next
      version and posts the discount, all or nothing. ``ALREADY``: the coupon was applied to the bill (or
      the posting exists); ``EXHAUSTED``/``PLATE_LIMIT``: no redemptions left; ``STALE``: the bill or the
      coupon changed since read. Nothing is written unless the outcome is ``REDEEMED``.
    """

    def get(self, code: str) -> Coupon | None: ...

    def require(self, code: str) -> Coupon: ...

    def create(self, coupon: Coupon) -> Coupon: ...

    def replace(self, coupon: Coupon, expected_version: int) -> Coupon: ...

    def redemption(self, code: str, bill_id: str) -> dict | None: ...

    def redeem(self, r: Redemption) -> Outcome: ...
