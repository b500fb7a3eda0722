"""Finds lots whose devices have gone silent: a cut link hides a lot's data from the city (S16).

A lot is online while any of its devices was seen within the lot's heartbeat window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.availability.ports import LotStatusStore
from shared.clock import Clock
from shared.observability import count, logger
from shared.registry.ports import LotStore


@dataclass
class LivenessReport:
    checked: int = 0
    went_offline: list[str] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)


class LivenessCheck:
    def __init__(self, lots: LotStore, status: LotStatusStore, clock: Clock) -> None:
        self._lots, self._status, self._clock = lots, status, clock

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
            if status.online is not None and status.online == online:
                continue
            self._status.set_online(lot.lot_id, online, now)
            (report.came_back if online else report.went_offline).append(lot.lot_id)
        count("LotsOffline", len(report.offline))
        logger.info("liveness checked", extra={"checked": report.checked, "offline": len(report.offline)})
        return report
