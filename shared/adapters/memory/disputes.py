"""Disputes of bills, one per bill, versioned, listed per district, in memory."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK, dump, fits
from shared.bills.dispute_model import Dispute


class DisputeStore:
    def __init__(self) -> None:
        self.disputes: dict[str, dict] = {}

    def get(self, bill_id: str) -> Dispute | None:
        doc = self.disputes.get(bill_id)
        return Dispute.model_validate(doc) if doc is not None else None

    def save(self, dispute: Dispute) -> bool:
        with LOCK:
            if not fits(self.disputes, dispute.bill_id, dispute.version):
                return False
            self.disputes[dispute.bill_id] = dump(dispute)
        return True

    def of_district(self, district_code: str) -> list[Dispute]:
        found = [Dispute.model_validate(d) for d in list(self.disputes.values())]
        return sorted((d for d in found if d.district_code == district_code), key=lambda d: d.opened_at)
