"""Archive objects written once and sequenced in the archive's Merkle log: the one step that the money
records (``books.py``) and the registry versions (``registry.py``) share with each other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from shared.archive.ports import ArchiveBucket


class LogAppender(Protocol):
    """The archive's Merkle log (``shared.audit.log.TransparencyLog``): sequences archive objects."""

    def append(self, object_keys: list[str]) -> object:
        """Sequence these objects, those not in the log yet, and publish a new checkpoint."""
        ...


def archive_once(bucket: ArchiveBucket, log: LogAppender | None, objects: Iterable[tuple[str, bytes]]) -> list[str]:
    """Write each ``(key, body)`` unless its key exists (never rewritten: its leaf may be in the log already),
    then append all the keys to the log (when the stores have one), which ignores keys it holds. Idempotent."""
    keys = []
    for key, body in objects:
        if key not in set(bucket.keys(key)):
            bucket.put(key, body)
        keys.append(key)
    if keys and log is not None:
        log.append(keys)
    return keys
