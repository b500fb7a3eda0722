"""Idempotency records of device events (acks) and seen request nonces."""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import save_if, update_if
from shared.adapters.dynamo.models import AckItem, NonceItem
from shared.archive.writer import ArchivedEvent
from shared.ingest.ports import AckRecord
from shared.protocol.events import Ack


def ack_key(lot_id: str, event_id: str) -> str:
    return f"{lot_id}#{event_id}"


def ack_item(record: AckRecord) -> AckItem:
    return AckItem(
        pk=record.key,
        lot_id=record.lot_id,
        district_code=record.district_code,
        device_id=record.device_id,
        accepted_at=record.ack.accepted_at.isoformat(),
        ack=json.loads(record.ack.model_dump_json(exclude_none=True)),
        event=record.event,
        nonce=record.nonce,
        lot_device=record.lot_device or None,  # a gateway's events: absent rather than false
    )


def _record(item: AckItem) -> AckRecord:
    return AckRecord(
        lot_id=item.lot_id, district_code=item.district_code, device_id=item.device_id, event=item.event,
        ack=Ack.model_validate(item.ack), nonce=item.nonce, lot_device=bool(item.lot_device),
    )


class AckStore:
    """The ``AckStore`` (``shared.ingest.ports``) and ``ArchiveClaims`` (``shared.archive.ports``) ports."""

    def get(self, lot_id: str, event_id: str) -> Ack | None:
        record = self.get_record(lot_id, event_id)
        return record.ack if record is not None else None

    def get_record(self, lot_id: str, event_id: str) -> AckRecord | None:
        item = read_ahead.take(AckItem, ack_key(lot_id, event_id))
        if item is None:
            return None
        if item is read_ahead.MISS:
            try:
                item = AckItem.get(ack_key(lot_id, event_id), consistent_read=True)
            except DoesNotExist:
                return None
        return _record(item)

    def save(self, record: AckRecord) -> bool:
        """Store an ack alone (events that change nothing else); False if it already exists."""
        return save_if(ack_item(record), AckItem.pk.does_not_exist())

    def claim_for_archive(self, pk: str, archive_key: str) -> str:
        """Assign the event to an archive object once; returns the object it belongs to (maybe another)."""
        claimed = update_if(
            AckItem(pk=pk),
            [AckItem.archive_key.set(archive_key)],
            AckItem.pk.exists() & (AckItem.archive_key.does_not_exist() | (AckItem.archive_key == archive_key)),
        )
        return archive_key if claimed else AckItem.get(pk, consistent_read=True).archive_key

    def in_archive_object(self, archive_key: str) -> list[ArchivedEvent]:
        return [ArchivedEvent.from_image(i.attribute_values) for i in AckItem.by_archive_object.query(archive_key)]


class NonceStore:
    def claim(self, device_id: str, nonce: str, expires_at: datetime) -> bool:
        """True the first time a device uses a nonce; False on a replay."""
        nonce_item = NonceItem(pk=f"{device_id}#{nonce}", expires_at=int(expires_at.timestamp()))
        return save_if(nonce_item, NonceItem.pk.does_not_exist())
