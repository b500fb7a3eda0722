"""In-memory outbox (the PushStore port)."""

from __future__ import annotations

from shared.citypush.model import Push, PushState


class MemoryOutbox:
    def __init__(self) -> None:
        self._pushes: dict[str, Push] = {}
        self._order: dict[str, list[str]] = {}
        self._cursor: dict[str, int] = {}

    def add(self, push: Push) -> bool:
        if push.push_id in self._pushes:
            return False
        self._pushes[push.push_id] = push
        self._order.setdefault(push.lot_id, []).append(push.push_id)
        return True

    def head(self, lot_id: str, limit: int) -> list[Push]:
        ids = self._order.get(lot_id, [])[self._cursor.get(lot_id, 0):]
        return [self._pushes[i] for i in ids[:limit]]

    def lots(self) -> list[str]:
        return sorted(self._order)

    def update(self, push: Push) -> None:
        self._pushes[push.push_id] = push

    def delivered(self, push: Push) -> None:
        order = self._order[push.lot_id]
        self._cursor[push.lot_id] = max(self._cursor.get(push.lot_id, 0), order.index(push.push_id) + 1)

    def get(self, push_id: str) -> Push | None:
        return self._pushes.get(push_id)

    def undelivered(self) -> list[Push]:
        return [p for p in self._pushes.values() if p.state is not PushState.DELIVERED]
