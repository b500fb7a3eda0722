"""In-memory anomalies (the AnomalyStore port)."""

from __future__ import annotations

from datetime import datetime

from shared.supervision.anomalies import CommsAnomaly


class MemoryAnomalies:
    def __init__(self) -> None:
        self._all: dict[str, CommsAnomaly] = {}
        self._open: dict[str, str] = {}

    def open(self, anomaly: CommsAnomaly) -> bool:
        if anomaly.lot_id in self._open:
            return False
        self._open[anomaly.lot_id] = anomaly.anomaly_id
        self._all[anomaly.anomaly_id] = anomaly
        return True

    def current(self, lot_id: str) -> CommsAnomaly | None:
        aid = self._open.get(lot_id)
        return self._all[aid] if aid else None

    def close(self, anomaly: CommsAnomaly) -> None:
        self._all[anomaly.anomaly_id] = anomaly
        self._open.pop(anomaly.lot_id, None)

    def of_lot(self, lot_id: str, since: datetime) -> list[CommsAnomaly]:
        return sorted((a for a in self._all.values() if a.lot_id == lot_id and a.lost_since >= since), key=lambda a: a.lost_since)
