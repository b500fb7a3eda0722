"""A bill: the money side of one chargeable parking session. Pure: no I/O.

One bill per session (its id derives from the session's), created when the session is first priced: at
the exit, or earlier when a driver prepays inside the lot. The amount only grows while the car stays; every
change of the amount is posted to the ledger in the same transaction as the bill's new version, so the
bill's figures and the ledger never disagree.

    balance = amount - discount - adjusted - written_off - paid + refunded

A positive balance is due; a negative one is an overpayment that must be refunded (two channels paid).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import Enum

from pydantic import BaseModel, Field

from shared.plates import PlateColour
from shared.protocol.events import VehicleClass

PREPAID_GRACE = timedelta(minutes=15)  # after paying inside the lot, time to reach the exit
PAY_LATER_GRACE = timedelta(hours=24)  # a pay-later citizen may pay by themselves this long after leaving


class BillStatus(str, Enum):
    OPEN = "open"  # the car is still parked: the amount can still grow (prepay)
    DUE = "due"  # the car left; something is still to pay
    SETTLED = "settled"  # nothing is due (paid, free, discounted or adjusted to zero)
    DISPUTED = "disputed"  # a citizen disputes it: no collection until staff decide
    IN_ARREARS = "in_arrears"  # pay-later failed: an arrears case runs
    WRITTEN_OFF = "written_off"


class Bill(BaseModel):
    bill_id: str
    session_id: str
    lot_id: str
    operator_id: str
    district_code: str
    plate: str
    plate_colour: PlateColour
    vehicle_class: VehicleClass
    lane: str | None = Field(None, description="The exit lane, so the lane's pay code finds the car's bill.")
    entered_at: datetime | None = None
    exited_at: datetime | None = None
    priced_until: datetime | None = Field(None, description="The instant the amount was computed to.")
    tariff_id: str | None = None
    amount_fen: int = Field(0, ge=0, description="The tariff price so far; posted to the ledger as charges.")
    discount_fen: int = Field(0, ge=0, description="Operator-funded coupons (S17).")
    adjusted_fen: int = Field(0, ge=0, description="Reductions decided by staff on a dispute.")
    written_off_fen: int = Field(0, ge=0)
    paid_fen: int = Field(0, ge=0)
    refunded_fen: int = Field(0, ge=0)
    last_paid_at: datetime | None = None
    pay_later: bool = Field(False, description="The gate opened on the pay-later registration (S6).")
    grace_ends: datetime | None = Field(
        None, description="Pay-later: the end of the grace period, while no billing workflow runs for the bill "
        "(cleared when the sweep at the grace end starts it; a bill paid before then never starts one).")
    disputed: bool = False
    in_arrears: bool = False
    payments: list[str] = Field(default_factory=list, description="Applied payment ids, in order.")
    coupons: list[str] = Field(default_factory=list)
    breakdown: dict | None = Field(None, description="The tariff engine's itemised quote.")
    created_at: datetime
    version: int = 1

    @property
    def balance_fen(self) -> int:
        return (
            self.amount_fen - self.discount_fen - self.adjusted_fen - self.written_off_fen
            - self.paid_fen + self.refunded_fen
        )  # fmt: skip

    @property
    def due_fen(self) -> int:
        return max(0, self.balance_fen)

    @property
    def overpaid_fen(self) -> int:
        return max(0, -self.balance_fen)

    @property
    def awaiting_grace_end(self) -> bool:
        """Pay-later, unpaid, and no billing workflow started yet: the grace-end sweep will start it."""
        return self.grace_ends is not None and self.balance_fen > 0

    @property
    def is_open(self) -> bool:
        return self.exited_at is None

    @property
    def status(self) -> BillStatus:
        if self.written_off_fen and self.balance_fen <= 0:
            return BillStatus.WRITTEN_OFF
        if self.disputed:
            return BillStatus.DISPUTED
        if self.is_open:
            return BillStatus.OPEN
        if self.balance_fen <= 0:
            return BillStatus.SETTLED
        return BillStatus.IN_ARREARS if self.in_arrears else BillStatus.DUE

    def view(self) -> dict:
        """The bill as the API shows it: stored fields plus the derived ones."""
        return {
            **self.model_dump(mode="json", exclude_none=True),
            "status": self.status.value,
            "balance_fen": self.balance_fen,
            "due_fen": self.due_fen,
        }

    def bumped(self, **changes) -> Bill:
        return self.model_copy(update={**changes, "version": self.version + 1})


def bill_id_for(session_id: str) -> str:
    return "bill_" + hashlib.sha256(session_id.encode()).hexdigest()[:24]


def price_until(bill: Bill | None, end: datetime) -> datetime:
    """The instant to price a stay to. A prepaid car that leaves within the grace period pays nothing
    more: its price stays the one it paid (priced to the payment)."""
    if bill and bill.last_paid_at and bill.priced_until and end <= bill.last_paid_at + PREPAID_GRACE:
        return bill.priced_until
    return end
