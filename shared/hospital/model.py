"""Hospital appointment parking: the lot's booking policy and one booking. Pure: no I/O.

A hospital lot sets aside ``quota_per_slot`` spaces per slot of ``slot_minutes`` (Asia/Shanghai, from
midnight). A booking names a plate and the appointment time; it holds a space while its entry window is
open (``entry_before_min`` before the appointment to ``entry_after_min`` after it). The car that enters in
the window is admitted with the booking (reason ``booking`` in the entry acknowledgement) and stays
``default_stay_min`` at the booking's terms (``booked_stay_fee_fen``: a flat fee for the booked stay,
the tariff from its end on). A booking unused when its window closes is released as a
no-show; a plate with ``no_show_limit`` no-shows within ``no_show_lookback_days`` may not book for
``restriction_days`` after the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from shared.clock import SHANGHAI
from shared.errors import InvalidInput
from shared.registry.model import Identifier


class BookingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot_id: Identifier
    slot_minutes: int = Field(60, ge=15, le=240, description="Slot length; divides a day (15, 30, 60, 120...).")
    quota_per_slot: StrictInt = Field(ge=1, le=10_000, description="Spaces set aside for bookings in each slot.")
    entry_before_min: int = Field(60, ge=0, le=240, description="Entry allowed from this long before the appointment.")
    entry_after_min: int = Field(30, ge=0, le=240, description="...until this long after it (a late patient).")
    default_stay_min: int = Field(180, ge=30, le=1440, description="How long a booked stay lasts by default.")
    booked_stay_fee_fen: StrictInt | None = Field(
        None, ge=0, le=1_000_000,
        description="The booking's terms: a flat fee for the booked stay (0: free); beyond it the tariff, from "
        "the stay's end. None: the lot's tariff throughout.",
    )
    booking_horizon_days: int = Field(7, ge=1, le=60, description="How far ahead an appointment may be booked.")
    no_show_limit: int = Field(3, ge=1, le=50, description="No-shows within the lookback that restrict a plate.")
    no_show_lookback_days: int = Field(90, ge=1, le=365)
    restriction_days: int = Field(30, ge=1, le=365, description="How long a restricted plate may not book.")
    updated_by: str | None = None
    updated_at: AwareDatetime | None = None
    version: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _slots_divide_the_day(self) -> BookingPolicy:
        if 1440 % self.slot_minutes:
            raise ValueError("slot_minutes must divide a day (1440 minutes)")
        return self

    def bumped(self, **changes) -> BookingPolicy:
        return self.model_copy(update={**changes, "version": self.version + 1})


class BookingStatus(str, Enum):
    BOOKED = "booked"  # holds a space in its slot
    ARRIVED = "arrived"  # the car entered within the window
    NO_SHOW = "no_show"  # the window closed unused: released
    CANCELLED = "cancelled"  # cancelled before the window closed: the slot's space is free again


class Booking(BaseModel):
    booking_id: str
    lot_id: str
    district_code: str
    operator_id: str
    plate: str
    appointment_at: AwareDatetime
    slot_start: AwareDatetime
    entry_from: AwareDatetime
    entry_until: AwareDatetime = Field(description="Exclusive.")
    stay_minutes: int
    status: BookingStatus = BookingStatus.BOOKED
    booked_by: str = Field(description="The subject that booked: the citizen, or the hospital desk.")
    booked_at: AwareDatetime
    session_id: str | None = None
    arrived_at: AwareDatetime | None = None
    released_at: AwareDatetime | None = None
    version: int = 1

    def bumped(self, **changes) -> Booking:
        return self.model_copy(update={**changes, "version": self.version + 1})

    @property
    def held(self) -> bool:
        return self.status is BookingStatus.BOOKED

    def admits(self, at: datetime) -> bool:
        """Whether an entry at ``at`` uses this booking."""
        return self.held and self.entry_from <= at < self.entry_until

    def stay_until(self, entered_at: datetime) -> datetime:
        return entered_at + timedelta(minutes=self.stay_minutes)


def slot_start(policy: BookingPolicy, appointment_at: datetime) -> datetime:
    """The start of the slot an appointment falls in, in Shanghai time."""
    local = appointment_at.astimezone(SHANGHAI)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = (local - midnight) // timedelta(minutes=1)
    return midnight + timedelta(minutes=minutes - minutes % policy.slot_minutes)


def new_booking(
    policy: BookingPolicy, *, booking_id: str, lot_id: str, district_code: str, operator_id: str, plate: str,
    appointment_at: datetime, booked_by: str, now: datetime,
) -> Booking:  # fmt: skip
    """A booking of ``plate`` for ``appointment_at``; InvalidInput if the time is past or too far ahead."""
    if appointment_at.tzinfo is None:
        raise InvalidInput("appointment_at needs an offset", code="bad_timestamp")
    entry_until = appointment_at + timedelta(minutes=policy.entry_after_min)
    if entry_until <= now:
        raise InvalidInput("the appointment's entry window has closed", code="appointment_in_past")
    if appointment_at > now + timedelta(days=policy.booking_horizon_days):
        raise InvalidInput(
            f"appointments may be booked at most {policy.booking_horizon_days} days ahead", code="appointment_too_far"
        )
    at = appointment_at.astimezone(SHANGHAI)
    return Booking(
        booking_id=booking_id, lot_id=lot_id, district_code=district_code, operator_id=operator_id, plate=plate,
        appointment_at=at, slot_start=slot_start(policy, at),
        entry_from=at - timedelta(minutes=policy.entry_before_min), entry_until=entry_until.astimezone(SHANGHAI),
        stay_minutes=policy.default_stay_min, booked_by=booked_by, booked_at=now.astimezone(SHANGHAI),
    )  # fmt: skip


def restricted_until(policy: BookingPolicy, bookings: list[Booking], now: datetime) -> datetime | None:
    """Until when a plate with these bookings may not book (None: it may)."""
    since = now - timedelta(days=policy.no_show_lookback_days)
    missed = sorted(b.entry_until for b in bookings if b.status is BookingStatus.NO_SHOW and b.entry_until >= since)
    if len(missed) < policy.no_show_limit:
        return None
    until = missed[-1] + timedelta(days=policy.restriction_days)
    return until if until > now else None


def no_show(booking: Booking, now: datetime) -> Booking | None:
    """The released booking if its window closed unused; None if it is not (yet) a no-show."""
    if not booking.held or now < booking.entry_until:
        return None
    return booking.bumped(status=BookingStatus.NO_SHOW, released_at=now)


def cancelled(booking: Booking, now: datetime) -> Booking:
    if not booking.held:
        raise InvalidInput(f"booking {booking.booking_id} is {booking.status.value}", code="booking_not_held")
    if now >= booking.entry_until:
        raise InvalidInput("the booking's window has closed", code="booking_window_closed")
    return booking.bumped(status=BookingStatus.CANCELLED, released_at=now)


def arrived(booking: Booking, session_id: str, at: datetime) -> Booking | None:
    """The booking used by the entry of ``session_id``; None if already so (a resent entry)."""
    if booking.status is BookingStatus.ARRIVED:
        return None
    return booking.bumped(status=BookingStatus.ARRIVED, session_id=session_id, arrived_at=at)


class SlotView(BaseModel):
    """Public: how many booked spaces a slot has left. No personal data."""

    slot_start: datetime
    quota: int
    booked: int
    free: int


def booked_stay_line(
    policy: BookingPolicy, booking: Booking, tariff_fen: int, entered_at: datetime, until: datetime,
    price: Callable[[datetime, datetime], int],
) -> dict | None:  # fmt: skip
    """The bill line of a booked stay: the tariff replaced by the booking's fee for the booked time and the
    tariff for what is past it (priced as a stay from the booked time's end). None: the tariff applies."""
    if policy.booked_stay_fee_fen is None or booking.arrived_at is None:
        return None
    stay_end = booking.stay_until(booking.arrived_at)
    beyond = price(stay_end, until) if until > stay_end else 0
    return {"kind": "hospital_booking", "booking_id": booking.booking_id, "stay_until": stay_end.isoformat(),
            "booked_fee_fen": policy.booked_stay_fee_fen, "beyond_fen": beyond,
            "amount_fen": policy.booked_stay_fee_fen + beyond - tariff_fen}
