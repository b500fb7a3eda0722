"""Hotline tickets and their rules. Pure: no I/O.

A ticket goes to whoever answers for its place: a lot's operator, or the district for an area. Each
category has a response deadline. An overdue open ticket escalates (operator → district → city, a fresh
deadline at each level); at the city it is noted overdue once. A resolution needs a text; the citizen
then confirms (closed) or rejects (reopened with a fresh deadline); a resolution unconfirmed for
``CONFIRM_WITHIN`` closes by timeout. Every action is appended to ``history``; the first deadline decides
whether the ticket was resolved on time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.errors import InvalidInput
from shared.registry.model import DistrictCode, Identifier


class Category(str, Enum):
    GATE_FAULT = "gate_fault"  # a barrier, camera or pay code out of order: a car is stuck
    WRONG_CHARGE = "wrong_charge"  # charged twice, wrong amount, arrears not owed
    SERVICE = "service"  # staff conduct, signage, cleanliness
    INFORMATION = "information"  # a question: tariffs, sharing, bookings
    SUGGESTION = "suggestion"


RESPONSE_HOURS: dict[Category, int] = {
    Category.GATE_FAULT: 2,
    Category.WRONG_CHARGE: 24,
    Category.SERVICE: 48,
    Category.INFORMATION: 24,
    Category.SUGGESTION: 120,
}
CONFIRM_WITHIN = timedelta(hours=72)


class Channel(str, Enum):
    PHONE = "phone"  # the hotline's staff record the call
    WINDOW = "window"  # the service window (the citizen's own account)


class Level(str, Enum):
    OPERATOR = "operator"
    DISTRICT = "district"
    CITY = "city"


NEXT_LEVEL = {Level.OPERATOR: Level.DISTRICT, Level.DISTRICT: Level.CITY}


class TicketStatus(str, Enum):
    OPEN = "open"  # dispatched, waiting for a resolution
    RESOLVED = "resolved"  # waiting for the citizen's confirmation
    CLOSED = "closed"


class Closure(str, Enum):
    CONFIRMED = "confirmed"
    TIMEOUT = "timeout"


class Confirmation(BaseModel):
    """The citizen's answer to a resolution: the request body of a confirmation."""

    model_config = ConfigDict(extra="forbid")

    satisfied: bool
    note: str | None = Field(None, max_length=1000)


class Complaint(BaseModel):
    """What the caller or the citizen tells: the request body of a new ticket."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    description: str = Field(min_length=1, max_length=2000)
    lot_id: Identifier | None = Field(None, description="The lot it is about; else district_code names the area.")
    district_code: DistrictCode | None = None
    contact_name: str | None = Field(None, max_length=64)
    contact_phone: str | None = Field(None, pattern=r"^\+?[0-9]{7,15}$")


class Action(BaseModel):
    at: datetime
    actor: str
    action: str
    note: str | None = None


class Ticket(BaseModel):
    ticket_id: str
    channel: Channel
    category: Category
    description: str
    district_code: str
    lot_id: str | None = None
    operator_id: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    citizen: str | None = Field(None, description="The service-window account that raised it.")
    follow_code_hash: str | None = Field(None, description="Phone callers follow their ticket with a code.")
    status: TicketStatus = TicketStatus.OPEN
    level: Level
    first_due_at: AwareDatetime
    due_at: AwareDatetime
    escalations: int = 0
    overdue_at_city: bool = False
    resolution: str | None = None
    resolved_at: AwareDatetime | None = None
    resolved_on_time: bool | None = None
    closure: Closure | None = None
    closed_at: AwareDatetime | None = None
    history: list[Action] = Field(default_factory=list)
    created_at: AwareDatetime
    version: int = 1

    def bumped(self, **changes) -> Ticket:
        return self.model_copy(update={**changes, "version": self.version + 1})

    def next_due_at(self) -> datetime | None:
        """When the sweep must look at it next (None: never again)."""
        if self.status is TicketStatus.OPEN and not self.overdue_at_city:
            return self.due_at
        if self.status is TicketStatus.RESOLVED and self.resolved_at is not None:
            return self.resolved_at + CONFIRM_WITHIN
        return None


def follow_hash(ticket_id: str, code: str) -> str:
    return hashlib.sha256(f"{ticket_id}:{code}".encode()).hexdigest()


def _did(ticket: Ticket, at: datetime, actor: str, action: str, note: str | None = None) -> list[Action]:
    return [*ticket.history, Action(at=at, actor=actor, action=action, note=note)]


def open_ticket(
    complaint: Complaint, *, ticket_id: str, channel: Channel, district_code: str, operator_id: str | None,
    actor: str, now: datetime, citizen: str | None = None, follow_code_hash: str | None = None,
) -> Ticket:  # fmt: skip
    """A new ticket, dispatched at once: to the lot's operator, or to the district for an area."""
    level = Level.OPERATOR if operator_id else Level.DISTRICT
    due = now + timedelta(hours=RESPONSE_HOURS[complaint.category])
    to = f"operator {operator_id}" if operator_id else f"district {district_code}"
    return Ticket(
        ticket_id=ticket_id, channel=channel, category=complaint.category, description=complaint.description,
        district_code=district_code, lot_id=complaint.lot_id, operator_id=operator_id,
        contact_name=complaint.contact_name, contact_phone=complaint.contact_phone, citizen=citizen,
        follow_code_hash=follow_code_hash, level=level, first_due_at=due, due_at=due, created_at=now,
        history=[Action(at=now, actor=actor, action="created", note=channel.value),
                 Action(at=now, actor="platform", action="dispatched", note=f"{to}, due {due.isoformat()}")],
    )  # fmt: skip


def swept(ticket: Ticket, now: datetime) -> Ticket | None:
    """What the scheduled sweep does to a ticket at ``now``: escalate an overdue one, note it overdue at
    the city, or close an unconfirmed resolution by timeout. None: nothing is due."""
    due = ticket.next_due_at()
    if due is None or now < due:
        return None
    if ticket.status is TicketStatus.RESOLVED:
        return ticket.bumped(status=TicketStatus.CLOSED, closure=Closure.TIMEOUT, closed_at=now,
                             history=_did(ticket, now, "platform", "closed", "no confirmation within 72 h"))
    if ticket.level is Level.CITY:
        return ticket.bumped(overdue_at_city=True, history=_did(ticket, now, "platform", "overdue", "at the city"))
    level = NEXT_LEVEL[ticket.level]
    new_due = now + timedelta(hours=RESPONSE_HOURS[ticket.category])
    return ticket.bumped(
        level=level, due_at=new_due, escalations=ticket.escalations + 1,
        history=_did(ticket, now, "platform", "escalated", f"to the {level.value}, due {new_due.isoformat()}"),
    )  # fmt: skip


def resolved(ticket: Ticket, resolution: object, actor: str, now: datetime) -> Ticket:
    if not isinstance(resolution, str) or not resolution.strip() or len(resolution) > 2000:
        raise InvalidInput("a resolution (1..2000 characters) is required", code="resolution_required")
    if ticket.status is not TicketStatus.OPEN:
        raise InvalidInput(f"ticket {ticket.ticket_id} is {ticket.status.value}", code="ticket_not_open")
    on_time = ticket.resolved_on_time if ticket.resolved_on_time is not None else now <= ticket.first_due_at
    return ticket.bumped(status=TicketStatus.RESOLVED, resolution=resolution.strip(), resolved_at=now,
                         resolved_on_time=on_time, history=_did(ticket, now, actor, "resolved", resolution.strip()))


def confirmed(ticket: Ticket, satisfied: object, note: object, actor: str, now: datetime) -> Ticket:
    """The citizen's answer to a resolution: closed, or reopened with a fresh deadline at the same level."""
    if type(satisfied) is not bool:
        raise InvalidInput("satisfied is true or false", code="invalid_confirmation")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note is a text of at most 2000 characters", code="invalid_confirmation")
    if ticket.status is not TicketStatus.RESOLVED:
        raise InvalidInput(f"ticket {ticket.ticket_id} is {ticket.status.value}", code="ticket_not_resolved")
    if satisfied:
        return ticket.bumped(status=TicketStatus.CLOSED, closure=Closure.CONFIRMED, closed_at=now,
                             history=_did(ticket, now, actor, "confirmed", note))
    due = now + timedelta(hours=RESPONSE_HOURS[ticket.category])
    return ticket.bumped(status=TicketStatus.OPEN, due_at=due, resolution=None, resolved_at=None, overdue_at_city=False,
                         history=_did(ticket, now, actor, "reopened", note))


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_name(name: str | None) -> str | None:
    return name[:1] + "*" * (len(name) - 1) if name else name


class Stats(BaseModel):
    """Supervision figures of one district or operator."""

    scope: str
    volume: int
    open: int
    resolved: int
    closed: int
    escalated: int
    overdue_now: int
    on_time: int
    on_time_rate: float | None = Field(description="Of the resolved tickets, the share resolved by the first deadline.")


def stats(scope: str, tickets: list[Ticket], now: datetime) -> Stats:
    done = [t for t in tickets if t.resolved_on_time is not None]
    on_time = sum(1 for t in done if t.resolved_on_time)
    return Stats(
        scope=scope, volume=len(tickets),
        open=sum(t.status is TicketStatus.OPEN for t in tickets),
        resolved=len(done), closed=sum(t.status is TicketStatus.CLOSED for t in tickets),
        escalated=sum(t.escalations > 0 for t in tickets),
        overdue_now=sum(t.status is TicketStatus.OPEN and now >= t.due_at for t in tickets),
        on_time=on_time, on_time_rate=round(on_time / len(done), 4) if done else None,
    )  # fmt: skip
