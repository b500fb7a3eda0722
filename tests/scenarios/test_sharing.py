"""Off-peak and regional shared parking (S6, S12): offers, applications, decisions with the offer's space
count, versioned renewals and cancellations, billing inside the window by the right, outside by the
tariff, an overstay from the window's end; scoping and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.auth import Role
from shared.bills.model import bill_id_for
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.engine import quote
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.scenarios.conftest import CITIZEN_PLATE, pay_through_pay_code
from tests.support import gate_event, price_lot

LOT = "lx-nanchang-st-01"  # Liangxi, wx-city-parking; the clock starts Monday 2026-11-23 09:00 (Shanghai)
OFFER = {"offer_id": "nanchang-nights", "name": "南长街夜间共享", "lot_ids": [LOT], "spaces": 1, "monthly_fee_fen": 15000,
         "windows": [{"weekdays": [1, 2, 3, 4, 5], "start": "19:00", "end": "07:30"},
                     {"weekdays": [6, 7], "start": "00:00", "end": "00:00"}]}


@pytest.fixture
def right(platform, api, call, token, citizen):
    """The operator's night offer on the lot, and citizen-1's approved right for 苏B12345, its fee paid
    through the pay code (the bill, the sandbox's callback, the reaction)."""
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    operator = token(Role.OPERATOR, operator="wx-city-parking")
    assert call("post", "/v1/admin/sharing/offers", operator, OFFER)[0] == 201
    status, app = call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", citizen, {"plates": [CITIZEN_PLATE], "months": 1})
    assert status == 201 and app["status"] == "pending"
    status, approved = call("post", f"/v1/sharing/applications/{app['application_id']}/decision", operator,
                            {"decision": "approve", "version": 1, "note": "居民夜间"})
    assert status == 200, approved
    assert "paid_at" not in approved["terms"][0]  # approved, not yet in force
    # the provider delivers its callback twice: applied once
    assert pay_through_pay_code(platform.services, api, approved["terms"][0]["bill_id"], deliveries=2) == ["applied", "duplicate"]
    return call("get", f"/v1/sharing/applications/{app['application_id']}", citizen)[1]


def _stay(call, token, device, clock, hours_from_now: float, hours: float):
    clock.advance(hours_from_now * 3600)
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", CITIZEN_PLATE, entered))[1]["acks"][0]["session_id"]
    clock.advance(hours * 3600)
    ack = device("lx-out1").post(gate_event("exit", CITIZEN_PLATE, clock.now()))[1]["acks"][0]
    bill = call("get", f"/v1/admin/bills/{bill_id_for(session_id)}", token(Role.CITY_ADMIN))[1]
    return entered, ack, bill


def _price(a, b) -> int:
    return quote(ZHUMADIAN_CLASS1, a, b, VehicleClass.SMALL, PlateColour.BLUE).amount_fen


def test_an_approved_right_takes_the_offers_space_and_is_versioned(call, token, right, stack, clock):
    assert (right["status"], right["fee_fen"], right["version"]) == ("approved", 15000, 3)
    assert right["valid_until"] == (clock.now() + timedelta(days=30)).isoformat()
    assert call("get", f"/v1/sharing/offers/{OFFER['offer_id']}")[1]["free"] == 0
    assert [h["action"] for h in right["history"]] == ["applied", "approved", "paid"]
    assert right["terms"][0]["paid_at"] == clock.now().isoformat()


def test_inside_the_window_the_right_pays_and_outside_the_tariff(call, token, device, right, clock):
    # Monday 19:30 to Tuesday 07:00: all inside the night window.
    entered, ack, bill = _stay(call, token, device, clock, 10.5, 11.5)
    assert ack["gate"]["amount_fen"] == 0 and ack["gate"]["decision"] == "open"
    line = bill["breakdown"]["adjustments"][0]
    assert (line["kind"], line["amount_fen"], line["outside"]) == ("shared_parking_right", -bill["breakdown"]["tariff_amount_fen"], [])
    assert bill["amount_fen"] == 0
    # Tuesday 10:00 to 12:00: outside any window, the tariff as usual.
    entered, ack, bill = _stay(call, token, device, clock, 3, 2)
    assert "adjustments" not in (bill["breakdown"] or {}) and bill["amount_fen"] == _price(entered, clock.now()) > 0


def test_an_overstay_is_billed_by_the_tariff_from_the_windows_end(call, token, device, right, clock):
    # Monday 20:00 to Tuesday 09:30: the night window ends at 07:30.
    entered, ack, bill = _stay(call, token, device, clock, 11, 13.5)
    window_end = entered.replace(hour=7, minute=30) + timedelta(days=1)
    overstay = _price(window_end, clock.now())
    line = bill["breakdown"]["adjustments"][0]
    assert line["outside"] == [{"from": window_end.isoformat(), "until": clock.now().isoformat(), "amount_fen": overstay}]
    assert bill["amount_fen"] == overstay == ack["gate"]["amount_fen"] > 0


def test_renewal_and_cancellation_are_versioned_and_cancelling_frees_the_space(call, token, citizen, right, clock):
    path = f"/v1/sharing/applications/{right['application_id']}"
    assert call("post", f"{path}/renew", citizen, {"months": 2, "version": 2})[1]["code"] == "version_conflict"
    renewed = call("post", f"{path}/renew", citizen, {"months": 2, "version": 3})[1]
    assert (renewed["months"], renewed["fee_fen"], renewed["version"]) == (3, 45000, 4)
    assert renewed["valid_until"] == (clock.now() + timedelta(days=90)).isoformat()
    renewal_bill = renewed["terms"][1]["bill_id"]
    assert call("get", f"/v1/admin/bills/{renewal_bill}", token(Role.CITY_ADMIN))[1]["due_fen"] == 30000
    assert call("post", f"{path}/renew", citizen, {"months": 13, "version": 4})[1]["code"] == "invalid_application"
    cancelled = call("post", f"{path}/cancel", citizen, {"version": 4})[1]
    assert cancelled["status"] == "cancelled" and cancelled["valid_until"] == clock.now().isoformat()
    assert call("get", f"/v1/sharing/offers/{OFFER['offer_id']}")[1]["free"] == 1
    assert [h["action"] for h in call("get", path, citizen)[1]["history"]] == ["applied", "approved", "paid", "renewed", "cancelled"]
    # the unpaid renewal is voided: nothing due, and nothing earned by the operator for it
    voided = call("get", f"/v1/admin/bills/{renewal_bill}", token(Role.CITY_ADMIN))[1]
    assert (voided["due_fen"], voided["adjusted_fen"], voided["status"]) == (0, 30000, "settled")


def test_no_space_left_and_decisions_are_scoped(platform, call, token, right):
    other = token(Role.CITIZEN, subject="citizen-2")
    call("post", "/v1/me/account", other, {"consent": True})
    call("post", "/v1/me/plates", other, {"plate": "苏B54321"})
    call("post", "/v1/me/plates/verify", other, {"plate": "苏B54321", "code": platform.services.plate_verifier.sent["苏B54321"]})
    status, app = call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", other, {"plates": ["苏B54321"], "months": 1})
    assert status == 201
    path = f"/v1/sharing/applications/{app['application_id']}"
    for who in (token(Role.AUDITOR), token(Role.OPERATOR, operator="xinwu-hitech"), token(Role.DISTRICT_ADMIN, district="320214"), other):
        assert call("post", f"{path}/decision", who, {"decision": "approve", "version": 1})[0] in (403, 404)
    liangxi = token(Role.DISTRICT_ADMIN, district="320213")
    assert call("post", f"{path}/decision", liangxi, {"decision": "maybe", "version": 1})[1]["code"] == "invalid_decision"
    assert call("post", f"{path}/decision", liangxi, {"decision": "approve", "version": 1})[1]["code"] == "no_spaces"
    rejected = call("post", f"{path}/decision", liangxi, {"decision": "reject", "version": 1, "note": "名额已满"})[1]
    assert rejected["status"] == "rejected"
    assert call("post", f"{path}/decision", liangxi, {"decision": "approve", "version": 2})[1]["code"] == "not_pending"
    assert call("get", path, token(Role.CITIZEN, subject="citizen-1"))[0] == 404  # not theirs
    assert len(call("get", f"/v1/sharing/applications?offer={OFFER['offer_id']}", token(Role.AUDITOR))[1]["applications"]) == 2
    assert [a["application_id"] for a in call("get", "/v1/sharing/applications", other)[1]["applications"]] == [app["application_id"]]
    assert call("get", "/v1/sharing/applications", liangxi)[1]["code"] == "bad_query"


@pytest.mark.parametrize("change, status, code", [
    ({"windows": [{"weekdays": [8], "start": "19:00", "end": "07:30"}]}, 400, "invalid_offer"),
    ({"spaces": 0}, 400, "invalid_offer"),
    ({"lot_ids": [LOT, "xw-taihu-plaza"]}, 400, "invalid_offer"),
    ({"lot_ids": ["no-such-lot"]}, 404, "unknown_lot"),
    ({"monthly_fee_fen": "150"}, 400, "invalid_offer"),
])  # fmt: skip
def test_bad_offers_are_4xx_with_a_code(call, token, city, change, status, code):
    got = call("post", "/v1/admin/sharing/offers", token(Role.CITY_ADMIN), {**OFFER, **change})
    assert (got[0], got[1]["code"]) == (status, code)


def test_who_may_offer_and_apply(call, token, citizen, city):
    assert call("post", "/v1/admin/sharing/offers", token(Role.OPERATOR, operator="xinwu-hitech"), OFFER)[1]["code"] == "lot_forbidden"
    assert call("post", "/v1/admin/sharing/offers", token(Role.DISTRICT_ADMIN, district="320214"), OFFER)[1]["code"] == "district_forbidden"
    assert call("post", "/v1/admin/sharing/offers", token(Role.AUDITOR), OFFER)[0] == 403
    assert call("post", "/v1/admin/sharing/offers", token(Role.DISTRICT_ADMIN, district="320213"), OFFER)[0] == 201
    assert call("post", "/v1/admin/sharing/offers", token(Role.CITY_ADMIN), OFFER)[1]["code"] == "already_exists"
    apply = f"/v1/sharing/offers/{OFFER['offer_id']}/applications"
    assert call("post", apply, citizen, {"plates": ["苏B99999"], "months": 1})[1]["code"] == "plate_not_yours"
    assert call("post", apply, citizen, {"plates": [CITIZEN_PLATE], "months": 0})[1]["code"] == "invalid_application"
    assert call("post", apply, citizen, {"plates": CITIZEN_PLATE, "months": 1})[1]["code"] == "invalid_application"
    assert call("post", apply, token(Role.CITY_ADMIN), {"plates": [CITIZEN_PLATE], "months": 1})[1]["code"] == "citizen_only"
    assert call("post", "/v1/sharing/offers/nope/applications", citizen, {"plates": [CITIZEN_PLATE], "months": 1})[0] == 404
