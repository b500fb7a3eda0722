"""The transparency log's head and tiles in memory (tests, and replays that rebuild a log)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shared.audit.ports import Head


class MemoryLogHeads:
    def __init__(self) -> None:
        self._head, self._seq, self._lock = Head(), set(), threading.Lock()

    def head(self) -> Head:
        return self._head

    def sequenced(self, object_keys: Sequence[str]) -> set[str]:
        return (self._seq | set(self._head.pending)) & set(object_keys)

    def advance(self, old: Head, new: Head) -> bool:
        with self._lock:
            if self._head.version != old.version:
                return False
            self._head = new
            return True

    def mark_published(self, head: Head) -> bool:
        with self._lock:
            self._seq |= set(head.pending)
            if self._head.version != head.version:
                return False
            self._head = Head(**{**head.__dict__, "published": True})
            return True


class MemoryTiles:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def get(self, path: str) -> bytes | None:
        return self.objects.get(path)

    def put(self, path: str, body: bytes) -> None:
        self.objects[path] = body
