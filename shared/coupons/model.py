"""A coupon an operator funds, and what it takes off a bill. Pure: no I/O.

A coupon is valid from ``valid_from`` (inclusive) to ``valid_until`` (exclusive), for the bills of its
operator's lots (all of them, or those listed in ``lot_ids``). It takes a fixed amount off, or a percentage
of what is due, rounded down to the fen and capped by ``max_off_fen``. Either way it never takes off more
than is due, and it applies at most once per bill. The operator pays for it: the ledger posts it as
``discount`` (Dr operator_discounts / Cr receivable).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from shared.bills.model import Bill
from shared.errors import InvalidInput
from shared.registry.model import Identifier

CODE_PATTERN = r"^[A-Z0-9-]{4,32}$"
CouponCode = Annotated[str, Field(pattern=CODE_PATTERN, description="4..32 of A-Z, 0-9 and '-'.")]


class CouponKind(str, Enum):
    AMOUNT_OFF = "amount_off"  # amount_fen off what is due
    PERCENT_OFF = "percent_off"  # percent of what is due, rounded down to the fen, at most max_off_fen


class Coupon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: CouponCode
    operator_id: Identifier = Field(description="The operator that funds it.")
    lot_ids: list[Identifier] = Field(default_factory=list, description="Empty: every lot of the operator.")
    kind: CouponKind
    amount_fen: StrictInt | None = Field(None, ge=1, description="amount_off: the fen taken off.")
    percent: StrictInt | None = Field(None, ge=1, le=100, description="percent_off: the share of the due taken off.")
    max_off_fen: StrictInt | None = Field(None, ge=1, description="percent_off: at most this many fen off.")
    min_due_fen: StrictInt = Field(0, ge=0, description="Applies only to bills with at least this much due.")
    valid_from: AwareDatetime
    valid_until: AwareDatetime = Field(description="Exclusive.")
    max_redemptions: StrictInt = Field(ge=1, description="Bills it may be applied to, in all.")
    per_plate_limit: StrictInt | None = Field(None, ge=1, description="Bills of one plate it may be applied to.")
    active: bool = True
    created_by: str = Field(min_length=1, max_length=200)
    created_at: AwareDatetime | None = None
    redeemed: int = Field(0, ge=0, description="Redemptions so far; kept by the store, ignored when written.")
    version: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _shape(self) -> Coupon:
        if self.kind is CouponKind.AMOUNT_OFF:
            if self.amount_fen is None or self.percent is not None or self.max_off_fen is not None:
                raise ValueError("an amount_off coupon has amount_fen, and neither percent nor max_off_fen")
        elif self.percent is None or self.amount_fen is not None:
            raise ValueError("a percent_off coupon has percent (and optionally max_off_fen), not amount_fen")
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if len(set(self.lot_ids)) != len(self.lot_ids):
            raise ValueError("lot_ids must be unique")
        return self


def _refused(message: str, code: str, coupon: Coupon) -> InvalidInput:
    return InvalidInput(message, code=code, coupon=coupon.code)


def check_applicable(coupon: Coupon, bill: Bill, now: datetime) -> None:
    """Raise ``InvalidInput`` (a ``coupon_*`` code) if ``coupon`` may not be applied to ``bill`` at ``now``."""
    if not coupon.active:
        raise _refused(f"coupon {coupon.code} is no longer valid", "coupon_inactive", coupon)
    if now < coupon.valid_from:
        raise _refused(
            f"coupon {coupon.code} is valid from {coupon.valid_from.isoformat()}", "coupon_not_yet_valid", coupon
        )
    if now >= coupon.valid_until:
        raise _refused(f"coupon {coupon.code} expired at {coupon.valid_until.isoformat()}", "coupon_expired", coupon)
    if bill.operator_id != coupon.operator_id or (coupon.lot_ids and bill.lot_id not in coupon.lot_ids):
        raise _refused(f"coupon {coupon.code} is not valid in lot {bill.lot_id}", "coupon_not_for_lot", coupon)
    if bill.due_fen < coupon.min_due_fen:
        raise _refused(
            f"coupon {coupon.code} applies from {coupon.min_due_fen} fen due, {bill.due_fen} is due",
            "coupon_min_due", coupon,
        )  # fmt: skip


def discount_for(coupon: Coupon, bill: Bill, now: datetime) -> int:
    """The fen ``coupon`` takes off ``bill`` at ``now``: 0..bill.due_fen, 0 if it is applied already.
    Refusals raise ``InvalidInput``: coupon_inactive, coupon_not_yet_valid, coupon_expired,
    coupon_not_for_lot, coupon_min_due."""
    if coupon.code in bill.coupons:
        return 0
    check_applicable(coupon, bill, now)
    due = bill.due_fen
    if coupon.kind is CouponKind.AMOUNT_OFF:
        off = coupon.amount_fen or 0
    else:
        off = due * (coupon.percent or 0) // 100  # integer fen, rounded down
        if coupon.max_off_fen is not None:
            off = min(off, coupon.max_off_fen)
    return max(0, min(off, due))


def apply(bill: Bill, code: str, discount_fen: int) -> Bill:
    """The bill's next version with the coupon applied."""
    return bill.bumped(discount_fen=bill.discount_fen + discount_fen, coupons=[*bill.coupons, code])
