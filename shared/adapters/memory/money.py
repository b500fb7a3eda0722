"""Bills, payments, refunds, callback receipts and reconciliation findings in memory; a ``Change`` is
checked whole, then applied whole, under one lock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from shared.adapters.memory.db import LOCK, dump, fits
from shared.adapters.memory.ledger import Ledger
from shared.bills.model import Bill
from shared.bills.paging import BillCursor
from shared.clock import SHANGHAI
from shared.payments.model import Payment, Refund
from shared.payments.ports import Change


class MoneyStore:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.bills: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.receipts: dict[str, dict] = {}
        self._findings: dict[str, dict] = {}

    def bill(self, bill_id: str) -> Bill | None:
        doc = self.bills.get(bill_id)
        return Bill.model_validate(doc) if doc is not None else None

    def payment(self, payment_id: str) -> Payment | None:
        doc = self.payments.get(payment_id)
        return Payment.model_validate(doc) if doc is not None else None

    def refund(self, refund_id: str) -> Refund | None:
        doc = self.refunds.get(refund_id)
        return Refund.model_validate(doc) if doc is not None else None

    def payment_by_ref(self, provider_ref: str) -> Payment | None:
        return next((p for p in self._payments() if p.provider_ref == provider_ref), None)

    def payments_of(self, bill: Bill) -> list[Payment]:
        return [p for p in (self.payment(pid) for pid in bill.payments) if p is not None]

    def payments_on(self, provider: str, day: str) -> Iterator[Payment]:
        found = [
            p for p in self._payments()
            if p.provider == provider and p.created_at.astimezone(SHANGHAI).date().isoformat() == day
        ]  # fmt: skip
        yield from sorted(found, key=lambda p: p.created_at)

    def bill_at_lane(self, lot_id: str, lane: str, since: datetime) -> Bill | None:
        left = [b for b in self._bills() if b.lot_id == lot_id and b.lane == lane and b.exited_at and b.exited_at >= since]
        return max(left, key=lambda b: b.exited_at, default=None)

    def bill_keys_of_plate(self, plate: str, limit: int = 50, after: BillCursor | None = None) -> list[BillCursor]:
        keys = sorted((BillCursor(b.created_at, b.bill_id) for b in self._bills() if b.plate == plate), reverse=True)
        return [k for k in keys if after is None or k < after][:limit]

    def bills_by_id(self, bill_ids: Sequence[str]) -> list[Bill]:
        return [b for b in map(self.bill, bill_ids) if b is not None]

    def bills_at_grace_end(self, until: datetime, limit: int = 500) -> list[str]:
        due = sorted((b for b in self._bills() if b.awaiting_grace_end and b.grace_ends <= until), key=lambda b: b.grace_ends)
        return [b.bill_id for b in due[:limit]]

    def create_payment(self, payment: Payment) -> bool:
        with LOCK:
            if payment.payment_id in self.payments:
                return False
            self.payments[payment.payment_id] = dump(payment)
        return True

    def fits(self, change: Change) -> bool:
        """Every condition of ``change`` holds now (call under LOCK)."""
        return (
            all(fits(self.bills, b.bill_id, b.version) for b in change.bills)
            and all(fits(self.payments, p.payment_id, p.version) for p in change.payments)
            and all(fits(self.refunds, r.refund_id, r.version) for r in change.refunds)
            and self.ledger.absent(change.postings)
        )

    def apply(self, change: Change) -> None:
        for b in change.bills:
            self.bills[b.bill_id] = dump(b)
        for p in change.payments:
            self.payments[p.payment_id] = dump(p)
        for r in change.refunds:
            self.refunds[r.refund_id] = dump(r)
        self.ledger.apply(change.postings)

    def commit(self, change: Change) -> bool:
        with LOCK:
            if not self.fits(change):
                return False
            self.apply(change)
        return True

    def record_receipt(self, provider: str, event_id: str, body: dict, at: datetime) -> bool:
        key = f"{provider}#{event_id}"
        with LOCK:
            if key in self.receipts:
                return False
            self.receipts[key] = {**body, "received_at": at.isoformat()}
        return True

    def record_finding(self, key: str, finding: dict) -> bool:
        with LOCK:
            if key in self._findings:
                return False
            self._findings[key] = dict(finding)
        return True

    def findings(self) -> list[dict]:
        return [dict(f) for f in self._findings.values()]

    def _bills(self) -> list[Bill]:
        return [Bill.model_validate(d) for d in list(self.bills.values())]

    def _payments(self) -> list[Payment]:
        return [Payment.model_validate(d) for d in list(self.payments.values())]
