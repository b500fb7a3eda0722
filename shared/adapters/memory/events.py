"""Acks (the idempotency record of each accepted event, claimed by archive objects) and nonces, in memory."""

from __future__ import annotations

import json
from datetime import datetime

from shared.adapters.memory.db import LOCK
from shared.archive.writer import ArchivedEvent
from shared.ingest.ports import AckRecord
from shared.protocol.events import Ack


def _image(record: AckRecord) -> dict:
    return {
        "pk": record.key,
        "lot_id": record.lot_id,
        "district_code": record.district_code,
        "device_id": record.device_id,
        "accepted_at": record.ack.accepted_at.isoformat(),
        "ack": json.loads(record.ack.model_dump_json(exclude_none=True)),
        "event": json.loads(json.dumps(record.event)),
        **({"nonce": record.nonce} if record.nonce is not None else {}),
        **({"lot_device": True} if record.lot_device else {}),
    }


class AckStore:
    def __init__(self) -> None:
        self.items: dict[str, dict] = {}  # pk -> the image DynamoDB's stream would carry

    def get(self, lot_id: str, event_id: str) -> Ack | None:
        record = self.get_record(lot_id, event_id)
        return record.ack if record is not None else None

    def get_record(self, lot_id: str, event_id: str) -> AckRecord | None:
        item = self.items.get(f"{lot_id}#{event_id}")
        if item is None:
            return None
        return AckRecord(
            lot_id=item["lot_id"], district_code=item["district_code"], device_id=item["device_id"],
            event=item["event"], ack=Ack.model_validate(item["ack"]), nonce=item.get("nonce"),
            lot_device=bool(item.get("lot_device")),
        )

    def save(self, record: AckRecord) -> bool:
        with LOCK:
            if record.key in self.items:
                return False
            self.put(record)
        return True

    def put(self, record: AckRecord) -> None:
        """Unconditional: the caller (a transaction of another store) checked ``absent`` under the lock."""
        self.items[record.key] = _image(record)

    def absent(self, record: AckRecord) -> bool:
        return record.key not in self.items

    def claim_for_archive(self, pk: str, archive_key: str) -> str:
        with LOCK:
            item = self.items[pk]
            item.setdefault("archive_key", archive_key)
            return item["archive_key"]

    def in_archive_object(self, archive_key: str) -> list[ArchivedEvent]:
        return [
            ArchivedEvent.from_image(i) for pk, i in sorted(self.items.items()) if i.get("archive_key") == archive_key
        ]


class NonceStore:
    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    def claim(self, device_id: str, nonce: str, expires_at: datetime) -> bool:
        key = f"{device_id}#{nonce}"
        with LOCK:
            if key in self._seen:
                return False
            self._seen[key] = expires_at
        return True
