"""Hospital appointment parking (S12): the quota race, entry windows, the booking in the entry ack and in
availability, no-shows and their limit, cancellation, scoping and bad input."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest

from shared.adapters.memory.hospital import MemoryBookingStore
from shared.auth import Principal, Role
from shared.clock import SHANGHAI, ManualClock, iso
from shared.errors import Conflict
from shared.hospital.service import HospitalService
from shared.registry.model import Lot
from tests.scenarios.conftest import CITIZEN_PLATE
from tests.support import CITY_ADMIN, gate_event

LOT = "lx-nanchang-st-01"  # Liangxi, operator wx-city-parking, capacity 100
DESK = Principal(subject="hospital-desk", role=Role.OPERATOR, operator_id="wx-city-parking")
POLICY = {"slot_minutes": 60, "quota_per_slot": 5, "entry_before_min": 60, "entry_after_min": 30,
          "default_stay_min": 180, "no_show_limit": 3, "no_show_lookback_days": 90, "restriction_days": 30}


@pytest.fixture
def hospital(platform, city):
    platform.services.hospital.put_policy(CITY_ADMIN, LOT, dict(POLICY))
    return platform.services.hospital


def _appointment(clock, hours: float = 3) -> datetime:
    return (clock.now() + timedelta(hours=hours)).astimezone(SHANGHAI)


def _race(hospital, appointment: datetime, contenders: int) -> list[object]:
    """Book ``contenders`` different plates for one slot at once; each thread's booking or Conflict."""
    start, results = threading.Barrier(contenders), [None] * contenders

    def book(i: int) -> None:
        start.wait()
        try:
            results[i] = hospital.book(DESK, {"lot_id": LOT, "plate": f"苏B9{i:04d}", "appointment_at": iso(appointment)})
        except Conflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=book, args=(i,)) for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_bookings_at_the_last_spaces_never_oversell_on_dynamodb(hospital, clock):
    appointment = _appointment(clock)
    for i in range(3):
        hospital.book(DESK, {"lot_id": LOT, "plate": f"苏A0000{i}", "appointment_at": iso(appointment)})
    results = _race(hospital, appointment, contenders=24)
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 2  # exactly the quota (5) minus the 3 booked before
    assert {e.code for e in lost} == {"slot_full"} and len(lost) == 22
    slot = hospital.slots(LOT, appointment.date().isoformat())[appointment.hour]
    assert (slot.quota, slot.booked, slot.free) == (5, 5, 0)


def test_the_memory_store_keeps_the_same_contract():
    clock = ManualClock()
    lot = Lot.model_validate({"lot_id": LOT, "name": "h", "district_code": "320213", "operator_id": "wx-city-parking",
                              "kind": "enclosed", "capacity": 10, "location": {"lat": 31.5, "lon": 120.3}})
    hospital = HospitalService(MemoryBookingStore(), lambda _: lot, lambda _: set(), clock)
    hospital.put_policy(CITY_ADMIN, LOT, dict(POLICY))
    results = _race(hospital, _appointment(clock), contenders=16)
    assert sum(not isinstance(r, Exception) for r in results) == 5


def test_an_entry_in_the_window_uses_the_booking_and_held_spaces_are_not_free(stack, api, call, device, citizen, hospital, clock):
    appointment = _appointment(clock, hours=2)
    status, booking = call("post", "/v1/hospital/bookings", citizen,
                           {"lot_id": LOT, "plate": CITIZEN_PLATE, "appointment_at": iso(appointment)})
    assert status == 201 and booking["status"] == "booked"
    assert booking["entry_from"] == iso(appointment - timedelta(hours=1))
    free_before = call("get", f"/v1/lots/{LOT}")[1]["free"]

    # Too early: an ordinary entry, no booking in the ack, and the booking stays held.
    early = device("lx-in1").post(gate_event("entry", CITIZEN_PLATE, clock.now()))[1]["acks"][0]
    assert early.get("booking") is None and early.get("gate") is None
    clock.advance(10 * 60)
    device("lx-out1").post(gate_event("exit", CITIZEN_PLATE, clock.now()))

    clock.advance(50 * 60 + 1)  # the window is open: the held space is not offered as free
    view = call("get", f"/v1/lots/{LOT}")[1]
    assert view["reserved"] == 1 and view["free"] == free_before - 1

    ack = device("lx-in1").post(gate_event("entry", CITIZEN_PLATE, clock.now()))[1]["acks"][0]
    assert ack["gate"] == {"decision": "open", "amount_fen": 0, "reason": "booking"}
    assert ack["booking"]["booking_id"] == booking["booking_id"]
    assert ack["booking"]["stay_until"] == iso((clock.now() + timedelta(hours=3)).astimezone(SHANGHAI))
    used = call("get", f"/v1/hospital/bookings/{booking['booking_id']}", citizen)[1]
    assert used["status"] == "arrived" and used["session_id"] == ack["session_id"]
    assert call("get", f"/v1/lots/{LOT}")[1].get("reserved") is None  # used: no longer held


def test_a_resent_entry_answers_the_same_booking(platform, device, hospital, clock):
    appointment = _appointment(clock, hours=0.5)
    booking = hospital.book(DESK, {"lot_id": LOT, "plate": "苏B55555", "appointment_at": iso(appointment)})
    event = gate_event("entry", "苏B55555", clock.now())
    first = device("lx-in1").post(event)[1]["acks"][0]
    again = device("lx-in1").post(event)[1]["acks"][0]
    assert again["status"] == "duplicate" and again["booking"] == first["booking"]
    assert first["booking"]["booking_id"] == booking.booking_id
    assert platform.services.hospital.get(DESK, booking.booking_id).status.value == "arrived"


def test_unused_bookings_are_released_as_no_shows_and_repeated_no_shows_restrict_the_plate(stack, call, token, hospital, clock):
    desk = token(Role.OPERATOR, operator="wx-city-parking")
    booked = []
    for day in range(3):
        appointment = (clock.now() + timedelta(hours=2)).astimezone(SHANGHAI)
        status, b = call("post", "/v1/hospital/bookings", desk, {"lot_id": LOT, "plate": "苏B77777", "appointment_at": iso(appointment)})
        assert status == 201
        booked.append(b["booking_id"])
        clock.advance(2 * 3600 + 30 * 60)  # past the window's end, unused
        report = json.loads(stack.run_due_schedules()["scenario-sweep"])
        assert report["hospital"]["no_shows"] == 1
        released = call("get", f"/v1/hospital/bookings/{b['booking_id']}", desk)[1]
        assert released["status"] == "no_show" and released["released_at"]
        clock.advance(20 * 3600)
    status, refused = call("post", "/v1/hospital/bookings", desk,
                           {"lot_id": LOT, "plate": "苏B77777", "appointment_at": iso(_appointment(clock))})
    assert (status, refused["code"]) == (403, "no_show_restricted")
    clock.advance(31 * 86400)
    assert call("post", "/v1/hospital/bookings", desk,
                {"lot_id": LOT, "plate": "苏B77777", "appointment_at": iso(_appointment(clock))})[0] == 201


def test_cancelling_gives_the_space_back(call, token, hospital, clock):
    desk = token(Role.OPERATOR, operator="wx-city-parking")
    appointment = _appointment(clock)
    ids = [call("post", "/v1/hospital/bookings", desk, {"lot_id": LOT, "plate": f"苏B6000{i}", "appointment_at": iso(appointment)})[1]["booking_id"]
           for i in range(5)]
    status, full = call("post", "/v1/hospital/bookings", desk, {"lot_id": LOT, "plate": "苏B60009", "appointment_at": iso(appointment)})
    assert (status, full["code"]) == (409, "slot_full")
    assert call("post", f"/v1/hospital/bookings/{ids[0]}/cancel", desk)[1]["status"] == "cancelled"
    assert call("post", f"/v1/hospital/bookings/{ids[0]}/cancel", desk)[0] == 200  # a retried cancel
    slots = call("get", f"/v1/hospital/lots/{LOT}/slots?date={appointment.date().isoformat()}")[1]["slots"]
    assert slots[appointment.hour]["free"] == 1
    assert call("post", "/v1/hospital/bookings", desk, {"lot_id": LOT, "plate": "苏B60009", "appointment_at": iso(appointment)})[0] == 201


@pytest.mark.parametrize("body, status, code", [
    ({"lot_id": LOT, "plate": "not a plate", "appointment_at": "2026-11-23T12:00:00+08:00"}, 400, "malformed_plate"),
    ({"lot_id": LOT, "plate": "苏B11111", "appointment_at": "2026-11-23T12:00:00"}, 400, "bad_timestamp"),
    ({"lot_id": LOT, "plate": "苏B11111", "appointment_at": "tomorrow"}, 400, "bad_timestamp"),
    ({"lot_id": LOT, "plate": "苏B11111", "appointment_at": "2026-11-23T07:00:00+08:00"}, 400, "appointment_in_past"),
    ({"lot_id": LOT, "plate": "苏B11111", "appointment_at": "2026-12-23T12:00:00+08:00"}, 400, "appointment_too_far"),
    ({"plate": "苏B11111", "appointment_at": "2026-11-23T12:00:00+08:00"}, 400, "invalid_booking"),
    ({"lot_id": "no-such-lot", "plate": "苏B11111", "appointment_at": "2026-11-23T12:00:00+08:00"}, 404, "unknown_lot"),
    ({"lot_id": "xw-taihu-plaza", "plate": "苏B11111", "appointment_at": "2026-11-23T12:00:00+08:00"}, 404, "not_a_hospital_lot"),
])  # fmt: skip
def test_bad_bookings_are_4xx_with_a_code(call, token, hospital, body, status, code):
    got = call("post", "/v1/hospital/bookings", token(Role.CITY_ADMIN), body)
    assert (got[0], got[1]["code"]) == (status, code)


def test_bad_policies_and_bodies_are_4xx(call, token, hospital):
    city = token(Role.CITY_ADMIN)
    assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, {**POLICY, "slot_minutes": 7, "version": 1})[1]["code"] == "invalid_policy"
    assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, {**POLICY})[1]["code"] == "version_required"
    assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, {**POLICY, "version": 7})[0] == 409
    assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, "[1]")[1]["code"] == "invalid_json"
    assert call("get", f"/v1/hospital/lots/{LOT}/slots?date=23-11-2026")[1]["code"] == "bad_query"
    assert call("post", "/v1/hospital/bookings", None, {})[0] == 401
    changed = call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, {**POLICY, "quota_per_slot": 8, "version": 1})[1]
    assert changed["version"] == 2 and call("get", f"/v1/hospital/lots/{LOT}")[1]["quota_per_slot"] == 8


def test_who_may_book_see_and_cancel(call, token, citizen, hospital, clock):
    at = iso(_appointment(clock))
    other_operator, auditor = token(Role.OPERATOR, operator="xinwu-hitech"), token(Role.AUDITOR)
    xinwu_staff, liangxi_staff = token(Role.DISTRICT_ADMIN, district="320214"), token(Role.DISTRICT_ADMIN, district="320213")
    assert call("post", "/v1/hospital/bookings", citizen, {"lot_id": LOT, "plate": "苏B99999", "appointment_at": at})[1]["code"] == "plate_not_yours"
    for who in (other_operator, auditor, xinwu_staff):
        assert call("post", "/v1/hospital/bookings", who, {"lot_id": LOT, "plate": "苏B99999", "appointment_at": at})[0] == 403
        assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", who, {**POLICY, "version": 1})[0] == 403
    status, mine = call("post", "/v1/hospital/bookings", citizen, {"lot_id": LOT, "plate": CITIZEN_PLATE, "appointment_at": at})
    assert status == 201
    path = f"/v1/hospital/bookings/{mine['booking_id']}"
    assert call("get", path, liangxi_staff)[0] == 200 and call("get", path, auditor)[0] == 200
    assert call("get", path, other_operator)[0] == 404 and call("get", path, xinwu_staff)[0] == 404
    stranger = token(Role.CITIZEN, subject="citizen-2")
    assert call("get", path, stranger)[0] == 404
    assert call("post", f"{path}/cancel", auditor)[1]["code"] == "read_only"
    assert [b["booking_id"] for b in call("get", "/v1/me/hospital-bookings", citizen)[1]["bookings"]] == [mine["booking_id"]]
    assert call("get", "/v1/me/hospital-bookings", liangxi_staff)[1]["code"] == "citizen_only"
    day = at[:10]
    assert len(call("get", f"/v1/admin/lots/{LOT}/bookings?date={day}", auditor)[1]["bookings"]) == 1
    assert call("get", f"/v1/admin/lots/{LOT}/bookings?date={day}", other_operator)[0] == 403
    assert call("post", f"{path}/cancel", citizen)[1]["status"] == "cancelled"


def test_a_booked_stay_is_billed_at_the_bookings_terms_and_by_the_tariff_beyond_it(platform, call, token, device, hospital, clock):
    from shared.bills.model import bill_id_for
    from shared.plates import PlateColour
    from shared.protocol.events import VehicleClass
    from shared.tariffs.engine import quote
    from shared.tariffs.samples import ZHUMADIAN_CLASS1
    from tests.support import price_lot

    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    city = token(Role.CITY_ADMIN)
    assert call("put", f"/v1/admin/lots/{LOT}/booking-policy", city, {**POLICY, "booked_stay_fee_fen": 0, "version": 1})[0] == 200
    hospital.book(DESK, {"lot_id": LOT, "plate": "苏B31415", "appointment_at": iso(_appointment(clock, hours=0.5))})
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", "苏B31415", entered))[1]["acks"][0]["session_id"]
    clock.advance(4 * 3600)  # an hour past the booked 3 h
    ack = device("lx-out1").post(gate_event("exit", "苏B31415", clock.now()))[1]["acks"][0]
    beyond = quote(ZHUMADIAN_CLASS1, entered + timedelta(hours=3), clock.now(), VehicleClass.SMALL, PlateColour.BLUE).amount_fen
    bill = call("get", f"/v1/admin/bills/{bill_id_for(session_id)}", city)[1]
    line = bill["breakdown"]["adjustments"][0]
    assert (line["kind"], line["booked_fee_fen"], line["beyond_fen"]) == ("hospital_booking", 0, beyond)
    assert bill["amount_fen"] == beyond == ack["gate"]["amount_fen"] > 0
    # A car without a booking pays the tariff for the same stay.
    clock.advance(60)
    entered = clock.now()
    other = device("lx-in1").post(gate_event("entry", "苏B27182", entered))[1]["acks"][0]["session_id"]
    clock.advance(4 * 3600)
    device("lx-out1").post(gate_event("exit", "苏B27182", clock.now()))
    plain = call("get", f"/v1/admin/bills/{bill_id_for(other)}", city)[1]
    assert "adjustments" not in plain["breakdown"] and plain["amount_fen"] > beyond
