"""Live lot status (reported counts, open and unmatched counts, online state, device last-seen) in memory."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.memory.db import LOCK
from shared.adapters.memory.events import AckStore
from shared.availability.ports import LotStatus
from shared.ingest.ports import AckRecord


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


class LotStatusStore:
    def __init__(self, acks: AckStore) -> None:
        self._acks = acks
        self.lots: dict[str, dict] = {}  # lot -> open_count, unmatched_count, reported_*, online, offline_since
        self.devices: dict[str, dict[str, int]] = {}  # lot -> device -> last seen (ms)

    def lot(self, lot_id: str) -> dict:
        return self.lots.setdefault(lot_id, {})

    def add(self, lot_id: str, open_delta: int, unmatched_delta: int) -> None:
        item = self.lot(lot_id)
        item["open_count"] = item.get("open_count", 0) + open_delta
        item["unmatched_count"] = item.get("unmatched_count", 0) + unmatched_delta

    def occupancy_with_ack(self, lot_id: str, total: int, free: int, reported_at: datetime, ack: AckRecord) -> bool | None:
        at = _ms(reported_at)
        with LOCK:
            if not self._acks.absent(ack):
                return None
            item = self.lot(lot_id)
            if item.get("reported_at") is not None and item["reported_at"] >= at:
                return False
            self._acks.put(ack)
            item.update(reported_total=total, reported_free=free, reported_at=at)
        return True

    def touch_device(self, lot_id: str, device_id: str, now: datetime) -> None:
        with LOCK:
            seen = self.devices.setdefault(lot_id, {})
            seen[device_id] = max(seen.get(device_id, 0), _ms(now))

    def set_online(self, lot_id: str, online: bool, since: datetime) -> None:
        with LOCK:
            item = self.lot(lot_id)
            item["online"] = online
            if online:
                item.pop("offline_since", None)
            else:
                item["offline_since"] = _ms(since)

    def get(self, lot_id: str) -> LotStatus:
        return self._status(lot_id, dict(self.devices.get(lot_id, {})))

    def many(self, lot_ids: list[str]) -> dict[str, LotStatus]:
        return {lot_id: self._status(lot_id, None) for lot_id in lot_ids}

    def _status(self, lot_id: str, devices: dict[str, int] | None) -> LotStatus:
        item = self.lots.get(lot_id, {})
        return LotStatus(
            lot_id=lot_id,
            open_count=item.get("open_count", 0),
            reported_total=item.get("reported_total"),
            reported_free=item.get("reported_free"),
            reported_at_ms=item.get("reported_at"),
            online=item.get("online"),
            offline_since_ms=item.get("offline_since"),
            device_last_seen_ms=devices,
        )
