"""Where supervision keeps its anomalies. Adapters: ``shared/adapters/memory/supervision.py``,
``shared/adapters/dynamo/supervision.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.supervision.anomalies import CommsAnomaly
from shared.supervision.signals import LotDay, Signal


class AnomalyStore(Protocol):
    """``open``: store a new open anomaly unless the lot has one open already (False; nothing written).
    ``current``: the lot's open anomaly. ``close``: store the closed anomaly and clear the lot's open one.
    ``of_lot``: the lot's anomalies opened since ``since``, oldest first."""

    def open(self, anomaly: CommsAnomaly) -> bool: ...

    def current(self, lot_id: str) -> CommsAnomaly | None: ...

    def close(self, anomaly: CommsAnomaly) -> None: ...

    def of_lot(self, lot_id: str, since: datetime) -> list[CommsAnomaly]: ...


class SignalStore(Protocol):
    """The fraud scan's records (``shared.supervision.signals``), its lots' daily figures and the daily
    compliance snapshots.

    - ``add_day`` / ``add`` / ``add_compliance`` are put-if-absent (False: stored before, nothing written):
      the first run's result stands and a re-run or a retry after a crash writes only what is missing.
    - ``replace`` stores a signal's next version only over version - 1 (False: someone moved first).
    - ``days`` the lot's stored figures of the ``n`` days before ``day``, oldest first; ``of_district``
      a district's signals of days ``first``..``last``, by day then kind; ``compliance`` the snapshots of
      days ``first``..``last`` (local dates ``YYYY-MM-DD``)."""

    def add_day(self, day: LotDay) -> bool: ...

    def days(self, lot_id: str, day: str, n: int) -> list[LotDay]: ...

    def add(self, signal: Signal) -> bool: ...

    def get(self, signal_id: str) -> Signal | None: ...

    def replace(self, signal: Signal) -> bool: ...

    def of_district(self, district_code: str, first: str, last: str) -> list[Signal]: ...

    def add_compliance(self, day: str, report: dict) -> bool: ...

    def compliance(self, first: str, last: str) -> list[dict]: ...
