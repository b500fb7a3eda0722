"""The sign-in limits' counters in memory: a dict under the stores' one lock."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK


class LoginCounters:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def take(self, key: str, limit: int, until: int) -> bool:
        with LOCK:
            if self.counts.get(key, 0) >= limit:
                return False
            self.counts[key] = self.counts.get(key, 0) + 1
            return True

    def give_back(self, key: str) -> None:
        with LOCK:
            if self.counts.get(key, 0) > 0:
                self.counts[key] -= 1

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)
