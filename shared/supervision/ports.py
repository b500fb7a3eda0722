"""Where supervision keeps its anomalies. Adapters: ``shared/adapters/memory/supervision.py``,
``shared/adapters/dynamo/supervision.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.supervision.anomalies import CommsAnomaly


class AnomalyStore(Protocol):
    """``open``: store a new open anomaly unless the lot has one open already (False; nothing written).
    ``current``: the lot's open anomaly. ``close``: store the closed anomaly and clear the lot's open one.
    ``of_lot``: the lot's anomalies opened since ``since``, oldest first."""

    def open(self, anomaly: CommsAnomaly) -> bool: ...

    def current(self, lot_id: str) -> CommsAnomaly | None: ...

    def close(self, anomaly: CommsAnomaly) -> None: ...

    def of_lot(self, lot_id: str, since: datetime) -> list[CommsAnomaly]: ...
