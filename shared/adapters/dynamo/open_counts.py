"""The lots' open-session counts and their stream shard marks, on the lot's status item (issue 10)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.conditions import update_if
from shared.adapters.dynamo.models import LotStatusItem
from shared.availability.ports import ShardMark


def _mark(value: str) -> ShardMark:
    sequence, at_ms = value.split(":")
    return ShardMark(sequence=int(sequence), at_ms=int(at_ms))


def _value(mark: ShardMark) -> str:
    return f"{mark.sequence}:{mark.at_ms}"


class OpenCountStore:
    """The ``OpenCountStore`` port (``shared.availability.ports``): the marks live in the ``LOT`` item's
    ``counted`` map beside ``open_count``, so the count and its marks move in one conditional update."""

    def marks(self, lot_id: str) -> dict[str, ShardMark]:
        try:
            item = LotStatusItem.get(lot_id, "LOT", consistent_read=True, attributes_to_get=["counted"])
        except DoesNotExist:
            return {}
        counted = item.counted.as_dict() if item.counted is not None else {}
        return {shard: _mark(value) for shard, value in counted.items()}

    def advance(self, lot_id: str, shard: str, expected: ShardMark | None, to: ShardMark, delta: int,
                drop: tuple[str, ...] = ()) -> bool:
        counted = LotStatusItem.counted
        actions = [LotStatusItem.open_count.add(delta)]
        if expected is None:
            # the map may not exist yet (a lot never counted): create it, else add the shard's entry
            condition = counted.does_not_exist()
            created = actions + [counted.set({shard: _value(to)})]
            if update_if(LotStatusItem(lot_id=lot_id, item="LOT"), created, condition):
                return True
            condition = counted.exists() & counted[shard].does_not_exist()
        else:
            condition = counted[shard] == _value(expected)
        actions += [counted[shard].set(_value(to)), *(counted[old].remove() for old in drop)]
        return update_if(LotStatusItem(lot_id=lot_id, item="LOT"), actions, condition)
