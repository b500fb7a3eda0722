"""Lot-system adapters: vendor push formats mapped onto protocol v1 (S1 for lots that keep their system).

``get(name)`` is what the ``/v1/lot-systems/{adapter}/events`` route resolves its path segment with.
"""

from __future__ import annotations

from shared.errors import NotFound
from shared.protocol.lot_systems.base import PAYLOAD_INVALID, LotSystemAdapter
from shared.protocol.lot_systems.cn_common import CnCommonAdapter

ADAPTERS: dict[str, LotSystemAdapter] = {a.name: a for a in (CnCommonAdapter(),)}


def get(name: str) -> LotSystemAdapter:
    try:
        return ADAPTERS[name]
    except (KeyError, TypeError):
        known = sorted(ADAPTERS)
        raise NotFound(f"no lot-system adapter named {name!r}", code="unknown_adapter", known=known) from None


__all__ = ["ADAPTERS", "PAYLOAD_INVALID", "LotSystemAdapter", "get"]
