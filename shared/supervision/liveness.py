"""Finds lots whose devices have gone silent: a cut link hides a lot's data from the city (S16).

A lot is online while any of its devices was seen within the lot's heartbeat window. With an anomaly
store, each silent lot also has an open ``comms_lost`` anomaly, closed by ``comms_restored`` when its
heartbeats return (``shared.supervision.anomalies``). This is level-triggered, not edge-triggered: every
run opens what is missing and closes what is over, so a run that crashed half-way is repaired by the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.availability.ports import LotStatusStore
from datetime import UTC, datetime

from shared.clock import Clock
from shared.supervision import anomalies as comms
from shared.supervision.ports import AnomalyStore
from shared.observability import count, logger
from shared.registry.ports import LotStore


@dataclass
class LivenessReport:
    checked: int = 0
    went_offline: list[str] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    comms_lost: list[str] = field(default_factory=list)
    comms_restored: list[str] = field(default_factory=list)


class LivenessCheck:
    def __init__(self, lots: LotStore, status: LotStatusStore, clock: Clock, anomalies: AnomalyStore | None = None) -> None:
        self._lots, self._status, self._clock, self._anomalies = lots, status, clock, anomalies

    def run(self) -> LivenessReport:
        now = self._clock.now()
        now_ms = int(now.timestamp() * 1000)
        report = LivenessReport()
        for lot in self._lots.list():
            report.checked += 1
            status = self._status.get(lot.lot_id)
            last = max((status.device_last_seen_ms or {}).values(), default=None)
            online = last is not None and now_ms - last <= lot.heartbeat_window_s * 1000
            if not online:
                report.offline.append(lot.lot_id)
            if status.online is None or status.online != online:
                self._status.set_online(lot.lot_id, online, now)
                (report.came_back if online else report.went_offline).append(lot.lot_id)
            if self._anomalies is not None:
                self._supervise(lot, online, last, now, report)
        count("LotsOffline", len(report.offline))
        logger.info("liveness checked", extra={"checked": report.checked, "offline": len(report.offline)})
        return report

    def _supervise(self, lot, online: bool, last_ms: int | None, now, report: LivenessReport) -> None:
        current = self._anomalies.current(lot.lot_id)
        if not online and current is None:
            last_seen = datetime.fromtimestamp(last_ms / 1000, UTC) if last_ms is not None else None
            if self._anomalies.open(comms.lost(lot.lot_id, lot.district_code, last_seen, lot.heartbeat_window_s, now)):
                count("CommsLost")
                report.comms_lost.append(lot.lot_id)
        elif online and current is not None:
            earlier = self._anomalies.of_lot(lot.lot_id, now - comms.REPEAT_WINDOW)
            closed = comms.restored(current, now, earlier, lot.opening_hours)
            self._anomalies.close(closed)
            logger.warning("lot link restored", extra={"lot_id": lot.lot_id, "flags": closed.flags})
            report.comms_restored.append(lot.lot_id)

    def anomalies_of(self, lot_id: str, since) -> list:
        """The lot's communication anomalies opened since ``since`` (staff review; access checked by the caller)."""
        return self._anomalies.of_lot(lot_id, since) if self._anomalies is not None else []
