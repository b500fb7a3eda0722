"""The archive's ports: claiming accepted events for one archive object, and the bucket of objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared.archive.writer import ArchivedEvent


class ArchiveClaims(Protocol):
    """Contract (``tests/contracts/test_events.py``): ``claim_for_archive`` assigns a stored ack to an object
    key once and returns the key it belongs to (the given one, or the one claimed first);
    ``in_archive_object`` lists the events claimed by a key."""

    def claim_for_archive(self, pk: str, archive_key: str) -> str: ...

    def in_archive_object(self, archive_key: str) -> list[ArchivedEvent]: ...


class ArchiveBucket(Protocol):
    """Objects by key; a put replaces an object's content (a rewrite after a crash writes the same bytes)."""

    def put(self, key: str, body: bytes) -> None: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def get(self, key: str) -> bytes: ...
