"""Disputes, kept beside their bill in the bills table (pk DISPUTE#bill) and listed per district."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.conditions import save_if, versioned
from shared.adapters.dynamo.models import BillItem, read_by_keys
from shared.bills.dispute_model import Dispute


class DisputeStore:
    def get(self, bill_id: str) -> Dispute | None:
        try:
            return Dispute.model_validate(BillItem.get(f"DISPUTE#{bill_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save(self, dispute: Dispute) -> bool:
        """Create (version 1) or replace version - 1. The by_lot index lists a district's disputes."""
        item = BillItem(pk=f"DISPUTE#{dispute.bill_id}", version=dispute.version, doc=dispute.model_dump(mode="json"),
                        lot_id=f"DISPUTES#{dispute.district_code}", created_at=dispute.opened_at.isoformat())
        return save_if(item, versioned(BillItem, dispute.version))

    def of_district(self, district_code: str) -> list[Dispute]:
        keys = [i.pk for i in BillItem.by_lot.query(f"DISPUTES#{district_code}")]  # the index holds keys only
        return [Dispute.model_validate(i.doc) for i in read_by_keys(BillItem, keys)]
