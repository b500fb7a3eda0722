"""Hospital appointment parking: policies, bookings, arrivals at the gate, no-show release.

Who may do what: the hospital lot's operator, its district's staff and city staff set the policy and book
for patients (the hospital's desk); a citizen books only plates verified on their own account and sees
only those plates' bookings; auditors read; the slots' free counts are public.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared import plates
from shared.auth import Principal, Role
from shared.clock import SHANGHAI, Clock
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.hospital import model
from shared.hospital.model import Booking, BookingPolicy, SlotView
from shared.hospital.ports import BookingStore, BookOutcome
from shared.protocol.events import BookingAck
from shared.registry.model import Lot
from shared.scenarios import manages_lot, parse, put_policy, with_lines

ATTEMPTS = 6


@dataclass
class SweepReport:
    no_shows: int


def _plate(raw: object) -> str:
    try:
        plate = plates.parse(str(raw or ""))
    except plates.MalformedPlate as exc:
        raise InvalidInput(str(exc), code="malformed_plate") from None
    if plate.partial:
        raise InvalidInput("give the whole plate, with its province", code="malformed_plate")
    return plate.text


def _when(raw: object, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"{name} is an RFC 3339 time with an offset", code="bad_timestamp") from None
    if at.tzinfo is None:
        raise InvalidInput(f"{name} needs an explicit offset", code="bad_timestamp")
    return at




class HospitalService:
    def __init__(
        self, store: BookingStore, lot: Callable[[str], Lot], plates_of: Callable[[Principal], set[str]], clock: Clock,
        flag_lot: Callable[[str], object] | None = None,
    ) -> None:
        self._store, self._lot, self._plates_of, self._clock = store, lot, plates_of, clock
        self._flag_lot = flag_lot  # marks the lot as having scenario policies (Lot.scenario_policies)

    # Policies
    def put_policy(self, principal: Principal, lot_id: str, data: dict) -> BookingPolicy:
        return put_policy(self._store, self._lot(lot_id), BookingPolicy, principal, data, self._clock.now(),
                          self._flag_lot, "booking policy")

    def policy(self, lot_id: str) -> BookingPolicy:
        policy = self._store.policy(lot_id)
        if policy is None:
            raise NotFound(f"lot {lot_id} takes no appointment bookings", code="not_a_hospital_lot")
        return policy

    def slots(self, lot_id: str, day: str) -> list[SlotView]:
        """Public: each slot of a (Shanghai) day with its quota and what is left."""
        policy = self.policy(lot_id)
        try:
            start = datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI)
        except ValueError:
            raise InvalidInput("date is YYYY-MM-DD", code="bad_query") from None
        views = []
        for i in range(1440 // policy.slot_minutes):
            at = start + timedelta(minutes=i * policy.slot_minutes)
            booked = self._store.booked(lot_id, at)
            views.append(SlotView(slot_start=at, quota=policy.quota_per_slot, booked=booked,
                                  free=max(0, policy.quota_per_slot - booked)))
        return views

    # Bookings
    def book(self, principal: Principal, data: dict) -> Booking:
        lot_id = data.get("lot_id")
        if not isinstance(lot_id, str):
            raise InvalidInput("lot_id is required", code="invalid_booking")
        lot = self._lot(lot_id)
        plate = _plate(data.get("plate"))
        appointment_at = _when(data.get("appointment_at"), "appointment_at")
        if principal.is_citizen:
            if plate not in self._plates_of(principal):
                raise Forbidden("book a plate verified on your account", code="plate_not_yours")
        elif not manages_lot(principal, lot):
            raise Forbidden(f"{principal.subject} may not book at lot {lot_id}", code="lot_forbidden")
        policy = self.policy(lot_id)
        now = self._clock.now()
        until = model.restricted_until(policy, self._store.of_plate(plate), now)
        if until is not None:
            raise Forbidden(
                f"this plate missed {policy.no_show_limit} bookings; it may book again from {until.isoformat()}",
                code="no_show_restricted", until=until.isoformat(),
            )  # fmt: skip
        booking = model.new_booking(
            policy, booking_id=f"bk_{secrets.token_hex(8)}", lot_id=lot.lot_id, district_code=lot.district_code,
            operator_id=lot.operator_id, plate=plate, appointment_at=appointment_at, booked_by=principal.subject, now=now,
        )  # fmt: skip
        for _ in range(ATTEMPTS):
            outcome = self._store.book(booking, policy.quota_per_slot)
            if outcome is BookOutcome.BOOKED:
                return booking
            if outcome is BookOutcome.FULL:
                raise Conflict("this slot's booked spaces are taken; choose another", code="slot_full",
                               slot_start=booking.slot_start.isoformat())
            if outcome is BookOutcome.DUPLICATE:
                raise Conflict("this plate already holds a booking in this slot", code="already_booked")
        raise Conflict("the slot is busy; retry", code="contention")

    def _visible(self, principal: Principal, booking: Booking) -> None:
        if principal.is_citizen:
            if booking.plate in self._plates_of(principal):
                return
        elif principal.role is Role.AUDITOR or manages_lot(principal, self._lot(booking.lot_id)):
            return
        raise NotFound(f"booking {booking.booking_id} does not exist", code="unknown_booking")

    def get(self, principal: Principal, booking_id: str) -> Booking:
        booking = self._store.get(booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist", code="unknown_booking")
        self._visible(principal, booking)
        return booking

    def cancel(self, principal: Principal, booking_id: str) -> Booking:
        if principal.role is Role.AUDITOR:
            raise Forbidden("auditors read only", code="read_only")
        for _ in range(ATTEMPTS):
            booking = self.get(principal, booking_id)
            if booking.status is model.BookingStatus.CANCELLED:
                return booking  # a retried request
            cancelled = model.cancelled(booking, self._clock.now())
            if self._store.cancel(cancelled):
                return cancelled
        raise Conflict(f"booking {booking_id} keeps changing; retry", code="contention")

    def mine(self, principal: Principal) -> list[Booking]:
        if not principal.is_citizen:
            raise Forbidden("only a citizen's own account may do this", code="citizen_only")
        return sorted((b for p in self._plates_of(principal) for b in self._store.of_plate(p)),
                      key=lambda b: b.appointment_at)

    def of_lot(self, principal: Principal, lot_id: str, day: str) -> list[Booking]:
        lot = self._lot(lot_id)
        if not (principal.role is Role.AUDITOR or manages_lot(principal, lot)):
            raise Forbidden(f"{principal.subject} may not read bookings of lot {lot_id}", code="lot_forbidden")
        try:
            start = datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI)
        except ValueError:
            raise InvalidInput("date is YYYY-MM-DD", code="bad_query") from None
        return self._store.of_lot(lot_id, start, start + timedelta(days=1))

    # At the gate (the sessions' Arrivals hook) and in availability
    def expected(self, lot: Lot, plate: str, at: datetime) -> BookingAck | None:
        """Read-only: the booking an entry of ``plate`` at ``at`` uses, for the entry acknowledgement. Bookings
        are made only under the lot's policy (``book``), so a lot without one holds none: the policy is one
        item in the entry's batched read, the bookings query is made only where bookings exist."""
        if self._store.policy(lot.lot_id) is None:
            return None
        found = [b for b in self._store.holding(lot.lot_id, at) if b.plate == plate]
        if not found:
            return None
        b = min(found, key=lambda b: b.appointment_at)
        return BookingAck(booking_id=b.booking_id, appointment_at=b.appointment_at, stay_until=b.stay_until(at))

    def arrived(self, booking_id: str, session_id: str, at: datetime) -> None:
        """After the entry is written, and again for a resent entry: idempotent."""
        for _ in range(ATTEMPTS):
            booking = self._store.get(booking_id)
            if booking is None:
                return
            used = model.arrived(booking, session_id, at)
            if used is None or self._store.replace(used):
                return
        raise Conflict(f"booking {booking_id} keeps changing", code="contention")

    def adjust(self, quote, lot: Lot, entered_at: datetime, until: datetime, plate: str,
               price: Callable[[datetime, datetime], int]):  # fmt: skip
        """The pricer hook: a stay that used a booking is billed at the booking's terms."""
        policy = self._store.policy(lot.lot_id)
        if policy is None or policy.booked_stay_fee_fen is None:
            return quote
        used = [b for b in self._store.of_plate(plate)
                if b.lot_id == lot.lot_id and b.status is model.BookingStatus.ARRIVED and b.arrived_at == entered_at]
        line = model.booked_stay_line(policy, used[0], quote.amount_fen, entered_at, until, price) if used else None
        return with_lines(quote, [line]) if line else quote

    def reserved(self, lot_id: str) -> int:
        """Spaces held now by bookings whose window is open: not offered as free."""
        return len(self._store.holding(lot_id, self._clock.now()))

    # Scheduled
    def release_no_shows(self) -> SweepReport:
        now, released = self._clock.now(), 0
        for booking in self._store.expired(now):
            for _ in range(ATTEMPTS):
                missed = model.no_show(booking, now)
                if missed is None:
                    break
                if self._store.replace(missed):
                    released += 1
                    break
                booking = self._store.get(booking.booking_id) or booking
        return SweepReport(no_shows=released)
