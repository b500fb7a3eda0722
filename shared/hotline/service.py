"""The 24-hour hotline (S8): recording, dispatching, resolving, confirming, escalating, supervising.

Who may do what:
- hotline staff (city admins; district staff and platforms in their district) record phone tickets and
  see their tickets with the caller's contact, which they need to call back;
- an operator sees and resolves the tickets of its lots, the contact masked;
- district staff resolve their district's tickets, city admins any; auditors read everything, masked;
- a citizen raises tickets from the service window, follows and confirms their own; a phone caller
  follows and confirms theirs with the follow code given on the call.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from shared.auth import Principal, Role
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.hotline import model
from shared.hotline.model import Channel, Complaint, Stats, Ticket
from shared.hotline.ports import TicketStore
from shared.registry.model import Lot
from shared.scenarios import parse

ATTEMPTS = 6


@dataclass
class SweepReport:
    escalated: int = 0
    overdue_at_city: int = 0
    closed_by_timeout: int = 0


def _is_staff_of(principal: Principal, ticket: Ticket) -> bool:
    if principal.role is Role.CITY_ADMIN:
        return True
    if principal.role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM):
        return principal.district_code == ticket.district_code
    return principal.role is Role.OPERATOR and ticket.operator_id is not None and principal.operator_id == ticket.operator_id


def view(principal: Principal, ticket: Ticket) -> dict:
    """The ticket as ``principal`` may see it: the contact only for those who call back."""
    data = ticket.model_dump(mode="json", exclude={"follow_code_hash"})
    sees_contact = principal.role in (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) or (
        principal.is_citizen and ticket.citizen == principal.subject
    )
    if not sees_contact:
        data["contact_phone"], data["contact_name"] = model.mask_phone(ticket.contact_phone), model.mask_name(ticket.contact_name)
    return data


def public_view(ticket: Ticket) -> dict:
    """For a phone caller with the follow code: progress only, no contact, no staff names."""
    return {
        "ticket_id": ticket.ticket_id, "category": ticket.category.value, "status": ticket.status.value,
        "level": ticket.level.value, "due_at": ticket.due_at.isoformat(), "resolution": ticket.resolution,
        "closure": ticket.closure.value if ticket.closure else None,
        "history": [{"at": a.at.isoformat(), "action": a.action} for a in ticket.history],
    }  # fmt: skip


class HotlineService:
    def __init__(self, store: TicketStore, lot: Callable[[str], Lot], clock: Clock) -> None:
        self._store, self._lot, self._clock = store, lot, clock

    # Recording
    def record_call(self, principal: Principal, data: object) -> tuple[Ticket, str]:
        """Hotline staff record a phone call; returns the ticket and the follow code for the caller."""
        if principal.role not in (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM):
            raise Forbidden(f"{principal.role.value} may not record hotline calls", code="role_forbidden")
        complaint = self._complaint(data)
        if complaint.contact_phone is None:
            raise InvalidInput("a phone ticket needs the caller's contact_phone", code="contact_required")
        district, operator = self._place(complaint)
        if principal.role is not Role.CITY_ADMIN and principal.district_code != district:
            raise Forbidden(f"{principal.subject} records calls for district {principal.district_code}", code="district_forbidden")
        ticket_id, code = f"tk_{secrets.token_hex(8)}", secrets.token_hex(4)
        ticket = model.open_ticket(
            complaint, ticket_id=ticket_id, channel=Channel.PHONE, district_code=district, operator_id=operator,
            actor=principal.subject, now=self._clock.now(), follow_code_hash=model.follow_hash(ticket_id, code),
        )  # fmt: skip
        return self._create(ticket), code

    def raise_ticket(self, principal: Principal, data: object) -> Ticket:
        """A citizen raises a ticket in the service window."""
        if not principal.is_citizen:
            raise Forbidden("only a citizen's own account may do this", code="citizen_only")
        complaint = self._complaint(data)
        district, operator = self._place(complaint)
        ticket = model.open_ticket(
            complaint, ticket_id=f"tk_{secrets.token_hex(8)}", channel=Channel.WINDOW, district_code=district,
            operator_id=operator, actor=principal.subject, now=self._clock.now(), citizen=principal.subject,
        )  # fmt: skip
        return self._create(ticket)

    def _complaint(self, data: object) -> Complaint:
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        return parse(Complaint, data, code="invalid_ticket")

    def _place(self, complaint: Complaint) -> tuple[str, str | None]:
        """Who answers: the lot's operator (in its district), or the district for an area."""
        if complaint.lot_id is not None:
            lot = self._lot(complaint.lot_id)
            if complaint.district_code not in (None, lot.district_code):
                raise InvalidInput(f"lot {lot.lot_id} is in district {lot.district_code}", code="invalid_ticket")
            return lot.district_code, lot.operator_id
        if complaint.district_code is None:
            raise InvalidInput("name the lot_id or the district_code it is about", code="place_required")
        return complaint.district_code, None

    def _create(self, ticket: Ticket) -> Ticket:
        if not self._store.save(ticket):
            raise Conflict(f"ticket {ticket.ticket_id} exists", code="already_exists")
        return ticket

    # Reading
    def get(self, principal: Principal, ticket_id: str) -> Ticket:
        ticket = self._store.get(ticket_id)
        if ticket is None or not (
            principal.role is Role.AUDITOR or _is_staff_of(principal, ticket)
            or (principal.is_citizen and ticket.citizen == principal.subject)
        ):  # fmt: skip
            raise NotFound(f"ticket {ticket_id} does not exist", code="unknown_ticket")
        return ticket

    def followed(self, ticket_id: str, code: object) -> Ticket:
        """A phone caller with the follow code; anyone else learns nothing (the same 404 either way)."""
        ticket = self._store.get(ticket_id)
        if ticket is None or ticket.follow_code_hash is None or not isinstance(code, str) or not hmac.compare_digest(
            ticket.follow_code_hash, model.follow_hash(ticket_id, code)
        ):  # fmt: skip
            raise NotFound(f"ticket {ticket_id} does not exist", code="unknown_ticket")
        return ticket

    def queue(self, principal: Principal) -> list[Ticket]:
        """The caller's tickets: an operator its lots', district staff their district's, the city all."""
        if principal.role in (Role.CITY_ADMIN, Role.AUDITOR):
            return self._store.all()
        if principal.role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) and principal.district_code:
            return self._store.of_district(principal.district_code)
        if principal.role is Role.OPERATOR and principal.operator_id:
            return self._store.of_operator(principal.operator_id)
        if principal.is_citizen:
            return self._store.of_citizen(principal.subject)
        raise Forbidden(f"{principal.subject} has no ticket queue", code="role_forbidden")

    def stats(self, principal: Principal, district: str | None = None) -> dict[str, list[Stats]]:
        """Volume and on-time rate per district and per operator, over the tickets the caller may see (of
        ``district`` only, if given). Also a part of the supervision report (``ComplianceService``)."""
        if principal.is_citizen:
            raise Forbidden("statistics are for supervision staff", code="role_forbidden")
        tickets, now = self.queue(principal), self._clock.now()
        if district is not None:
            tickets = [t for t in tickets if t.district_code == district]
        by_district: dict[str, list[Ticket]] = {}
        by_operator: dict[str, list[Ticket]] = {}
        for t in tickets:
            by_district.setdefault(t.district_code, []).append(t)
            if t.operator_id:
                by_operator.setdefault(t.operator_id, []).append(t)
        return {
            "districts": [model.stats(d, ts, now) for d, ts in sorted(by_district.items())],
            "operators": [model.stats(o, ts, now) for o, ts in sorted(by_operator.items())],
        }

    # Acting
    def _change(self, ticket_id: str, decide: Callable[[Ticket], Ticket | None]) -> Ticket:
        for _ in range(ATTEMPTS):
            ticket = self._store.get(ticket_id)
            if ticket is None:
                raise NotFound(f"ticket {ticket_id} does not exist", code="unknown_ticket")
            new = decide(ticket)
            if new is None or self._store.save(new):
                return new or ticket
        raise Conflict(f"ticket {ticket_id} keeps changing; retry", code="contention")

    def resolve(self, principal: Principal, ticket_id: str, resolution: object) -> Ticket:
        self.get(principal, ticket_id)  # hides tickets the caller may not see
        if principal.role is Role.AUDITOR or principal.is_citizen:
            raise Forbidden("only the staff answering for the ticket may resolve it", code="role_forbidden")
        return self._change(ticket_id, lambda t: model.resolved(t, resolution, principal.subject, self._clock.now()))

    def confirm(self, principal: Principal | None, ticket_id: str, data: object, code: object = None) -> Ticket:
        """The citizen's answer: their own account, or the follow code of a phone ticket."""
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        if principal is not None:
            if not principal.is_citizen:
                raise Forbidden("the citizen confirms their own ticket", code="citizen_only")
            self.get(principal, ticket_id)
            actor = principal.subject
        else:
            self.followed(ticket_id, code)
            actor = "caller"
        return self._change(ticket_id, lambda t: model.confirmed(t, data.get("satisfied"), data.get("note"), actor, self._clock.now()))

    # Scheduled
    def sweep(self) -> SweepReport:
        now, report = self._clock.now(), SweepReport()
        for ticket in self._store.due(now):
            before = ticket
            after = self._change(ticket.ticket_id, lambda t: model.swept(t, now))
            if after.version == before.version:
                continue
            action = after.history[-1].action
            if action == "escalated":
                report.escalated += 1
            elif action == "overdue":
                report.overdue_at_city += 1
            elif action == "closed":
                report.closed_by_timeout += 1
        return report
