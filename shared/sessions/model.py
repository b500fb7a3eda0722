"""A parking session: one vehicle's stay in a lot (gate lanes) or on a berth (on-street)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from shared.plates import PlateColour
from shared.protocol.events import VehicleClass


class SessionStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"
    AWAITING_ENTRY = "awaiting_entry"  # exit seen, entry not (yet): the reconciliation window is running
    NEEDS_REVIEW = "needs_review"  # the window passed without an entry: staff decide, never silently free
    ORPHANED = "orphaned"  # superseded by a later entry of the same plate: its exit was missed


class Flag(str, Enum):
    EXIT_WITHOUT_ENTRY = "exit_without_entry"
    LATE_ENTRY_RECONCILED = "late_entry_reconciled"
    ORPHANED_BY_NEW_ENTRY = "orphaned_by_new_entry"
    STALE_ENTRY = "stale_entry"  # an entry older than the session already open for the plate
    FUZZY_MATCH = "fuzzy_match"
    PLATE_PARTIAL = "plate_partial"
    LOW_CONFIDENCE = "low_confidence"
    ALREADY_OPEN = "already_open"
    CORRECTED_BY_LOT = "corrected_by_lot"  # a correction message changed a time (issue 11, S16)
    VOIDED_BY_LOT = "voided_by_lot"  # a void message withdrew the session: it never happened


LOW_CONFIDENCE_BELOW = 0.8


class ParkingSession(BaseModel):
    session_id: str
    lot_id: str
    district_code: str
    berth: str | None = None
    plate: str = Field(description="The plate as read at entry (or at exit when the entry is unknown).")
    plate_colour: PlateColour
    vehicle_class: VehicleClass
    status: SessionStatus
    entered_at: datetime | None = None
    exited_at: datetime | None = None
    entry_event_id: str | None = None
    exit_event_id: str | None = None
    exit_plate: str | None = Field(None, description="The plate as read at exit, when it differs.")
    match: str | None = None
    flags: list[Flag] = Field(default_factory=list)
    entry_evidence_ref: str | None = None
    exit_evidence_ref: str | None = None
    corrections: list[dict] = Field(default_factory=list, description="Correction and void messages applied, in order.")
    version: int = 1

    @classmethod
    def trusted(cls, **fields) -> ParkingSession:
        """A session from values that are valid already, without validating them again: the planner takes
        them from validated events and sessions (enums as enums, aware datetimes), builds one or two per
        event, and replay builds them by the million. Equal to ``ParkingSession(**fields)`` for such
        values (``tests/sessions/test_session_model.py``)."""
        return cls.trusted_from(fields)

    @classmethod
    def trusted_from(cls, fields: dict) -> ParkingSession:
        """``trusted(**fields)`` from a dict the caller hands over (the planner builds one per new session):
        one keyword packing fewer. ``fields`` must not be used afterwards."""
        values = _TEMPLATE.copy()
        values.update(fields)
        for name in _FACTORIES:
            if name not in fields:
                values[name] = []
        return _assemble(values, set(fields))

    def evolved(self, **changes) -> ParkingSession:
        """``model_copy(update=changes)`` without pydantic's generic copy: the same values and fields set."""
        values = self.__dict__.copy()
        values.update(changes)
        return _assemble(values, self.__pydantic_fields_set__ | changes.keys())

    @property
    def subject(self) -> str:
        """What makes an open session unique in its lot: the berth on-street, else the plate."""
        return f"B#{self.berth}" if self.berth else f"P#{self.plate}"

    @property
    def is_open(self) -> bool:
        return self.status is SessionStatus.OPEN

    @property
    def is_unmatched(self) -> bool:
        return self.status in (SessionStatus.AWAITING_ENTRY, SessionStatus.NEEDS_REVIEW)

    @property
    def duration_s(self) -> int | None:
        if self.entered_at and self.exited_at:
            return int((self.exited_at - self.entered_at).total_seconds())
        return None


# Every field in declaration order (required ones as None until given), and those whose default is a new list.
_TEMPLATE = {
    name: None if f.is_required() or f.default_factory else f.default for name, f in ParkingSession.model_fields.items()
}
_FACTORIES = tuple(name for name, f in ParkingSession.model_fields.items() if f.default_factory is not None)
assert all(ParkingSession.model_fields[n].default_factory is list for n in _FACTORIES)


def model_setters(model: type[BaseModel]):
    """The setters of a pydantic model's four slots (``__dict__``, fields set, extra, private): what
    ``model_construct`` sets, through the slots' own descriptors (``object.__setattr__`` looks each name
    up first, a third of a construction's time)."""
    base = next(c for c in model.__mro__ if "__pydantic_fields_set__" in vars(c))
    return tuple(vars(base)[name].__set__ for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__",
                                                       "__pydantic_private__"))  # fmt: skip


_new = object.__new__
_SET_DICT, _SET_FIELDS, _SET_EXTRA, _SET_PRIVATE = model_setters(ParkingSession)


def _assemble(values: dict, fields_set: set) -> ParkingSession:
    session = _new(ParkingSession)
    _SET_DICT(session, values)
    _SET_FIELDS(session, fields_set)
    _SET_EXTRA(session, None)
    _SET_PRIVATE(session, None)
    return session


def session_id_for(lot_id: str, event_id: str) -> str:
    """Deterministic from the event that creates the session, so a retried event creates nothing new."""
    h = _SHA256.copy()
    h.update(f"{lot_id}\x00{event_id}".encode())
    return f"ses_{h.hexdigest()[:24]}"


_SHA256 = hashlib.sha256()  # copied for each id: a new OpenSSL hasher costs more to set up than the id to hash
