"""Writes accepted events to the archive in batches, each event in exactly one object.

The acks table's stream delivers every accepted event at least once, in batches that a retry may cut
differently. So each event is first *claimed* for one object key (a conditional write on its ack);
an object's content is exactly the events claiming it, sorted, so rewriting it after a crash yields the
same bytes, and no event can land in two objects.

Seeing every accepted event, the writer also records the devices' last-seen (issue 10: the request that
stored the event writes none): per batch, each lot device's newest acceptance, moved forward only, so a
redelivered or re-cut batch changes nothing and a device's last-seen lags its newest stored event by the
stream's batching window. It is recorded before the objects are written: an archive that keeps failing
delays the liveness of lots by its retries, not by the first failure.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.archive.ports import ArchiveBucket, ArchiveClaims
from shared.availability.ports import LotStatusStore
from shared.clock import local_date


@dataclass(frozen=True)
class ArchivedEvent:
    pk: str
    lot_id: str
    district_code: str
    device_id: str
    accepted_at: str
    event: dict
    ack: dict
    lot_device: bool = False  # the device is the lot's own: its acceptance is its last-seen (not archived)

    @classmethod
    def from_image(cls, image: dict) -> ArchivedEvent:
        def doc(value):
            return json.loads(value) if isinstance(value, str) else value

        return cls(
            pk=image["pk"],
            lot_id=image["lot_id"],
            district_code=image["district_code"],
            device_id=image["device_id"],
            accepted_at=image["accepted_at"],
            event=doc(image["event"]),
            ack=doc(image["ack"]),
            lot_device=bool(image.get("lot_device")),
        )

    @property
    def partition(self) -> str:
        date = local_date(datetime.fromisoformat(self.accepted_at))
        return f"events/date={date}/district={self.district_code}/lot={self.lot_id}"

    def line(self) -> str:
        record = {
            "lot_id": self.lot_id,
            "district_code": self.district_code,
            "device_id": self.device_id,
            "accepted_at": self.accepted_at,
            "event": self.event,
            "ack": self.ack,
        }
        return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


def object_key(partition: str, events: Iterable[ArchivedEvent]) -> str:
    digest = hashlib.sha256("\n".join(sorted(e.pk for e in events)).encode()).hexdigest()[:20]
    return f"{partition}/{digest}.jsonl"


def render(events: Iterable[ArchivedEvent]) -> bytes:
    ordered = sorted(events, key=lambda e: (e.accepted_at, e.pk))
    return ("\n".join(e.line() for e in ordered) + "\n").encode()


def newest_seen(events: Iterable[ArchivedEvent]) -> dict[tuple[str, str], datetime]:
    """(lot, device) -> the newest acceptance of that lot's own device among the events."""
    newest: dict[tuple[str, str], datetime] = {}
    for e in events:
        if e.lot_device:
            at, key = datetime.fromisoformat(e.accepted_at), (e.lot_id, e.device_id)
            if key not in newest or at > newest[key]:
                newest[key] = at
    return newest


class ArchiveWriter:
    def __init__(self, acks: ArchiveClaims, bucket: ArchiveBucket, status: LotStatusStore | None = None) -> None:
        self._acks, self._bucket, self._status = acks, bucket, status

    def write(self, events: list[ArchivedEvent]) -> list[str]:
        """Record the devices' last-seen, then archive the batch; returns the object keys written."""
        if self._status is not None:
            for (lot_id, device_id), at in sorted(newest_seen(events).items()):
                self._status.touch_device(lot_id, device_id, at)  # one conditional update per device and batch
        groups: dict[str, list[ArchivedEvent]] = defaultdict(list)
        for e in {e.pk: e for e in events}.values():
            groups[e.partition].append(e)
        objects: dict[str, list[ArchivedEvent]] = defaultdict(list)
        elsewhere: set[str] = set()
        for partition, members in groups.items():
            key = object_key(partition, members)
            for e in members:
                owner = self._acks.claim_for_archive(e.pk, key)
                if owner == key:
                    objects[key].append(e)
                else:
                    elsewhere.add(owner)  # claimed by an earlier, interrupted run: finish that object
        for key in elsewhere - set(objects):
            objects[key] = self._acks.in_archive_object(key)
        for key, members in objects.items():
            self._bucket.put(key, render(members))
        return sorted(objects)


def read_archive(bucket: ArchiveBucket, prefix: str = "events/") -> list[dict]:
    """Every archived record (latest object versions), for auditors and replay."""
    records = []
    for key in bucket.keys(prefix):
        records.extend(json.loads(line) for line in bucket.get(key).decode().splitlines() if line)
    return records
