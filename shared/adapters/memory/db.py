"""One lock and a few helpers shared by the in-memory stores (their transactions span stores)."""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel

# One lock per process, re-entrant: a store's "transaction" checks every condition, then applies every
# write, under it; a store calling another (money -> ledger) takes it again.
LOCK = threading.RLock()


def dump(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


def fits(table: dict[str, dict], key: str, version: int) -> bool:
    """The versioned-write condition: create (version 1) only if absent, else replace version - 1."""
    stored = table.get(key)
    return stored is None if version == 1 else stored is not None and stored.get("version") == version - 1
