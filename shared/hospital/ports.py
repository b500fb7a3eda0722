"""What the hospital booking service needs from storage. Adapters: ``shared.adapters.memory.hospital``
and ``shared.adapters.dynamo.hospital``."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

from shared.hospital.model import Booking, BookingPolicy


class BookOutcome(str, Enum):
    BOOKED = "booked"  # the booking, its slot's count and the plate's slot guard were written together
    FULL = "full"  # the slot's count had reached the quota: nothing written
    DUPLICATE = "duplicate"  # the plate already holds a booking in this slot: nothing written


class BookingStore(Protocol):
    """Contract:

    - ``book`` is atomic and never oversells: it counts the booking in its slot only if the slot's count
      is below ``quota``, and writes nothing otherwise. Concurrent calls for the last spaces of a slot
      succeed exactly as many times as spaces were left.
    - ``replace`` and ``save_policy`` store version ``n`` only over version ``n - 1`` (version 1: only if
      none exists); False if the stored record moved on, nothing written.
    - ``cancel`` replaces the booking (as ``replace``) and gives its space back to the slot (and frees the
      plate's slot guard) in the same atomic write.
    - ``holding(lot_id, at)``: the lot's BOOKED bookings whose entry window contains ``at``.
    - ``expired(before)``: BOOKED bookings, of any lot, whose window closed at or before ``before``.
    """

    def policy(self, lot_id: str) -> BookingPolicy | None: ...

    def save_policy(self, policy: BookingPolicy) -> bool: ...

    def book(self, booking: Booking, quota: int) -> BookOutcome: ...

    def get(self, booking_id: str) -> Booking | None: ...

    def replace(self, booking: Booking) -> bool: ...

    def cancel(self, booking: Booking) -> bool: ...

    def booked(self, lot_id: str, slot_start: datetime) -> int: ...

    def of_plate(self, plate: str) -> list[Booking]: ...

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[Booking]:
        """Bookings with an appointment in [start, end), by appointment time."""
        ...

    def holding(self, lot_id: str, at: datetime) -> list[Booking]: ...

    def expired(self, before: datetime) -> list[Booking]: ...
