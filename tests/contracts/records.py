"""Small valid domain records for the contract tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.bills.model import Bill
from shared.ledger.model import Posting
from shared.payments.model import Payment, PaymentSource
from shared.payments.provider import Channel

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def bill(bill_id: str, *, plate: str = "苏B12345", lot_id: str = "lot-1", version: int = 1, **more) -> Bill:
    return Bill(
        bill_id=bill_id, session_id=f"s-{bill_id}", lot_id=lot_id, operator_id="op-1", district_code="320213",
        plate=plate, plate_colour="blue", vehicle_class="small", amount_fen=600, created_at=more.pop("created_at", T0),
        version=version, **more,
    )  # fmt: skip


def payment(payment_id: str, bill_id: str, *, provider: str = "sandbox", at: datetime = T0, **more) -> Payment:
    return Payment(
        payment_id=payment_id, bill_id=bill_id, provider=provider, channel=Channel.WECHAT_PAY,
        source=PaymentSource.PAY_CODE, amount_fen=600, created_at=at, **more,
    )  # fmt: skip


def charge(posting_id: str, amount: int = 600, plate: str = "苏B12345", at: datetime = T0) -> Posting:
    return Posting.charge(posting_id, plate, "op-1", amount, at)
