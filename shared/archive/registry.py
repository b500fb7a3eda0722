"""Registry changes the books depend on, archived and sequenced in the archive's Merkle log (issue 12): every
version of every lot (where it is, whose, its capacity and tariff), of every tariff and of every operator (the
legal entity and its payout account), so an auditor can prove which lot and tariff versions priced the sessions,
and replay from the archive alone (``tongting replay --registry archive``).

A record is one JSON line, ``{"record": "lot"|"tariff"|"operator", "id", "version", "doc", "at"}`` with the
stored document and when it was stored (``at``, from the item's ``stored_at``; absent for versions stored before
it was kept), under ``registry/<kind>/<id>/v<version>.jsonl``: one object per version, written once (an object
already written is never rewritten), appended to the log like the device events and the money records. They
come from the ``lots``, ``tariffs`` and ``operators`` tables' streams (``functions/registry_writer``): every
stored version is delivered at least once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from shared.archive.logged import LogAppender, archive_once
from shared.archive.ports import ArchiveBucket

PREFIX = "registry/"
# table -> (record kind, its key). Operators too: whose a lot is, and where its revenue is paid, over time.
KINDS = {"lots": ("lot", "lot_id"), "tariffs": ("tariff", "tariff_id"), "operators": ("operator", "operator_id")}


def record_of_image(table: str, image: dict) -> dict | None:
    """The record of a stored registry item from its table's stream (``version`` and ``doc``: the registry
    adapters' layout); None for anything else."""
    kind, key = KINDS.get(table, (None, None))
    if kind is None or not image.get(key) or image.get("version") is None or not image.get("doc"):
        return None
    doc = image["doc"]
    record = {"record": kind, "id": str(image[key]), "version": int(image["version"]),
              "doc": json.loads(doc) if isinstance(doc, str) else doc}  # fmt: skip
    if image.get("stored_at"):
        record["at"] = str(image["stored_at"])
    return record


def object_key(record: dict) -> str:
    return f"{PREFIX}{record['record']}/{record['id']}/v{record['version']:06d}.jsonl"


def line(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()


class RegistryArchive:
    """Archives registry records and sequences them in the log (when the stores have one); idempotent."""

    def __init__(self, bucket: ArchiveBucket, log: LogAppender | None) -> None:
        self._bucket, self._log = bucket, log

    def record(self, records: Iterable[dict]) -> list[str]:
        return archive_once(self._bucket, self._log, ((object_key(r), line(r)) for r in records))


def latest(records: Iterable[dict]) -> dict[tuple[str, str], dict]:
    """The newest version of each (kind, id) among archived registry records."""
    out: dict[tuple[str, str], dict] = {}
    for r in records:
        k = (r["record"], r["id"])
        if k not in out or r["version"] > out[k]["version"]:
            out[k] = r
    return out


class History:
    """Every archived version of each lot and tariff, and the one in force at an instant: the newest whose
    ``at`` (when it was stored) is not after the instant. A version without ``at`` (stored before versions
    were stamped) counts as in force from the start; an instant before every stamped version gets the oldest
    version (an event names a lot that existed). ``parse`` turns a record's document into its model."""

    def __init__(self, records: Iterable[dict], parse: Callable[[dict], object]) -> None:
        found: dict[tuple[str, str], dict[int, dict]] = {}
        for r in records:
            found.setdefault((r["record"], r["id"]), {})[r["version"]] = r  # a version is archived once
        self._versions: dict[tuple[str, str], list[tuple[datetime | None, object]]] = {}
        for key, by_version in found.items():
            ordered = [by_version[v] for v in sorted(by_version)]
            self._versions[key] = [(_instant(r.get("at")), parse(r)) for r in ordered]

    def newest(self, kind: str) -> dict[str, object]:
        """Each id of this kind -> its newest version."""
        return {i: versions[-1][1] for (k, i), versions in self._versions.items() if k == kind}

    def at(self, kind: str, key: str, instant: datetime | str | None):
        """The version of ``(kind, key)`` in force at ``instant`` (an ISO string is parsed only when the
        record has several versions); None if it was never archived."""
        versions = self._versions.get((kind, key))
        if versions is None:
            return None
        if len(versions) == 1 or instant is None:
            return versions[-1][1]
        when = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        chosen = versions[0][1]
        for stored_at, model in versions:
            if stored_at is not None and stored_at > when:
                break
            chosen = model
        return chosen


def _instant(at: str | None) -> datetime | None:
    return datetime.fromisoformat(at) if at else None
