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


@dataclass(frozen=True)
class ShardMark:
    """The last stream record of one shard counted into a lot's open count (issue 10)."""

    sequence: int  # DynamoDB stream sequence numbers are decimal strings; within a shard they compare as integers
    at_ms: int  # when it was counted (epoch ms): marks of shards past the stream's retention are dropped


class OpenCountStore(Protocol):
    """The lots' open-session counts, moved from the event's transaction to the acks stream (issue 10).

    Contract (``tests/contracts/test_open_counts.py``):

    - ``marks`` reads a lot's shard marks, strongly consistent ({} for a lot never counted).
    - ``advance`` adds ``delta`` to the lot's open count and sets ``marks[shard]`` to ``to``, removing the
      marks named in ``drop``, all in one write, only if ``marks[shard]`` is still ``expected`` (None: absent).
      False: it moved (nothing written); the caller reads the marks again.
    """

    def marks(self, lot_id: str) -> dict[str, ShardMark]: ...

    def advance(self, lot_id: str, shard: str, expected: ShardMark | None, to: ShardMark, delta: int,
                drop: tuple[str, ...] = ()) -> bool: ...
