"""The lots' open-session counts and their stream shard marks in memory (issue 10).

The in-memory session store still adds to a lot's open count in the event's write (there is no stream in
memory, so availability on memory stores has no lag); this adapter serves the stream consumer's contract
and its tests, on the same lot status dicts."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK
from shared.adapters.memory.lot_status import LotStatusStore
from shared.availability.ports import ShardMark


class OpenCountStore:
    def __init__(self, status: LotStatusStore) -> None:
        self._status = status

    def marks(self, lot_id: str) -> dict[str, ShardMark]:
        with LOCK:
            return dict(self._status.lots.get(lot_id, {}).get("counted", {}))

    def advance(self, lot_id: str, shard: str, expected: ShardMark | None, to: ShardMark, delta: int,
                drop: tuple[str, ...] = ()) -> bool:
        with LOCK:
            item = self._status.lot(lot_id)
            counted = item.setdefault("counted", {})
            if counted.get(shard) != expected:
                return False
            item["open_count"] = item.get("open_count", 0) + delta
            counted[shard] = to
            for old in drop:
                counted.pop(old, None)
            return True
