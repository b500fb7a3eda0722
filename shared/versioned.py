"""Changing a versioned record field by field: read it, decide, write conditionally on the version read;
on a lost race read again and decide again. The one loop behind the services' ``_change`` methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from shared.errors import Conflict

ATTEMPTS = 6


class Versioned(Protocol):
    def bumped(self, **changes): ...


R = TypeVar("R", bound=Versioned)


def change(
    load: Callable[[], R], changes: Callable[[R], dict | None], store: Callable[[R], bool], what: str
) -> tuple[R, bool]:
    """(the record as stored, whether this call changed it). ``changes`` returns None for "nothing to do";
    ``store`` writes the bumped record if its previous version is still the stored one."""
    for _ in range(ATTEMPTS):
        current = load()
        update = changes(current)
        if update is None:
            return current, False
        new = current.bumped(**update)
        if store(new):
            return new, True
    raise Conflict(f"{what} keeps changing; retry", code="contention")
