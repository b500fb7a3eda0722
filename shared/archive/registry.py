"""Registry changes the books depend on, archived and sequenced in the archive's Merkle log (issue 12): every
version of every lot (where it is, whose, its capacity and tariff) and of every tariff, so an auditor can
prove which lot and tariff versions priced the sessions, and replay from the archive alone
(``tongting replay --registry archive``).

A record is one JSON line, ``{"record": "lot"|"tariff", "id", "version", "doc"}`` with the stored document,
under ``registry/<kind>/<id>/v<version>.jsonl``: one object per version, written once (an object already
written is never rewritten), appended to the log like the device events and the money records. They come
from the ``lots`` and ``tariffs`` tables' streams (``functions/registry_writer``): every stored version is
delivered at least once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from shared.archive.logged import LogAppender, archive_once
from shared.archive.ports import ArchiveBucket

PREFIX = "registry/"
KINDS = {"lots": ("lot", "lot_id"), "tariffs": ("tariff", "tariff_id")}  # table -> (record kind, its key)


def record_of_image(table: str, image: dict) -> dict | None:
    """The record of a stored registry item from its table's stream (``version`` and ``doc``: the registry
    adapters' layout); None for anything else."""
    kind, key = KINDS.get(table, (None, None))
    if kind is None or not image.get(key) or image.get("version") is None or not image.get("doc"):
        return None
    doc = image["doc"]
    return {"record": kind, "id": str(image[key]), "version": int(image["version"]),
            "doc": json.loads(doc) if isinstance(doc, str) else doc}


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
