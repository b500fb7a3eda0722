"""The outbox and the wire, as ports. Adapters: ``shared/adapters/memory/city_push.py`` (outbox),
``shared/adapters/city_push.py`` (DynamoDB outbox, HTTP transport)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.citypush.model import Push


class PushStore(Protocol):
    """``add``: queue a push unless its id is queued already (False; nothing written). ``head``: a lot's
    undelivered pushes, oldest first, at most ``limit``. ``lots``: lots that may have undelivered pushes.
    ``update``: store a push's new state (the caller is the only sender: the push function runs alone).
    ``delivered``: mark it delivered and move the lot past it. ``undelivered``: every pending or dead push."""

    def add(self, push: Push) -> bool: ...

    def head(self, lot_id: str, limit: int) -> list[Push]: ...

    def lots(self) -> list[str]: ...

    def update(self, push: Push) -> None: ...

    def delivered(self, push: Push) -> None: ...

    def get(self, push_id: str) -> Push | None: ...

    def undelivered(self) -> list[Push]: ...


@dataclass(frozen=True)
class Target:
    url: str | None  # None: not configured; pushes wait in the outbox
    key_id: str
    secret: str
    timeout_s: float = 5.0


class Transport(Protocol):
    def send(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int | None, str | None]:
        """POST ``body``; (status, None) when the platform answered, (None, error) when it could not be reached."""
        ...
