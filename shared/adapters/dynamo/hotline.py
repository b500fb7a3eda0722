"""Hotline tickets in the ``hotline-tickets`` table: one item per ticket (``TICKET#<id>``), its audit
trail inside it, versioned. ``pending``/``next_due_at`` are set only while the sweep has something to do
(escalate, close by timeout), so the sweep's index holds only those tickets."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from shared import resources
from shared.adapters.dynamo.conditions import save_if, versioned
from shared.adapters.dynamo.models import index_of, keyed
from shared.hotline.model import Ticket

PENDING = "PENDING"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


_ByDistrict = index_of(resources.HOTLINE_TICKETS, "by_district")


_ByOperator = index_of(resources.HOTLINE_TICKETS, "by_operator")


_ByCitizen = index_of(resources.HOTLINE_TICKETS, "by_citizen")


_PendingByDue = index_of(resources.HOTLINE_TICKETS, "pending_by_due")


class TicketItem(keyed(resources.HOTLINE_TICKETS)):
    version = NumberAttribute()
    doc = JSONAttribute()
    district_code = UnicodeAttribute()
    created_at = UnicodeAttribute()
    operator_id = UnicodeAttribute(null=True)
    citizen = UnicodeAttribute(null=True)
    pending = UnicodeAttribute(null=True)
    next_due_at = UnicodeAttribute(null=True)
    by_district = _ByDistrict()
    by_operator = _ByOperator()
    by_citizen = _ByCitizen()
    pending_by_due = _PendingByDue()


def _ticket(item: TicketItem) -> Ticket:
    return Ticket.model_validate(item.doc)


class DynamoTicketStore:
    def save(self, ticket: Ticket) -> bool:
        due = ticket.next_due_at()
        item = TicketItem(
            pk=f"TICKET#{ticket.ticket_id}", version=ticket.version, doc=ticket.model_dump(mode="json"),
            district_code=ticket.district_code, created_at=_utc(ticket.created_at), operator_id=ticket.operator_id,
            citizen=ticket.citizen, pending=PENDING if due else None, next_due_at=_utc(due) if due else None,
        )  # fmt: skip
        return save_if(item, versioned(TicketItem, ticket.version))

    def get(self, ticket_id: str) -> Ticket | None:
        try:
            return _ticket(TicketItem.get(f"TICKET#{ticket_id}", consistent_read=True))
        except DoesNotExist:
            return None

    def of_district(self, district_code: str) -> list[Ticket]:
        return [_ticket(i) for i in TicketItem.by_district.query(district_code)]

    def of_operator(self, operator_id: str) -> list[Ticket]:
        return [_ticket(i) for i in TicketItem.by_operator.query(operator_id)]

    def of_citizen(self, citizen: str) -> list[Ticket]:
        return [_ticket(i) for i in TicketItem.by_citizen.query(citizen)]

    def all(self) -> list[Ticket]:
        return sorted((_ticket(i) for i in TicketItem.scan()), key=lambda t: (t.created_at, t.ticket_id))

    def due(self, before: datetime) -> list[Ticket]:
        return [_ticket(i) for i in TicketItem.pending_by_due.query(PENDING, TicketItem.next_due_at <= _utc(before))]
