"""Live availability per lot (absolute reported counts, open-session count) and device liveness."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo.conditions import failed_conditions, update_if
from shared.adapters.dynamo.events import ack_item
from shared.adapters.dynamo.models import AckItem, LotStatusItem, transaction_connection
from shared.availability.ports import LotStatus
from shared.ingest.ports import AckRecord


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


class LotStatusStore:
    def occupancy_with_ack(self, lot_id: str, total: int, free: int, reported_at: datetime, ack: AckRecord) -> bool | None:
        """Store an absolute count unless a newer one is stored. True: stored; False: an older report
        (only the ack is stored by the caller); None: the ack already existed (a concurrent duplicate)."""
        at = _ms(reported_at)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(ack_item(ack), condition=AckItem.pk.does_not_exist())
                tx.update(
                    LotStatusItem(lot_id=lot_id, item="LOT"),
                    actions=[
                        LotStatusItem.reported_total.set(total),
                        LotStatusItem.reported_free.set(free),
                        LotStatusItem.reported_at.set(at),
                    ],
                    condition=LotStatusItem.reported_at.does_not_exist() | (LotStatusItem.reported_at < at),
                )
            return True
        except TransactWriteError as exc:
            failed = failed_conditions(exc)
            if not failed:
                raise
            return None if 0 in failed else False  # item 0 is the ack, item 1 the count

    def touch_device(self, lot_id: str, device_id: str, now: datetime) -> None:
        """Last-seen only moves forward; a concurrent older write loses harmlessly."""
        at = _ms(now)
        update_if(
            LotStatusItem(lot_id=lot_id, item=f"DEVICE#{device_id}"),
            [LotStatusItem.last_seen.set(at)],
            LotStatusItem.last_seen.does_not_exist() | (LotStatusItem.last_seen < at),
        )

    def set_online(self, lot_id: str, online: bool, since: datetime) -> None:
        actions = [LotStatusItem.online.set(1 if online else 0)]
        actions.append(LotStatusItem.offline_since.remove() if online else LotStatusItem.offline_since.set(_ms(since)))
        LotStatusItem(lot_id=lot_id, item="LOT").update(actions=actions)

    def get(self, lot_id: str) -> LotStatus:
        lot: LotStatusItem | None = None
        devices: dict[str, int] = {}
        for item in LotStatusItem.query(lot_id, consistent_read=True):
            if item.item == "LOT":
                lot = item
            elif item.item.startswith("DEVICE#") and item.last_seen is not None:
                devices[item.item.removeprefix("DEVICE#")] = int(item.last_seen)
        return _status(lot_id, lot, devices)

    def many(self, lot_ids: list[str]) -> dict[str, LotStatus]:
        """Counts for many lots in one batch read (device last-seen not included)."""
        found = {i.lot_id: i for i in LotStatusItem.batch_get([(lot_id, "LOT") for lot_id in lot_ids])}
        return {lot_id: _status(lot_id, found.get(lot_id), None) for lot_id in lot_ids}


def _status(lot_id: str, item: LotStatusItem | None, devices: dict[str, int] | None) -> LotStatus:
    if item is None:
        return LotStatus(lot_id=lot_id, device_last_seen_ms=devices)

    def num(value):
        return int(value) if value is not None else None

    return LotStatus(
        lot_id=lot_id,
        open_count=int(item.open_count or 0),
        reported_total=num(item.reported_total),
        reported_free=num(item.reported_free),
        reported_at_ms=num(item.reported_at),
        online=None if item.online is None else bool(item.online),
        offline_since_ms=num(item.offline_since),
        device_last_seen_ms=devices,
    )
