"""What the charging service needs from storage. Adapters: ``shared.adapters.memory.charging`` and
``shared.adapters.dynamo.charging``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.charging.model import ChargingPolicy, ChargingRecord


class ChargingStore(Protocol):
    """Contract: ``save_policy`` stores version ``n`` only over ``n - 1`` (1: only if none); ``record``
    stores a charging session once per (lot, event_id) and answers False for a repeat (nothing written);
    ``of_plate`` returns the lot's sessions of a plate that started before ``before``."""

    def policy(self, lot_id: str) -> ChargingPolicy | None: ...

    def save_policy(self, policy: ChargingPolicy) -> bool: ...

    def record(self, record: ChargingRecord) -> bool: ...

    def of_plate(self, lot_id: str, plate: str, before: datetime) -> list[ChargingRecord]: ...

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[ChargingRecord]:
        """Sessions that started in [start, end), by start."""
        ...
