"""In-memory hotline tickets: one lock makes each versioned write atomic."""

from __future__ import annotations

import threading
from datetime import datetime

from shared.hotline.model import Ticket


class MemoryTicketStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, Ticket] = {}

    def save(self, ticket: Ticket) -> bool:
        with self._lock:
            current = self._tickets.get(ticket.ticket_id)
            if (current.version if current else 0) != ticket.version - 1:
                return False
            self._tickets[ticket.ticket_id] = ticket
            return True

    def get(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def _where(self, keep) -> list[Ticket]:
        return sorted((t for t in self._tickets.values() if keep(t)), key=lambda t: (t.created_at, t.ticket_id))

    def of_district(self, district_code: str) -> list[Ticket]:
        return self._where(lambda t: t.district_code == district_code)

    def of_operator(self, operator_id: str) -> list[Ticket]:
        return self._where(lambda t: t.operator_id == operator_id)

    def of_citizen(self, citizen: str) -> list[Ticket]:
        return self._where(lambda t: t.citizen == citizen)

    def all(self) -> list[Ticket]:
        return self._where(lambda t: True)

    def due(self, before: datetime) -> list[Ticket]:
        return self._where(lambda t: (d := t.next_due_at()) is not None and d <= before)
