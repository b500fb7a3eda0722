"""What the hotline needs from storage. Adapters: ``shared.adapters.memory.hotline`` and
``shared.adapters.dynamo.hotline``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.hotline.model import Ticket


class TicketStore(Protocol):
    """Contract: ``save`` stores version ``n`` only over version ``n - 1`` (version 1: only if the ticket
    does not exist) and returns False, writing nothing, otherwise. ``due(before)``: the tickets whose
    ``next_due_at()`` is at or before ``before``. Lists are in creation order."""

    def save(self, ticket: Ticket) -> bool: ...

    def get(self, ticket_id: str) -> Ticket | None: ...

    def of_district(self, district_code: str) -> list[Ticket]: ...

    def of_operator(self, operator_id: str) -> list[Ticket]: ...

    def of_citizen(self, citizen: str) -> list[Ticket]: ...

    def all(self) -> list[Ticket]: ...

    def due(self, before: datetime) -> list[Ticket]: ...
