"""The sign-in limits' counters in the citizens table (pk COUNTER#key): an atomic ADD under a condition."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.conditions import update_if
from shared.adapters.dynamo.models import CitizenItem


class LoginCounters:
    def take(self, key: str, limit: int, until: int) -> bool:
        """One UpdateItem: ADD 1 if the count is absent or below the limit (else the condition fails)."""
        item = CitizenItem(pk=f"COUNTER#{key}")
        return update_if(item, [CitizenItem.hits.add(1), CitizenItem.expires_at.set(until)],
                         CitizenItem.hits.does_not_exist() | (CitizenItem.hits < limit))

    def give_back(self, key: str) -> None:
        update_if(CitizenItem(pk=f"COUNTER#{key}"), [CitizenItem.hits.add(-1)], CitizenItem.hits > 0)

    def count(self, key: str) -> int:
        try:
            return int(CitizenItem.get(f"COUNTER#{key}", consistent_read=True).hits or 0)
        except DoesNotExist:
            return 0
