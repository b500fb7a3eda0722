"""The disputes' port: one dispute per bill, versioned, listed per district."""

from __future__ import annotations

from typing import Protocol

from shared.bills.dispute_model import Dispute


class DisputeStore(Protocol):
    """Contract (``tests/contracts/test_disputes.py``): ``save`` creates version 1 only if absent, or
    replaces version n - 1 (False: someone changed it first)."""

    def get(self, bill_id: str) -> Dispute | None: ...

    def save(self, dispute: Dispute) -> bool: ...

    def of_district(self, district_code: str) -> list[Dispute]: ...
