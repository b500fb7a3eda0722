"""Hospital bookings in the ``hospital-bookings`` table.

=====================================  =====================================================================
item                                   attributes
=====================================  =====================================================================
``POLICY#<lot>``                       doc (the lot's booking policy), version
``SLOT#<lot>#<slot start>``            booked: the slot's bookings holding a space (ADDed to by a booking,
                                       taken from by a cancellation; a booking's condition keeps it <= quota)
``GUARD#<lot>#<slot start>#<plate>``   booking_id: the plate's one booking in the slot
``BOOKING#<id>``                       doc, version, plate, lot_id, appointment_at; while BOOKED also
                                       held_lot_id and held (sparse indexes of held bookings by window end)
=====================================  =====================================================================
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import resources
from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import failed_conditions, save_if, versioned
from shared.adapters.dynamo.models import index_of, keyed, transaction_connection
from shared.hospital.model import Booking, BookingPolicy
from shared.hospital.ports import BookOutcome

HELD = "HELD"


_ByPlate = index_of(resources.HOSPITAL_BOOKINGS, "by_plate")


_ByLot = index_of(resources.HOSPITAL_BOOKINGS, "by_lot")


_HeldByLot = index_of(resources.HOSPITAL_BOOKINGS, "held_by_lot")


_HeldByEnd = index_of(resources.HOSPITAL_BOOKINGS, "held_by_end")


class HospitalItem(keyed(resources.HOSPITAL_BOOKINGS)):
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    booked = NumberAttribute(null=True)
    booking_id = UnicodeAttribute(null=True)
    plate = UnicodeAttribute(null=True)
    lot_id = UnicodeAttribute(null=True)
    appointment_at = UnicodeAttribute(null=True)
    held_lot_id = UnicodeAttribute(null=True)
    held = UnicodeAttribute(null=True)
    entry_until = UnicodeAttribute(null=True)
    by_plate = _ByPlate()
    by_lot = _ByLot()
    held_by_lot = _HeldByLot()
    held_by_end = _HeldByEnd()


def _utc(at: datetime) -> str:
    """Index keys in UTC so that string order is time order whatever offset a caller used."""
    return at.astimezone(UTC).isoformat()


def slot_key(lot_id: str, start: datetime) -> str:
    return f"SLOT#{lot_id}#{_utc(start)}"


def guard_key(booking: Booking) -> str:
    return f"GUARD#{booking.lot_id}#{_utc(booking.slot_start)}#{booking.plate}"


def _item(booking: Booking) -> HospitalItem:
    item = HospitalItem(
        pk=f"BOOKING#{booking.booking_id}", version=booking.version, doc=booking.model_dump(mode="json"),
        plate=booking.plate, lot_id=booking.lot_id, appointment_at=_utc(booking.appointment_at),
        entry_until=_utc(booking.entry_until),
    )  # fmt: skip
    if booking.held:
        item.held_lot_id, item.held = booking.lot_id, HELD
    return item


def _booking(item: HospitalItem) -> Booking:
    return Booking.model_validate(item.doc)


class DynamoBookingStore:
    def policy(self, lot_id: str) -> BookingPolicy | None:
        ahead = read_ahead.take(HospitalItem, f"POLICY#{lot_id}")  # issue 10: in the gate's batched read
        if ahead is not read_ahead.MISS:
            return BookingPolicy.model_validate(ahead.doc) if ahead is not None else None
        try:
            return BookingPolicy.model_validate(HospitalItem.get(f"POLICY#{lot_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save_policy(self, policy: BookingPolicy) -> bool:
        item = HospitalItem(pk=f"POLICY#{policy.lot_id}", version=policy.version, doc=policy.model_dump(mode="json"))
        return save_if(item, versioned(HospitalItem, policy.version))

    def book(self, booking: Booking, quota: int) -> BookOutcome:
        slot = HospitalItem(pk=slot_key(booking.lot_id, booking.slot_start))
        guard = HospitalItem(pk=guard_key(booking), booking_id=booking.booking_id)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.update(
                    slot, actions=[HospitalItem.booked.add(1)],
                    condition=HospitalItem.booked.does_not_exist() | (HospitalItem.booked < quota),
                )  # fmt: skip
                tx.save(guard, condition=HospitalItem.pk.does_not_exist())
                tx.save(_item(booking), condition=HospitalItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if not failed_conditions(exc):
                raise  # a conflict with a concurrent transaction: the service retries
            if self._exists(guard_key(booking)):
                return BookOutcome.DUPLICATE
            return BookOutcome.FULL
        return BookOutcome.BOOKED

    def _exists(self, pk: str) -> bool:
        try:
            HospitalItem.get(pk, consistent_read=True)
            return True
        except DoesNotExist:
            return False

    def get(self, booking_id: str) -> Booking | None:
        try:
            return _booking(HospitalItem.get(f"BOOKING#{booking_id}", consistent_read=True))
        except DoesNotExist:
            return None

    def replace(self, booking: Booking) -> bool:
        return save_if(_item(booking), HospitalItem.version == booking.version - 1)

    def cancel(self, booking: Booking) -> bool:
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(_item(booking), condition=HospitalItem.version == booking.version - 1)
                tx.update(
                    HospitalItem(pk=slot_key(booking.lot_id, booking.slot_start)),
                    actions=[HospitalItem.booked.add(-1)], condition=HospitalItem.booked > 0,
                )  # fmt: skip
                tx.delete(HospitalItem(pk=guard_key(booking)))
        except TransactWriteError as exc:
            if failed_conditions(exc):
                return False
            raise
        return True

    def booked(self, lot_id: str, slot_start: datetime) -> int:
        try:
            return int(HospitalItem.get(slot_key(lot_id, slot_start), consistent_read=True).booked or 0)
        except DoesNotExist:
            return 0

    def of_plate(self, plate: str) -> list[Booking]:
        return [_booking(i) for i in HospitalItem.by_plate.query(plate)]

    def of_lot(self, lot_id: str, start: datetime, end: datetime) -> list[Booking]:
        found = HospitalItem.by_lot.query(lot_id, HospitalItem.appointment_at.between(_utc(start), _utc(end)))
        return [b for b in map(_booking, found) if b.appointment_at < end]

    def holding(self, lot_id: str, at: datetime) -> list[Booking]:
        found = HospitalItem.held_by_lot.query(lot_id, HospitalItem.entry_until > _utc(at))
        return [b for b in map(_booking, found) if b.admits(at)]

    def expired(self, before: datetime) -> list[Booking]:
        found = HospitalItem.held_by_end.query(HELD, HospitalItem.entry_until <= _utc(before))
        return [b for b in map(_booking, found) if b.held]
