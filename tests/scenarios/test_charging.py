"""EV charging with parking (S12): the signed charging_session message, free or discounted parking while
charging plus a grace on the bill with its breakdown, idle occupancy reported and charged, bad input.
The first journey runs on the stack (the policy comes with the exit's batched read on DynamoDB), the
others on memory stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.auth import Role
from shared.bills.model import bill_id_for
from shared.clock import iso
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.engine import quote
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CITY_ADMIN, gate_event, price_lot

LOT, PLATE = "lx-nanchang-st-01", "苏BD12345"  # a green new-energy plate


@pytest.fixture
def charger(platform, city, device):
    """The charging operator's system at the lot, and the lot priced by Zhumadian class 1."""
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    secret = platform.services.registry.register_device(CITY_ADMIN, {"device_id": "lx-chargers", "kind": "lot_system", "lot_id": LOT}).secret
    city.secrets["lx-chargers"] = secret
    return device("lx-chargers")


def _charging(start, end, bay_left=None, **extra) -> dict:
    event = {"event_id": f"chg-{start.timestamp():.0f}", "type": "charging_session", "lot_id": LOT,
             "occurred_at": iso(bay_left or end), "plate": PLATE, "plate_colour": "green", "charger_id": "C-07",
             "started_at": iso(start), "ended_at": iso(end), "energy_wh": 38_500}
    if bay_left is not None:
        event["bay_left_at"] = iso(bay_left)
    return {**event, **extra}


def _price(start, end) -> int:
    return quote(ZHUMADIAN_CLASS1, start, end, VehicleClass.SMALL, PlateColour.GREEN).amount_fen


def _bill(call, token, session_id):
    status, bill = call("get", f"/v1/admin/bills/{bill_id_for(session_id)}", token(Role.CITY_ADMIN))
    assert status == 200, bill
    return bill


def test_parking_is_free_while_charging_plus_grace_and_idling_in_the_bay_is_charged(stack, call, token, charger, device, clock):
    city = token(Role.CITY_ADMIN)
    policy = {"mode": "free", "grace_minutes": 30, "idle_grace_minutes": 15, "idle_fee_fen_per_hour": 500}
    assert call("put", f"/v1/admin/lots/{LOT}/charging-policy", city, policy)[0] == 200
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", PLATE, entered))[1]["acks"][0]["session_id"]
    start, end, left = entered + timedelta(minutes=10), entered + timedelta(minutes=100), entered + timedelta(minutes=140)
    clock.advance(141 * 60)
    report = _charging(start, end, left)
    ack = charger.post(report)[1]["acks"][0]
    assert ack["status"] == "accepted", ack
    assert charger.post(report)[1]["acks"][0]["status"] == "duplicate"
    clock.advance(39 * 60)  # leaves at 3 h
    exit_ack = device("lx-out1").post(gate_event("exit", PLATE, clock.now()))[1]["acks"][0]

    tariff = _price(entered, clock.now())
    covered = _price(entered, end + timedelta(minutes=30)) - _price(entered, start)
    assert tariff > 0 and covered > 0
    bill = _bill(call, token, session_id)
    lines = bill["breakdown"]["adjustments"]
    assert lines == [
        {"kind": "charging", "mode": "free", "amount_fen": -covered, "minutes": 120, "energy_wh": 38_500},
        {"kind": "idle_occupancy", "charger_id": "C-07", "minutes": 25, "amount_fen": 500},
    ]
    assert bill["breakdown"]["tariff_amount_fen"] == tariff
    assert bill["amount_fen"] == tariff - covered + 500 == exit_ack["gate"]["amount_fen"]
    day = entered.date().isoformat()
    seen = call("get", f"/v1/admin/lots/{LOT}/charging-sessions?date={day}", token(Role.AUDITOR))[1]["sessions"]
    assert [(s["charger_id"], s["idle_minutes"], s["idle_fee_fen"]) for s in seen] == [("C-07", 25, 500)]


def test_a_discount_policy_takes_its_share_of_the_charging_time(call, token, charger, device, clock):
    call("put", f"/v1/admin/lots/{LOT}/charging-policy", token(Role.OPERATOR, operator="wx-city-parking"),
         {"mode": "discount", "percent_off": 50, "grace_minutes": 0})
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", PLATE, entered))[1]["acks"][0]["session_id"]
    start, end = entered, entered + timedelta(hours=2)
    clock.advance(2 * 3600)
    assert charger.post(_charging(start, end))[1]["acks"][0]["status"] == "accepted"
    clock.advance(3 * 3600)
    device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    bill = _bill(call, token, session_id)
    off = (_price(entered, end) - _price(entered, start)) * 50 // 100
    assert bill["breakdown"]["adjustments"][0]["amount_fen"] == -off
    assert bill["amount_fen"] == _price(entered, clock.now()) - off
    assert len(bill["breakdown"]["adjustments"]) == 1  # no bay sensor: no idle occupancy known


def test_a_lot_without_a_charging_policy_bills_by_the_tariff(call, token, charger, device, clock):
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", PLATE, entered))[1]["acks"][0]["session_id"]
    clock.advance(3 * 3600)
    charger.post(_charging(entered, entered + timedelta(hours=1)))
    device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    bill = _bill(call, token, session_id)
    assert "adjustments" not in bill["breakdown"] and bill["amount_fen"] == _price(entered, clock.now())


@pytest.mark.parametrize("change, reason", [
    ({"ended_at": "2026-11-23T08:00:00+08:00"}, "invalid_event"),
    ({"bay_left_at": "2026-11-23T08:30:00+08:00"}, "invalid_event"),
    ({"plate": "B12345"}, "malformed_plate"),
    ({"energy_wh": -1}, "invalid_event"),
    ({"started_at": "2026-11-23T08:45:00"}, "invalid_event"),  # no offset
    ({"charger_id": ""}, "invalid_event"),
    ({"lot_id": "lx-zhongshan-rd"}, None),
])  # fmt: skip
def test_bad_charging_reports_are_rejected_with_a_reason(charger, clock, change, reason):
    start = clock.now() - timedelta(minutes=20)
    status, body = charger.post(_charging(start, start + timedelta(minutes=10), **change))
    if reason is None:  # another lot than the device's: the whole request is refused
        assert (status, body["code"]) == (403, "lot_forbidden")
        return
    assert (status, body["code"]) == (400, reason) and body["acks"][0]["status"] == "rejected"


def test_charging_policies_are_scoped_and_validated(call, token, charger):
    path = f"/v1/admin/lots/{LOT}/charging-policy"
    for who in (token(Role.OPERATOR, operator="xinwu-hitech"), token(Role.AUDITOR), token(Role.DISTRICT_ADMIN, district="320214")):
        assert call("put", path, who, {"mode": "free"})[1]["code"] == "lot_forbidden"
    city = token(Role.CITY_ADMIN)
    assert call("put", path, city, {"mode": "discount"})[1]["code"] == "invalid_policy"
    assert call("put", path, city, {"mode": "free", "percent_off": 10})[1]["code"] == "invalid_policy"
    assert call("put", path, city, {"mode": "free", "grace_minutes": -1})[1]["code"] == "invalid_policy"
    assert call("put", path, city, {"mode": "free"})[1]["version"] == 1
    assert call("put", path, city, {"mode": "free"})[1]["code"] == "version_required"
    assert call("put", path, city, {"mode": "free", "version": 1})[1]["version"] == 2
    assert call("get", f"/v1/admin/lots/{LOT}/charging-sessions", city)[1]["code"] == "bad_query"
    assert call("get", f"/v1/admin/lots/{LOT}/charging-sessions?date=2026-11-23", token(Role.OPERATOR, operator="xinwu-hitech"))[0] == 403
