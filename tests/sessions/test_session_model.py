"""``ParkingSession.trusted`` and ``evolved`` (the planner's construction without re-validation) give exactly
what the validated model and ``model_copy`` give."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.sessions.model import Flag, ParkingSession, SessionStatus

FIELDS = {
    "session_id": "ses_1", "lot_id": "lot-1", "district_code": "320213", "berth": None, "plate": "苏B12345",
    "plate_colour": PlateColour.GREEN, "vehicle_class": VehicleClass.SMALL, "status": SessionStatus.OPEN,
    "entered_at": datetime(2026, 11, 1, 8, tzinfo=UTC), "entry_event_id": "e1", "flags": [Flag.LOW_CONFIDENCE],
}  # fmt: skip


def _same(a: ParkingSession, b: ParkingSession) -> None:
    assert a == b
    assert a.model_dump() == b.model_dump() and a.model_dump_json() == b.model_dump_json()
    assert list(a.__dict__) == list(b.__dict__)  # field order too (repr, iteration)
    assert a.model_fields_set == b.model_fields_set


def test_trusted_is_the_validated_model():
    _same(ParkingSession.trusted(**FIELDS), ParkingSession(**FIELDS))
    minimal = {k: v for k, v in FIELDS.items() if k not in ("berth", "entered_at", "entry_event_id", "flags")}
    _same(ParkingSession.trusted(**minimal), ParkingSession(**minimal))


def test_defaults_that_are_lists_are_never_shared():
    minimal = {k: v for k, v in FIELDS.items() if k != "flags"}
    a, b = ParkingSession.trusted(**minimal), ParkingSession.trusted(**minimal)
    a.flags.append(Flag.FUZZY_MATCH)
    a.corrections.append({"x": 1})
    assert b.flags == [] and b.corrections == []


def test_evolved_is_model_copy():
    s = ParkingSession(**FIELDS)
    changes = {"status": SessionStatus.CLOSED, "exited_at": datetime(2026, 11, 1, 9, tzinfo=UTC), "version": 2}
    _same(s.evolved(**changes), s.model_copy(update=changes))
    assert s.status is SessionStatus.OPEN and s.version == 1  # the original is untouched
