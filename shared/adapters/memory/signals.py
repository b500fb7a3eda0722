"""In-memory supervision signals, lots' daily figures and compliance snapshots (the SignalStore port)."""

from __future__ import annotations

import copy

from shared.adapters.memory.db import LOCK
from shared.supervision.signals import LotDay, Signal


class MemorySignals:
    def __init__(self) -> None:
        self._days: dict[tuple[str, str], dict] = {}
        self._signals: dict[str, Signal] = {}
        self._compliance: dict[str, dict] = {}

    def add_day(self, day: LotDay) -> bool:
        with LOCK:
            if (day.lot_id, day.day) in self._days:
                return False
            self._days[(day.lot_id, day.day)] = day.doc()
            return True

    def days(self, lot_id: str, day: str, n: int) -> list[LotDay]:
        found = sorted((d, doc) for (lot, d), doc in self._days.items() if lot == lot_id and d < day)
        return [LotDay.from_doc(copy.deepcopy(doc)) for _, doc in found[-n:]]

    def add(self, signal: Signal) -> bool:
        with LOCK:
            if signal.signal_id in self._signals:
                return False
            self._signals[signal.signal_id] = signal
            return True

    def get(self, signal_id: str) -> Signal | None:
        return self._signals.get(signal_id)

    def replace(self, signal: Signal) -> bool:
        with LOCK:
            current = self._signals.get(signal.signal_id)
            if current is None or current.version != signal.version - 1:
                return False
            self._signals[signal.signal_id] = signal
            return True

    def of_district(self, district_code: str, first: str, last: str) -> list[Signal]:
        return sorted((s for s in self._signals.values() if s.district_code == district_code and first <= s.day <= last),
                      key=lambda s: (s.day, s.kind, s.lot_id))

    def add_compliance(self, day: str, report: dict) -> bool:
        with LOCK:
            if day in self._compliance:
                return False
            self._compliance[day] = copy.deepcopy(report)
            return True

    def compliance(self, first: str, last: str) -> list[dict]:
        return [copy.deepcopy(r) for d, r in sorted(self._compliance.items()) if first <= d <= last]
