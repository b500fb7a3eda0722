"""In-memory hospital bookings: one lock makes each call atomic, as the DynamoDB conditions do."""

from __future__ import annotations

import threading
from datetime import datetime

from shared.hospital.model import Booking, BookingPolicy, BookingStatus
from shared.hospital.ports import BookOutcome


class MemoryBookingStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policies: dict[str, BookingPolicy] = {}
        self._bookings: dict[str, Booking] = {}
        self._slots: dict[tuple[str, datetime], int] = {}
        self._guards: dict[tuple[str, datetime, str], str] = {}

    def policy(self, lot_id: str) -> BookingPolicy | None:
        return self._policies.get(lot_id)

    def save_policy(self, policy: BookingPolicy) -> bool:
        with self._lock:
            current = self._policies.get(policy.lot_id)
            if (current.version if current else 0) != policy.version - 1:
                return False
            self._policies[policy.lot_id] = policy
            return True

    def book(self, booking: Booking, quota: int) -> BookOutcome:
        slot, guard = (booking.lot_id, booking.slot_start), (booking.lot_id, booking.slot_start, booking.plate)
        with self._lock:
            if guard in self._guards:
                return BookOutcome.DUPLICATE
            if self._slots.get(slot, 0) >= quota:
                return BookOutcome.FULL
            self._slots[slot] = self._slots.get(slot, 0) + 1
            self._guards[guard] = booking.booking_id
            self._bookings[booking.booking_id] = booking
            return BookOutcome.BOOKED

    def get(self, booking_id: str) -> Booking | None:
        return self._bookings.get(booking_id)

    def _replace(self, booking: Booking) -> bool:
        current = self._bookings.get(booking.booking_id)
        if current is None or current.version != booking.version - 1:
            return False
        self._bookings[booking.booking_id] = booking
        return True

    def replace(self, booking: Booking) -> bool:
        with self._lock:
            return self._replace(booking)

    def cancel(self, booking: Booking) -> bool:
        with self._lock:
            if not self._replace(booking):
                return False
            slot = (booking.lot_id, booking.slot_start)
            self._slots[slot] = self._slots.get(slot, 0) - 1
            self._guards.pop((booking.lot_id, booking.slot_start, booking.plate), None)
            return True

    def booked(self, lot_id: str, slot_start: datetime) -> int:
        return self._slots.get((lot_id, slot_start), 0)

    def of_plate(self, plate: str) -> list[Booking]:
        return sorted((b for b in self._bookings.values() if b.plate == plate), key=lambda b: b.appointment_at)

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[Booking]:
        found = (b for b in self._bookings.values() if b.lot_id == lot_id and start <= b.appointment_at < end)
        return sorted(found, key=lambda b: (b.appointment_at, b.booking_id))

    def holding(self, lot_id: str, at: datetime) -> list[Booking]:
        return [b for b in self._bookings.values() if b.lot_id == lot_id and b.admits(at)]

    def expired(self, before: datetime) -> list[Booking]:
        return [b for b in self._bookings.values() if b.status is BookingStatus.BOOKED and b.entry_until <= before]
