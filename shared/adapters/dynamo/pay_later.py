"""Pay-later workflow task tokens, kept beside their bill in the bills table (pk PAYLATER#bill)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.models import BillItem


class PayLaterTokens:
    """The task token of a pay-later workflow waiting for its bill to be paid (pk PAYLATER#bill)."""

    def keep(self, bill_id: str, token: str, at: str) -> None:
        BillItem(pk=f"PAYLATER#{bill_id}", version=1, doc={"token": token, "at": at}).save()

    def get(self, bill_id: str) -> str | None:
        try:
            return BillItem.get(f"PAYLATER#{bill_id}", consistent_read=True).doc["token"]
        except DoesNotExist:
            return None

    def forget(self, bill_id: str) -> None:
        BillItem(pk=f"PAYLATER#{bill_id}").delete()
