"""Idempotency records of device events (acks) and seen request nonces."""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.conditions import save_if, update_if
from shared.adapters.dynamo.models import AckItem, NonceItem
from shared.protocol.events import Ack


def ack_key(lot_id: str, event_id: str) -> str:
    return f"{lot_id}#{event_id}"


class AckStore:
    def get(self, lot_id: str, event_id: str) -> Ack | None:
        try:
            item = AckItem.get(ack_key(lot_id, event_id), consistent_read=True)
        except DoesNotExist:
            return None
        return Ack.model_validate(item.ack)

    def item(self, *, lot_id: str, district_code: str, device_id: str, event: dict, ack: Ack) -> AckItem:
        return AckItem(
            pk=ack_key(lot_id, ack.event_id),
            lot_id=lot_id,
            district_code=district_code,
            device_id=device_id,
            accepted_at=ack.accepted_at.isoformat(),
            ack=json.loads(ack.model_dump_json(exclude_none=True)),
            event=event,
        )

    def save(self, item: AckItem) -> bool:
        """Store an ack alone (events that change nothing else); False if it already exists."""
        return save_if(item, AckItem.pk.does_not_exist())

    def claim_for_archive(self, pk: str, archive_key: str) -> str:
        """Assign the event to an archive object once; returns the object it belongs to (maybe another)."""
        claimed = update_if(
            AckItem(pk=pk),
            [AckItem.archive_key.set(archive_key)],
            AckItem.pk.exists() & (AckItem.archive_key.does_not_exist() | (AckItem.archive_key == archive_key)),
        )
        return archive_key if claimed else AckItem.get(pk, consistent_read=True).archive_key

    def in_archive_object(self, archive_key: str) -> list[AckItem]:
        return list(AckItem.by_archive_object.query(archive_key))


class NonceStore:
    def claim(self, device_id: str, nonce: str, expires_at: datetime) -> bool:
        """True the first time a device uses a nonce; False on a replay."""
        nonce_item = NonceItem(pk=f"{device_id}#{nonce}", expires_at=int(expires_at.timestamp()))
        return save_if(nonce_item, NonceItem.pk.does_not_exist())

