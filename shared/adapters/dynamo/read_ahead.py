"""The ``ReadAhead`` port on DynamoDB: what a device request's decisions read, in one ``BatchGetItem``.

The device, its lot, the event's ack, the open-session pointer (which carries its session, so the session
is not a second, dependent read), the lot's counts, the plate's owner record and its open-arrears record
are fetched together, strongly consistent. Each fetched item then serves the NEXT read of that key by a
store in this thread, once: a retry after a lost race reads the table again. What a store serves from here
is as of the batch; every decision made on it ends in a conditional write that fails if it moved.

A session served from its pointer counts as having no bill yet unless the pointer says one exists (a bill
before the exit exists only when the driver prepaid in the lot, and that write marks the pointer); the
exit's transaction creates the bill only if absent, so even a wrong guess only fails that transaction and
the retry reads the bill. A marked pointer carries a copy of the bill as last written (every write of a
bill whose car is still parked refreshes it), which serves the bill's read: the exit's transaction stores
the bill only over the copy's version, so a stale copy costs a retry, never a wrong write.
"""

from __future__ import annotations

import threading

from pynamodb.models import Model

from shared.adapters.dynamo.models import (
    AckItem, ArrearsItem, CitizenItem, DeviceItem, LotItem, LotStatusItem, SessionItem, transaction_connection,
)  # fmt: skip
from shared.ingest.ports import Lookahead

MISS = object()  # not read ahead: the store reads the table
_local = threading.local()
_BATCH = 100  # BatchGetItem's limit per call


def _key(model: type[Model], hash_key: str, range_key: str | None = None) -> tuple:
    return model.Meta.table_name, hash_key, range_key


def take(model: type[Model], hash_key: str, range_key: str | None = None):
    """The item read ahead for this key (None: read ahead and absent), once; ``MISS`` otherwise."""
    items = getattr(_local, "items", None)
    if not items:
        return MISS
    return items.pop(_key(model, hash_key, range_key), MISS)


def assume_absent(model: type[Model], hash_key: str) -> None:
    """Serve the next read of this key as absent, in this thread, once (a guess a conditional write proves)."""
    items = getattr(_local, "items", None)
    if items is not None:
        items.setdefault(_key(model, hash_key), None)


def serve(model: type[Model], hash_key: str, item: Model) -> None:
    """Serve the next read of this key with ``item`` (a copy kept on an item read ahead), in this thread, once."""
    items = getattr(_local, "items", None)
    if items is not None:
        items.setdefault(_key(model, hash_key), item)


def keys_of(wanted: Lookahead) -> list[tuple[type[Model], str, str | None]]:
    from shared.adapters.dynamo.arrears import plate_marker_key
    from shared.adapters.dynamo.events import ack_key
    from shared.adapters.dynamo.sessions import pointer_key

    keys: list[tuple[type[Model], str, str | None]] = [(DeviceItem, wanted.device_id, None)]
    keys += [(LotItem, lot_id, None) for lot_id in wanted.lot_ids]
    keys += [(AckItem, ack_key(lot_id, event_id), None) for lot_id, event_id in wanted.acks]
    keys += [(SessionItem, pointer_key(lot_id, subject), None) for lot_id, subject in wanted.subjects]
    keys += [(LotStatusItem, lot_id, "LOT") for lot_id in wanted.lot_counts]
    keys += [(CitizenItem, f"PLATE#{plate}", None) for plate in wanted.plates]
    keys += [(ArrearsItem, plate_marker_key(plate), None) for plate in wanted.plates]
    # The service scenarios' hooks at the gate (issue 13): the lots' booking and charging policies, the
    # plates' shared-parking rights
    from shared.adapters.dynamo.charging import ChargingItem
    from shared.adapters.dynamo.hospital import HospitalItem
    from shared.adapters.dynamo.sharing import SharingItem, plate_rights_key

    vehicle_lots = list(dict.fromkeys(lot_id for lot_id, _ in wanted.subjects))
    keys += [(HospitalItem, f"POLICY#{lot_id}", None) for lot_id in vehicle_lots]
    keys += [(ChargingItem, f"POLICY#{lot_id}", None) for lot_id in vehicle_lots]
    keys += [(SharingItem, plate_rights_key(plate), None) for plate in wanted.plates]
    return list(dict.fromkeys(keys))


class ReadAhead:
    def read_ahead(self, wanted: Lookahead) -> None:
        keys = keys_of(wanted)[:_BATCH]
        by_table: dict[str, dict] = {}
        models: dict[str, type[Model]] = {}
        for model, hash_key, range_key in keys:
            table = model.Meta.table_name
            models[table] = model
            key = {model._hash_key_attribute().attr_name: {"S": hash_key}}
            if range_key is not None:
                key[model._range_key_attribute().attr_name] = {"S": range_key}
            by_table.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        items: dict[tuple, object] = {_key(m, h, r): None for m, h, r in keys}
        client = transaction_connection().client
        request = by_table
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for table, raws in answer.get("Responses", {}).items():
                model = models[table]
                for raw in raws:
                    item = model.from_raw_data(raw)
                    range_attr = model._range_key_attribute()
                    range_key = getattr(item, range_attr.attr_name) if range_attr is not None else None
                    items[_key(model, getattr(item, model._hash_key_attribute().attr_name), range_key)] = item
            request = answer.get("UnprocessedKeys") or {}  # throttled keys: asked again
        _local.items = items

    def forget(self) -> None:
        _local.items = None
