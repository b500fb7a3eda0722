"""In-memory charging sessions and policies."""

from __future__ import annotations

import threading
from datetime import datetime

from shared.charging.model import ChargingPolicy, ChargingRecord


class MemoryChargingStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policies: dict[str, ChargingPolicy] = {}
        self._records: dict[tuple[str, str], ChargingRecord] = {}

    def policy(self, lot_id: str) -> ChargingPolicy | None:
        return self._policies.get(lot_id)

    def save_policy(self, policy: ChargingPolicy) -> bool:
        with self._lock:
            current = self._policies.get(policy.lot_id)
            if (current.version if current else 0) != policy.version - 1:
                return False
            self._policies[policy.lot_id] = policy
            return True

    def record(self, record: ChargingRecord) -> bool:
        with self._lock:
            key = (record.lot_id, record.event_id)
            if key in self._records:
                return False
            self._records[key] = record
            return True

    def of_plate(self, lot_id: str, plate: str, before: datetime) -> list[ChargingRecord]:
        return sorted((r for r in self._records.values() if r.lot_id == lot_id and r.plate == plate and r.started_at < before),
                      key=lambda r: r.started_at)

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[ChargingRecord]:
        return sorted((r for r in self._records.values() if r.lot_id == lot_id and start <= r.started_at < end),
                      key=lambda r: r.started_at)
