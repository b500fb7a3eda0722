"""What the transparency log needs from storage. Contracts, not implementations: the in-memory adapters
(``shared.adapters.memory.audit_log``) and the AWS ones (``shared.adapters.dynamo.audit_log``,
``shared.adapters.log_tiles``) both honour them; ``tests/audit/test_log.py`` checks the first and
``tests/audit/test_log_on_local_stack.py`` the second."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Head:
    """The log's latest sequenced state. ``pending`` are the archive objects the last advance added (from
    ``previous_size``); ``published`` turns true once their tiles and the signed checkpoint are written."""

    size: int = 0
    root: bytes = b""
    version: int = 0
    previous_size: int = 0
    pending: tuple[str, ...] = ()
    published: bool = True
    sequenced_at: str = ""
    extra: dict = field(default_factory=dict, compare=False)


class LogHeads(Protocol):
    """The log's head: read strongly, advanced only by a conditional write (no fork)."""

    def head(self) -> Head:
        """The current head (strongly consistent); ``Head()`` for an empty log."""
        ...

    def sequenced(self, object_keys: Sequence[str]) -> set[str]:
        """Which of these archive objects the log already holds: those marked by ``mark_published`` and
        those pending in the current head."""
        ...

    def advance(self, old: Head, new: Head) -> bool:
        """Replace ``old`` by ``new`` only if the head is still ``old`` (same version): one conditional
        write, so two writers never fork the log. False: someone else advanced it first."""
        ...

    def mark_published(self, head: Head) -> bool:
        """Mark ``head.pending`` sequenced for good, then set ``published`` if ``head`` is still current."""
        ...


class TileStore(Protocol):
    """A storage contract of the transparency log: see the methods' docstrings."""

    def get(self, path: str) -> bytes | None: ...

    def put(self, path: str, body: bytes) -> None:
        """Write-once in spirit: a path is only ever rewritten with the same bytes."""
        ...


class ArchiveObjects(Protocol):
    """The archive objects the log sequences: read by key, never changed once written."""

    def get(self, key: str) -> bytes: ...


class NoteSigner(Protocol):
    """A storage contract of the transparency log: see the methods' docstrings."""

    name: str

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (C2SP signed-note)."""
        ...
