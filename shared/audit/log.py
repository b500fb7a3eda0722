"""The archive's append-only Merkle log: every archived record is a leaf, in the order its object was
sequenced; tiles and a signed checkpoint are written to the archive bucket (C2SP tlog-tiles).

Appending is safe under concurrency and crashes: the head advances by one conditional write that also
marks the objects sequenced (a second writer loses and retries; an object is never sequenced twice), and
only after that are the tiles written — deterministic bytes, so whoever finishes an interrupted publish
writes the same ones. The next append finishes an unpublished head before extending it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.audit import tiles
from shared.audit.note import Checkpoint
from shared.audit.ports import ArchiveObjects, Head, LogHeads, NoteSigner, TileStore
from shared.clock import Clock

CHECKPOINT = "checkpoint"
ATTEMPTS = 8


class LogContention(RuntimeError):
    """Other writers kept advancing the log; the stream retries the batch."""


def records_of(body: bytes) -> list[bytes]:
    """The leaves of one archive object: its JSON Lines, without the newline."""
    return [line for line in body.split(b"\n") if line]


@dataclass(frozen=True)
class Appended:
    head: Head
    leaves: int
    checkpoint: str


class TransparencyLog:
    def __init__(
        self, heads: LogHeads, store: TileStore, archive: ArchiveObjects, signer: NoteSigner, clock: Clock,
        prefix: str = "log/",
    ) -> None:  # fmt: skip
        self._heads, self._store, self._archive, self._signer, self._clock = heads, store, archive, signer, clock
        self._prefix = prefix

    @property
    def origin(self) -> str:
        return self._signer.name

    def path(self, name: str) -> str:
        return self._prefix + name

    def append(self, object_keys: Sequence[str]) -> Appended:
        """Sequence these archive objects (those not in the log yet) and publish the new checkpoint."""
        for _ in range(ATTEMPTS):
            head = self._heads.head()
            if not head.published:
                self._publish(head)
                continue
            keys = sorted(set(object_keys) - self._heads.sequenced(object_keys))
            if not keys:
                return Appended(head, 0, self._checkpoint_text(head))
            entries = [r for k in keys for r in records_of(self._archive.get(k))]
            ext = tiles.extend(head.size, self._edge(head.size), entries)
            new = Head(
                ext.size, ext.root, head.version + 1, head.size, tuple(keys), False, self._clock.now().isoformat()
            )
            if self._heads.advance(head, new):
                self._write(new, ext)
                return Appended(new, len(entries), self._checkpoint_text(new))
        raise LogContention("the log kept moving; retry the batch")

    def _edge(self, size: int) -> dict:
        edge = {}
        for (level, index), path in tiles.edge_paths(size).items():
            body = self._store.get(self.path(path))
            if body is None:
                raise RuntimeError(f"tile {path} of a published head is missing")
            edge[(level, index)] = tiles.unbundle(body) if level == "entries" else tiles.split_hashes(body)
        return edge

    def _publish(self, head: Head) -> None:
        """Finish a head whose writer stopped between the advance and the tiles."""
        entries = [r for k in head.pending for r in records_of(self._archive.get(k))]
        ext = tiles.extend(head.previous_size, self._edge(head.previous_size), entries)
        if (ext.size, ext.root) != (head.size, head.root):
            raise RuntimeError("pending archive objects no longer hash to the sequenced root")
        self._write(head, ext)

    def _write(self, head: Head, ext: tiles.Extension) -> None:
        for path, body in ext.tiles.items():
            self._store.put(self.path(path), body)
        self._store.put(self.path(CHECKPOINT), self._checkpoint_text(head).encode())
        self._heads.mark_published(head)

    def _checkpoint_text(self, head: Head) -> str:
        return self._signer.sign(Checkpoint(self.origin, head.size, head.root).text())

    def provable_after(self, accepted_at: Sequence[datetime]) -> list[float]:
        """Seconds from each accepted event to now, when its checkpoint is out (the latency alarmed on)."""
        now = self._clock.now()
        return [(now - a).total_seconds() for a in accepted_at]
