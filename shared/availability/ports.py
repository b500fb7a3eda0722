"""The live status of lots: reported counts, the open-session count, online state and device last-seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.ingest.ports import AckRecord


@dataclass(frozen=True)
class LotStatus:
    lot_id: str
    open_count: int = 0
    reported_total: int | None = None
    reported_free: int | None = None
    reported_at_ms: int | None = None
    online: bool | None = None
    offline_since_ms: int | None = None
    device_last_seen_ms: dict[str, int] | None = None


class LotStatusStore(Protocol):
    """Contract (``tests/contracts/test_lot_status.py``):

    - ``occupancy_with_ack`` stores an absolute count with the event's ack, all or nothing, unless a count
      reported at or after ``reported_at`` is stored. True: stored; False: older than the stored one (nothing
      written: the caller stores the ack alone); None: the ack existed (a concurrent duplicate).
    - ``touch_device``: a device's last-seen only moves forward.
    - ``get`` reads one lot with its devices' last-seen; ``many`` reads counts of many lots (no devices).
    """

    def occupancy_with_ack(self, lot_id: str, total: int, free: int, reported_at: datetime, ack: AckRecord) -> bool | None: ...

    def touch_device(self, lot_id: str, device_id: str, now: datetime) -> None: ...

    def set_online(self, lot_id: str, online: bool, since: datetime) -> None: ...

    def get(self, lot_id: str) -> LotStatus: ...

    def many(self, lot_ids: list[str]) -> dict[str, LotStatus]: ...
