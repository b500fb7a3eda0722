"""The open counts' store (issue 10) on both adapters: the count and a shard's mark move together, only over
the mark that was read; stale marks are dropped in the same write."""

from __future__ import annotations

from shared.availability.ports import ShardMark


def test_a_first_mark_is_created_with_the_count(stores, uid):
    lot, counts = f"lot-{uid}", stores.open_counts
    assert counts.marks(lot) == {}
    assert counts.advance(lot, "a", None, ShardMark(5, 1000), 2)
    assert counts.marks(lot) == {"a": ShardMark(5, 1000)} and stores.status.get(lot).open_count == 2
    assert not counts.advance(lot, "a", None, ShardMark(6, 1001), 1)  # the mark exists: it moved
    assert counts.advance(lot, "b", None, ShardMark(3, 1002), -1)  # another shard's first mark beside it
    assert counts.marks(lot) == {"a": ShardMark(5, 1000), "b": ShardMark(3, 1002)}
    assert stores.status.get(lot).open_count == 1


def test_a_mark_moves_only_over_the_one_read_and_drops_stale_ones(stores, uid):
    lot, counts = f"lot-{uid}", stores.open_counts
    counts.advance(lot, "old", None, ShardMark(1, 10), 1)
    counts.advance(lot, "a", None, ShardMark(5, 1000), 1)
    assert not counts.advance(lot, "a", ShardMark(4, 1000), ShardMark(9, 2000), 5)  # not what is stored
    assert stores.status.get(lot).open_count == 2
    assert counts.advance(lot, "a", ShardMark(5, 1000), ShardMark(9, 2000), -1, drop=("old",))
    assert counts.marks(lot) == {"a": ShardMark(9, 2000)} and stores.status.get(lot).open_count == 1


def test_marks_leave_the_other_counts_alone(stores, uid):
    lot, counts = f"lot-{uid}", stores.open_counts
    assert stores.sessions.unmatched_in_lot(lot) == ()
    counts.advance(lot, "a", None, ShardMark(5, 1000), 3)
    status = stores.status.get(lot)
    assert (status.open_count, status.reported_total, status.online) == (3, None, None)
