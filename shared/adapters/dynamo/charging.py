"""Charging sessions and charging policies in the ``charging`` table: ``POLICY#<lot>`` (doc, version) and
``CHARGE#<lot>#<event_id>`` (doc; ``lot_plate`` and ``lot_id`` index it by the stay it belongs to)."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from shared import resources
from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import save_if, versioned
from shared.adapters.dynamo.models import index_of, keyed
from shared.charging.model import ChargingPolicy, ChargingRecord


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


_ByLotPlate = index_of(resources.CHARGING, "by_lot_plate")


_ByLot = index_of(resources.CHARGING, "by_lot")


class ChargingItem(keyed(resources.CHARGING)):
    version = NumberAttribute(null=True)
    doc = JSONAttribute()
    lot_plate = UnicodeAttribute(null=True)
    lot_id = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    by_lot_plate = _ByLotPlate()
    by_lot = _ByLot()


class DynamoChargingStore:
    def policy(self, lot_id: str) -> ChargingPolicy | None:
        ahead = read_ahead.take(ChargingItem, f"POLICY#{lot_id}")  # issue 10: in the gate's batched read
        if ahead is not read_ahead.MISS:
            return ChargingPolicy.model_validate(ahead.doc) if ahead is not None else None
        try:
            return ChargingPolicy.model_validate(ChargingItem.get(f"POLICY#{lot_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save_policy(self, policy: ChargingPolicy) -> bool:
        item = ChargingItem(pk=f"POLICY#{policy.lot_id}", version=policy.version, doc=policy.model_dump(mode="json"))
        return save_if(item, versioned(ChargingItem, policy.version))

    def record(self, record: ChargingRecord) -> bool:
        item = ChargingItem(
            pk=f"CHARGE#{record.lot_id}#{record.event_id}", doc=record.model_dump(mode="json"),
            lot_plate=f"{record.lot_id}#{record.plate}", lot_id=record.lot_id, started_at=_utc(record.started_at),
        )  # fmt: skip
        return save_if(item, ChargingItem.pk.does_not_exist())

    def of_plate(self, lot_id: str, plate: str, before: datetime) -> list[ChargingRecord]:
        found = ChargingItem.by_lot_plate.query(f"{lot_id}#{plate}", ChargingItem.started_at < _utc(before))
        return [ChargingRecord.model_validate(i.doc) for i in found]

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[ChargingRecord]:
        found = ChargingItem.by_lot.query(lot_id, ChargingItem.started_at.between(_utc(start), _utc(end)))
        return [r for r in (ChargingRecord.model_validate(i.doc) for i in found) if r.started_at < end]
