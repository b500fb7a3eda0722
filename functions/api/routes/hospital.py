"""Hospital appointment parking (S12): the public slot view, bookings by citizens and hospital desks,
and the lot's booking policy (staff)."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import DATE, admin_token, body, dump, principal, query_text, route
from shared.bootstrap import services
from shared.hospital.model import Booking, BookingPolicy
from shared.errors import InvalidInput

ADMIN = openapi.ADMIN
openapi.OPERATIONS.update({
    ("GET", "/v1/hospital/lots/{lot_id}"): ("A hospital lot's booking policy (public)", None, None, BookingPolicy),
    ("GET", "/v1/hospital/lots/{lot_id}/slots"): ("Each slot of a day (?date=YYYY-MM-DD) with its quota and free booked spaces (public)", None, None, None),
    ("POST", "/v1/hospital/bookings"): ("Book a space: {lot_id, plate, appointment_at}; a citizen for their verified plates, the hospital desk for a patient", ADMIN, None, Booking),
    ("GET", "/v1/hospital/bookings/{booking_id}"): ("One booking (its plate's citizen, the lot's staff, auditors)", ADMIN, None, Booking),
    ("POST", "/v1/hospital/bookings/{booking_id}/cancel"): ("Cancel a booking before its window closes: the space is free again", ADMIN, None, Booking),
    ("GET", "/v1/me/hospital-bookings"): ("My plates' bookings", ADMIN, None, None),
    ("PUT", "/v1/admin/lots/{lot_id}/booking-policy"): ("Set a hospital lot's booking policy (quota per slot, windows, no-show limits; body names the version it is based on)", ADMIN, BookingPolicy, BookingPolicy),
    ("GET", "/v1/admin/lots/{lot_id}/bookings"): ("A lot's bookings of a day (?date=YYYY-MM-DD): the lot's staff, auditors", ADMIN, None, None),
})  # fmt: skip
openapi.CREATED.add(("POST", "/v1/hospital/bookings"))


def _day() -> str:
    day = query_text("date", DATE)
    if not day:
        raise InvalidInput("query parameter date (YYYY-MM-DD) is required", code="bad_query")
    return day


@route("/v1/hospital/lots/{lot_id}", methods=["GET"])
def hospital_policy(lot_id):
    return json_response(dump(services().hospital.policy(lot_id).model_copy(update={"updated_by": None})))


@route("/v1/hospital/lots/{lot_id}/slots", methods=["GET"])
def hospital_slots(lot_id):
    return json_response({"lot_id": lot_id, "slots": [dump(s) for s in services().hospital.slots(lot_id, _day())]})


@route("/v1/hospital/bookings", methods=["POST"], authorizer=admin_token)
def book():
    return json_response(dump(services().hospital.book(principal(), body())), 201)


@route("/v1/hospital/bookings/{booking_id}", methods=["GET"], authorizer=admin_token)
def get_booking(booking_id):
    return json_response(dump(services().hospital.get(principal(), booking_id)))


@route("/v1/hospital/bookings/{booking_id}/cancel", methods=["POST"], authorizer=admin_token)
def cancel_booking(booking_id):
    return json_response(dump(services().hospital.cancel(principal(), booking_id)))


@route("/v1/me/hospital-bookings", methods=["GET"], authorizer=admin_token)
def my_bookings():
    return json_response({"bookings": [dump(b) for b in services().hospital.mine(principal())]})


@route("/v1/admin/lots/{lot_id}/booking-policy", methods=["PUT"], authorizer=admin_token)
def put_booking_policy(lot_id):
    return json_response(dump(services().hospital.put_policy(principal(), lot_id, body())))


@route("/v1/admin/lots/{lot_id}/bookings", methods=["GET"], authorizer=admin_token)
def lot_bookings(lot_id):
    return json_response({"bookings": [dump(b) for b in services().hospital.of_lot(principal(), lot_id, _day())]})
