"""The gateway's ports: the idempotency record of each accepted event (its ack) and seen request nonces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.protocol.events import Ack


@dataclass(frozen=True)
class AckRecord:
    """An accepted event's idempotency record: stored once per (lot, event id), in the same transaction as
    what the event changes; the stream of these records feeds the archive.

    ``nonce``: the request nonce of a one-vehicle-event request, kept with its ack instead of in the nonces
    (issue 10): the same signed request again finds it here and is refused as a replay.
    ``lot_device``: the device is bound to this lot, so the acceptance is its last-seen, which the archive
    writer records from the stream (issue 10: no last-seen write on the request's path)."""

    lot_id: str
    district_code: str
    device_id: str
    event: dict
    ack: Ack
    nonce: str | None = None
    lot_device: bool = False

    @property
    def key(self) -> str:
        return f"{self.lot_id}#{self.ack.event_id}"


class AckStore(Protocol):
    """Contract (``tests/contracts/test_events.py``): ``save`` is put-if-absent per (lot, event id) (False:
    stored before, nothing written); ``get`` returns the first ack stored, ``get_record`` the whole record
    stored with it (its device, nonce and ``lot_device`` as given)."""

    def get(self, lot_id: str, event_id: str) -> Ack | None: ...

    def get_record(self, lot_id: str, event_id: str) -> AckRecord | None: ...

    def save(self, record: AckRecord) -> bool: ...


class NonceStore(Protocol):
    """Contract: ``claim`` is True the first time a device uses a nonce, False on every replay. (A
    one-vehicle-event request whose event is stored keeps its nonce on the ack instead: ``AckRecord.nonce``.)"""

    def claim(self, device_id: str, nonce: str, expires_at: datetime) -> bool: ...


# Issue 10: one device request in two DynamoDB round trips (one batched read, one transaction)


@dataclass(frozen=True)
class NonceClaim:
    """A verified request's nonce: claimed in the nonces (put if absent), or kept on the ack that the
    request stores (``AckRecord.nonce``)."""

    device_id: str
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class DeviceSeen:
    """A device's last-seen time to move forward (``LotStatusStore.touch_device``)."""

    lot_id: str
    device_id: str
    at: datetime


@dataclass(frozen=True)
class Lookahead:
    """The records a device request's decisions will read: the device, the lots it names, the events'
    acks (lot, event id), the open-session pointers (lot, subject), the lots' counts, and each plate's
    owner and open-arrears records."""

    device_id: str
    lot_ids: tuple[str, ...] = ()
    acks: tuple[tuple[str, str], ...] = ()
    subjects: tuple[tuple[str, str], ...] = ()
    lot_counts: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()


class ReadAhead(Protocol):
    """Contract (``tests/contracts/test_read_ahead.py``): ``read_ahead`` reads the named records in one
    batched, strongly consistent read; each then serves the NEXT read of it by this thread's stores, once
    (a retry after a lost race reads the store again); ``forget`` drops what was not used. The answers
    are those of a read made at ``read_ahead``; every decision taken on them ends in a conditional write.
    An adapter whose reads cost nothing (memory) may read nothing ahead: the answers are the same."""

    def read_ahead(self, wanted: Lookahead) -> None: ...

    def forget(self) -> None: ...
