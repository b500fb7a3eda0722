"""Protocol v1 messages: device events in, acknowledgements out.

Every field is validated here, so a bad event is rejected with a reason before it touches state.
The JSON Schemas in ``events/schemas`` are generated from these models (``make schemas``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import plates
from shared.plates import PlateColour

MAX_BATCH = 100
MAX_BODY_BYTES = 256 * 1024

EventId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
LotId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class VehicleClass(str, Enum):
    SMALL = "small"
    LARGE = "large"
    MOTORCYCLE = "motorcycle"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: EventId = Field(description="Idempotency key, unique per lot: a resend carries the same id.")
    lot_id: LotId
    occurred_at: AwareDatetime = Field(description="RFC 3339 with an explicit offset, e.g. 2026-11-23T08:00:00+08:00.")


class _VehicleEvent(_Event):
    plate: str = Field(description="As read, e.g. 苏B12345; a missing province character is accepted and flagged.")
    plate_colour: PlateColour
    vehicle_class: VehicleClass = VehicleClass.SMALL
    confidence: float = Field(1.0, ge=0.0, le=1.0, strict=True, description="Recognition confidence 0..1.")
    evidence_ref: str | None = Field(None, max_length=512, description="Reference to the evidence image.")

    @field_validator("plate")
    @classmethod
    def _plate(cls, value: str) -> str:
        try:
            return plates.parse(value).text
        except plates.MalformedPlate as exc:
            raise ValueError(str(exc)) from None


class EntryEvent(_VehicleEvent):
    type: Literal["entry"]
    lane: str = Field(min_length=1, max_length=32)


class ExitEvent(_VehicleEvent):
    type: Literal["exit"]
    lane: str = Field(min_length=1, max_length=32)
    etc_obu: bool = Field(False, strict=True, description="The car carries an ETC on-board unit.")
    opened_manually: bool = Field(False, strict=True, description="Staff raised the barrier by hand (supervision counts these, S16).")


class BerthStartEvent(_VehicleEvent):
    type: Literal["berth_start"]
    berth: str = Field(min_length=1, max_length=32)


class BerthEndEvent(_VehicleEvent):
    type: Literal["berth_end"]
    berth: str = Field(min_length=1, max_length=32)


class LegacyPaymentEvent(_VehicleEvent):
    """A payment the lot took through its own (legacy) pay code (S9), reported so that the platform never
    charges the session again. ``occurred_at`` is when it was paid."""

    type: Literal["legacy_payment"]
    amount_fen: int = Field(gt=0, le=10_000_000, strict=True, description="What the driver paid, integer fen.")
    legacy_ref: str = Field(min_length=1, max_length=64, description="The lot system's own transaction id.")


class ChargingSessionEvent(_Event):
    """A charging session at a lot's charger, reported by the charging operator's system when it ends (S12).
    ``occurred_at`` is when the report was made; parking is free or discounted while charging (the lot's
    policy) and a car idling in the bay past the policy's grace is reported (and charged if it sets a fee)."""

    type: Literal["charging_session"]
    plate: str = Field(description="As read by the charger's camera or entered with the charge.")
    plate_colour: PlateColour
    charger_id: str = Field(min_length=1, max_length=64)
    started_at: AwareDatetime
    ended_at: AwareDatetime = Field(description="When charging stopped.")
    energy_wh: int = Field(ge=0, le=1_000_000, description="Energy delivered, Wh.")
    bay_left_at: AwareDatetime | None = Field(None, description="When the car left the charger bay, if the bay sensor knows.")

    @field_validator("plate")
    @classmethod
    def _plate(cls, value: str) -> str:
        try:
            plate = plates.parse(value)
        except plates.MalformedPlate as exc:
            raise ValueError(str(exc)) from None
        if plate.partial:
            raise ValueError("a charging session names the whole plate")
        return plate.text

    @model_validator(mode="after")
    def _in_order(self) -> ChargingSessionEvent:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.bay_left_at is not None and self.bay_left_at < self.ended_at:
            raise ValueError("bay_left_at is before ended_at")
        if self.ended_at - self.started_at > timedelta(days=2):
            raise ValueError("a charging session lasts at most 2 days")
        return self


class CorrectionEvent(_Event):
    """A lot corrects the time of an entry or exit it sent earlier (S16): records are never silently
    rewritten or resent with other content. ``occurred_at`` is when the correction was made; the session and
    its bill follow the corrected time (a re-priced bill, posted as a charge or an adjustment)."""

    type: Literal["correction"]
    corrects: EventId = Field(description="The event_id of the entry, exit, berth_start or berth_end it corrects.")
    corrected_time: AwareDatetime = Field(description="When the vehicle really entered or left, with an offset.")
    reason: str = Field(min_length=1, max_length=256, description="Why, e.g. the lane camera's clock was 40 minutes slow.")


class VoidEvent(_Event):
    """A lot withdraws an entry (or berth start) whose session never happened: a misread plate, a test car,
    a second camera on the same lane (S16). The session is closed as voided; its bill is reduced to zero
    (an adjustment posting) and whatever was paid on it is refunded. ``occurred_at``: when it was voided."""

    type: Literal["void"]
    voids: EventId = Field(description="The event_id of the entry or berth_start whose session is void.")
    reason: str = Field(min_length=1, max_length=256)


class OccupancyEvent(_Event):
    """Absolute counts only: +1/-1 deltas drift after a network cut."""

    type: Literal["occupancy"]
    total: int = Field(ge=0, le=100_000, strict=True)  # "10" or true is a malformed count, not 10 or 1
    free: int = Field(ge=0, le=100_000, strict=True)

    @field_validator("free")
    @classmethod
    def _free_within_total(cls, value: int, info) -> int:
        total = info.data.get("total")
        if total is not None and value > total:
            raise ValueError("free exceeds total")
        return value


class HeartbeatEvent(_Event):
    type: Literal["heartbeat"]
    status: Literal["ok", "degraded"] = "ok"
    detail: str | None = Field(None, max_length=256)


DeviceEvent = Annotated[
    EntryEvent | ExitEvent | BerthStartEvent | BerthEndEvent | OccupancyEvent | HeartbeatEvent | LegacyPaymentEvent
    | ChargingSessionEvent | CorrectionEvent | VoidEvent,
    Field(discriminator="type"),
]
VehicleEvent = Union[EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent]


class EventBatch(BaseModel):
    """The body of ``POST /v1/events``: either one event object or ``{"events": [...]}``."""

    model_config = ConfigDict(extra="forbid")
    events: list[dict] = Field(min_length=1, max_length=MAX_BATCH)


class AckStatus(str, Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class GateDecision(BaseModel):
    decision: Literal["open", "pay"]
    amount_fen: int = Field(0, ge=0, description="What is due, this stay and any arrears shown with it.")
    reason: str = Field(description="free, paid, pay, etc, pay_later, arrears, no_tariff, unmatched_exit_review; on an entry: booking")
    pay_url: str | None = None
    arrears_fen: int | None = Field(None, ge=0, description="Of amount_fen, what earlier unpaid bills of this plate owe.")


class PaymentReport(BaseModel):
    """What became of a reported legacy payment: applied, or a duplicate of one already applied."""

    bill_id: str
    outcome: Literal["applied", "duplicate"]


class BookingAck(BaseModel):
    """The hospital appointment booking an entry used (S12): the gate opens with reason ``booking``."""

    booking_id: str
    appointment_at: datetime
    stay_until: datetime = Field(description="The booked stay lasts until then at the booking's terms.")


class Ack(BaseModel):
    event_id: str | None = None
    status: AckStatus
    reason: str | None = None
    message: str | None = None
    session_id: str | None = None
    match: Literal["exact", "fuzzy"] | None = None
    flags: list[str] = Field(default_factory=list)
    gate: GateDecision | None = None
    payment: PaymentReport | None = None
    accepted_at: datetime | None = None
    booking: BookingAck | None = None


class AckResponse(BaseModel):
    acks: list[Ack]
