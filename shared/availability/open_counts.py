"""The lots' open-session counts, counted from the acks stream exactly once (issue 10).

An entry or exit used to add to its lot's count inside the event's transaction: 2 write units per event on
one hot item. Now the event's ack (already in that transaction) carries the change (``open_delta``) and
this service, fed by the acks table's stream, adds a batch's changes per lot in one write.

The stream delivers every record at least once: a failed batch comes again, perhaps cut differently, and
a crash after the write and before the stream's checkpoint delivers what was counted again. A batch comes
from one shard, in the shard's order, one batch of a shard at a time, and a shard's sequence numbers rise.
So each lot keeps, per shard, the last sequence number it counted (a ``ShardMark``): a record at or below
it was counted, one above it was not; the count and the mark move in one conditional write, which fails if
the mark moved since it was read (then read again). Marks of shards older than the stream's 24 h retention
are dropped in the same write, so a lot's item stays small (a shard lives about four hours).

What readers see: a lot's count lags its events by the stream's delay (about a second; availability and the
city push tolerate that). The unmatched count, which the exit reads, stays in the event's transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from shared.availability.ports import OpenCountStore, ShardMark
from shared.clock import Clock
from shared.errors import Unavailable

RETENTION_MS = 25 * 3600 * 1000  # the stream keeps a record 24 h: an older shard can deliver nothing more
ATTEMPTS = 10


@dataclass(frozen=True)
class CountedEvent:
    """One accepted event's change to its lot's open count, as its stream record delivers it."""

    lot_id: str
    delta: int
    sequence: int  # the stream record's sequence number (an integer; ordered within its shard)


def shard_key(shard_id: str) -> str:
    """A short stable name for a shard in a lot's marks (a shard id is ~60 characters; 48 bits of digest
    leave the few dozen shards a lot sees in a day without a collision in practice)."""
    return hashlib.sha256(shard_id.encode()).hexdigest()[:12]


class OpenCountService:
    def __init__(self, store: OpenCountStore, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def count(self, shard_id: str, events: Iterable[CountedEvent]) -> dict[str, int]:
        """Count one shard's batch; returns what was added per lot now (0: all of it counted before)."""
        if not shard_id:
            raise ValueError("a batch must name its shard: the stream's mapping needs a tumbling window")
        by_lot: dict[str, list[CountedEvent]] = defaultdict(list)
        for event in events:
            if event.delta:
                by_lot[event.lot_id].append(event)
        shard = shard_key(shard_id)
        return {lot_id: self._count_lot(lot_id, shard, by_lot[lot_id]) for lot_id in sorted(by_lot)}

    def _count_lot(self, lot_id: str, shard: str, events: list[CountedEvent]) -> int:
        for _ in range(ATTEMPTS):
            marks = self._store.marks(lot_id)
            mark = marks.get(shard)
            fresh = [e for e in events if mark is None or e.sequence > mark.sequence]
            if not fresh:
                return 0  # counted before: a redelivered batch, or the part of a re-cut one already counted
            now = int(self._clock.now().timestamp() * 1000)
            stale = tuple(k for k, m in sorted(marks.items()) if k != shard and now - m.at_ms > RETENTION_MS)
            delta = sum(e.delta for e in fresh)  # written even when 0: the mark must move past these records
            to = ShardMark(sequence=max(e.sequence for e in fresh), at_ms=now)
            if self._store.advance(lot_id, shard, mark, to, delta, stale):
                return delta
        # Only a second consumer of the same shard moves the mark under us; the stream retries the batch.
        raise Unavailable(f"open count of lot {lot_id}: the shard mark kept moving", code="count_contended")
