"""The gateway's ports: the idempotency record of each accepted event (its ack) and seen request nonces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.protocol.events import Ack


@dataclass(frozen=True)
class AckRecord:
    """An accepted event's idempotency record: stored once per (lot, event id), in the same transaction as
    what the event changes; the stream of these records feeds the archive."""

    lot_id: str
    district_code: str
    device_id: str
    event: dict
    ack: Ack

    @property
    def key(self) -> str:
        return f"{self.lot_id}#{self.ack.event_id}"


class AckStore(Protocol):
    """Contract (``tests/contracts/test_events.py``): ``save`` is put-if-absent per (lot, event id) (False:
    stored before, nothing written); ``get`` returns the first ack stored."""

    def get(self, lot_id: str, event_id: str) -> Ack | None: ...

    def save(self, record: AckRecord) -> bool: ...


class NonceStore(Protocol):
    """Contract: ``claim`` is True the first time a device uses a nonce, False on every replay."""

    def claim(self, device_id: str, nonce: str, expires_at: datetime) -> bool: ...
