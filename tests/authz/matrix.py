"""The authorization matrix: for every route of the OpenAPI document, what each kind of caller gets.

A new route without a row here fails ``test_matrix.py``. To add one, copy a similar row: give the path
parameters (``params``, names of the world's records in ``test_matrix.World``), a body or query if the
route needs one, and one expected outcome per role, in ROLES order.

The world: Liangxi (320213) holds the target records (a lot, its operator wx-city-parking, its devices, a
session, an unpaid bill of alice's plate with an arrears case not yet handed over, alice's dispute of it,
a coupon of the operator); Xinwu (320214) is the other district. So each row says, per route:

  city    city admin                      lx      Liangxi district admin (home)
  xw      Xinwu district admin (other)    lxp     Liangxi district platform
  op      operator wx-city-parking (own)  aud     auditor
  alice   citizen owning the bill's plate bob     another citizen
  anon    no token

Outcomes: ``ok`` 2xx; ``pass`` got past authorization (anything but 401/403: a 400 for a body the role
may send, a 409 for a version another role moved first, a public 404); ``401``, ``403``, ``404`` exactly
(``404`` for a record hidden from the caller: shared/access.py). Within a row the refusals run first, so
that nothing a refused caller did could have changed what an allowed caller sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("city", "lx", "xw", "lxp", "op", "aud", "alice", "bob", "anon")


@dataclass(frozen=True)
class Row:
    expect: str  # one outcome per role, in ROLES order, separated by spaces
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> a World attribute or a literal "=value"
    query: str = ""
    body: str | None = None  # a World attribute holding a body (dict), or None

    def outcomes(self) -> dict[str, str]:
        values = self.expect.split()
        assert len(values) == len(ROLES), f"{self.expect!r}: one outcome per role {ROLES}"
        return dict(zip(ROLES, values))


PUBLIC_OK = "ok ok ok ok ok ok ok ok ok"
PUBLIC = "pass pass pass pass pass pass pass pass pass"
STAFF_READ = "ok ok ok ok ok ok 403 403 401"  # city-wide facts every staff role may read
LX_READ = "ok ok 403 ok ok ok 403 403 401"  # a Liangxi registry record of the operator
LX_WRITE = "pass pass 403 pass 403 403 403 403 401"  # registry writes: city and Liangxi staff and platform
CITIZEN_ONLY = "403 403 403 403 403 403 ok ok 401"
CITIZEN_PASS = "403 403 403 403 403 403 pass pass 401"

# Rows run in this order against one world: destructive rows (write-off, dispute resolution) come last.
MATRIX: dict[tuple[str, str], Row] = {
    # Devices and lot systems: bearer tokens are no device signature
    ("POST", "/v1/events"): Row("401 401 401 401 401 401 401 401 401", body="event"),
    ("POST", "/v1/lot-systems/{adapter}/events"): Row("401 401 401 401 401 401 401 401 401", params={"adapter": "=cn_common"}, body="event"),
    # Public
    ("GET", "/health"): Row(PUBLIC_OK),
    ("GET", "/openapi.json"): Row(PUBLIC_OK),
    ("GET", "/v1/lots"): Row(PUBLIC_OK, query="lat=31.56&lon=120.30&radius_m=5000"),
    ("GET", "/v1/lots/{lot_id}"): Row(PUBLIC_OK, params={"lot_id": "lx_lot"}),
    ("GET", "/v1/lots/{lot_id}/quote"): Row(PUBLIC_OK, params={"lot_id": "lx_lot"}, query="entry=2026-11-23T08:00:00%2B08:00&exit=2026-11-23T10:00:00%2B08:00"),
    ("GET", "/v1/pay/{lot_id}"): Row(PUBLIC, params={"lot_id": "lx_lot"}, query="plate=%E8%8B%8FB12345"),
    ("GET", "/v1/payments/{payment_id}"): Row(PUBLIC, params={"payment_id": "=pay_unknown"}),
    ("POST", "/v1/payments/callbacks/{provider}"): Row("pass pass pass pass pass pass pass pass pass", params={"provider": "=sandbox"}, body="event"),
    # The web app's pages and the phone sign-in (issue 14): public; a page shows data only through the API
    ("GET", "/"): Row(PUBLIC),
    ("GET", "/web/{name}"): Row(PUBLIC_OK, params={"name": "=find.html"}),
    ("POST", "/v1/auth/sms-code"): Row(PUBLIC, body="empty"),
    ("POST", "/v1/auth/token"): Row(PUBLIC, body="empty"),
    # Registry
    ("GET", "/v1/admin/districts"): Row(STAFF_READ),
    ("GET", "/v1/admin/operators"): Row(STAFF_READ),
    ("GET", "/v1/admin/operators/{operator_id}"): Row(LX_READ, params={"operator_id": "lx_operator"}),
    ("GET", "/v1/admin/lots"): Row(STAFF_READ),
    ("GET", "/v1/admin/lots/{lot_id}"): Row(LX_READ, params={"lot_id": "lx_lot"}),
    ("GET", "/v1/admin/lots/{lot_id}/status"): Row(LX_READ, params={"lot_id": "lx_lot"}),
    ("GET", "/v1/admin/lots/{lot_id}/devices"): Row(LX_READ, params={"lot_id": "lx_lot"}),
    ("GET", "/v1/admin/lots/{lot_id}/pay-codes"): Row(LX_READ, params={"lot_id": "lx_lot"}),
    ("GET", "/v1/admin/devices/{device_id}"): Row(LX_READ, params={"device_id": "lx_device"}),
    ("POST", "/v1/admin/operators"): Row(LX_WRITE, body="new_operator"),
    ("PUT", "/v1/admin/operators/{operator_id}"): Row(LX_WRITE, params={"operator_id": "lx_operator"}, body="operator_change"),
    ("POST", "/v1/admin/lots"): Row(LX_WRITE, body="new_lot"),
    ("PUT", "/v1/admin/lots/{lot_id}"): Row(LX_WRITE, params={"lot_id": "lx_lot"}, body="lot_change"),
    ("POST", "/v1/admin/devices"): Row(LX_WRITE, body="new_device"),
    ("PUT", "/v1/admin/devices/{device_id}"): Row(LX_WRITE, params={"device_id": "spare_device"}, body="device_change"),
    ("POST", "/v1/admin/devices/{device_id}/rotate-secret"): Row(LX_WRITE, params={"device_id": "spare_device"}, body="device_change"),
    # Sessions and money (hidden: 404)
    ("GET", "/v1/admin/sessions/{session_id}"): Row("ok ok 404 ok 404 ok 403 403 401", params={"session_id": "lx_session"}),
    ("GET", "/v1/admin/bills/{bill_id}"): Row("ok ok 404 ok ok ok 403 403 401", params={"bill_id": "lx_bill"}),
    ("GET", "/v1/admin/tariffs"): Row(STAFF_READ),
    ("GET", "/v1/admin/tariffs/{tariff_id}"): Row(STAFF_READ, params={"tariff_id": "tariff_id"}),
    ("PUT", "/v1/admin/tariffs/{tariff_id}"): Row("pass pass 403 403 403 403 403 403 401", params={"tariff_id": "=lx-new-tariff"}, body="new_tariff"),
    ("GET", "/v1/admin/reconciliation/findings"): Row(STAFF_READ),  # issue 14: scoped to the caller's bills
    ("GET", "/v1/admin/ledger/check"): Row("ok 403 403 403 403 ok 403 403 401"),
    ("POST", "/v1/pay/{lot_id}/payments"): Row(PUBLIC, params={"lot_id": "lx_lot"}, body="payment"),
    ("POST", "/v1/bills/{bill_id}/payments"): Row(PUBLIC, params={"bill_id": "lx_bill"}, body="payment"),
    # Coupons: city staff and the operator
    ("POST", "/v1/admin/coupons"): Row("pass 403 403 403 pass 403 403 403 401", body="new_coupon"),
    ("GET", "/v1/admin/coupons/{code}"): Row("ok 403 403 403 ok ok 403 403 401", params={"code": "coupon"}),
    ("POST", "/v1/admin/coupons/{code}/deactivate"): Row("pass 403 403 403 pass 403 403 403 401", params={"code": "coupon"}, body="coupon_change"),
    # The service window: citizens only, each their own
    ("POST", "/v1/me/account"): Row(CITIZEN_PASS, body="consent"),
    ("GET", "/v1/me/account"): Row(CITIZEN_ONLY),
    ("POST", "/v1/me/consent"): Row(CITIZEN_PASS),
    ("POST", "/v1/me/pay-later/{verb}"): Row(CITIZEN_PASS, params={"verb": "=resume"}),
    ("POST", "/v1/me/plates"): Row(CITIZEN_PASS, body="other_plate"),
    ("POST", "/v1/me/plates/verify"): Row(CITIZEN_PASS, body="wrong_code"),
    ("POST", "/v1/me/plates/remove"): Row(CITIZEN_PASS, body="other_plate"),
    ("POST", "/v1/me/payment-method"): Row(CITIZEN_PASS),
    ("GET", "/v1/me/bills"): Row(CITIZEN_ONLY),
    ("POST", "/v1/me/payments"): Row(CITIZEN_PASS, body="empty"),  # issue 14: several of my bills, one payment
    # Service scenarios (issue 13). Ids of records the world does not hold answer 404 to every caller with a
    # token (bookings, tickets and applications are personal: no existence oracle); an empty body is refused
    # as bad input by every role allowed to send one.
    ("GET", "/v1/hospital/lots/{lot_id}"): Row("404 404 404 404 404 404 404 404 404", params={"lot_id": "lx_lot"}),
    ("GET", "/v1/hospital/lots/{lot_id}/slots"): Row(PUBLIC, params={"lot_id": "lx_lot"}),
    ("POST", "/v1/hospital/bookings"): Row("pass pass pass pass pass pass pass pass 401", body="empty"),
    ("GET", "/v1/hospital/bookings/{booking_id}"): Row("404 404 404 404 404 404 404 404 401", params={"booking_id": "=bk_unknown"}),
    ("POST", "/v1/hospital/bookings/{booking_id}/cancel"): Row("404 404 404 404 404 403 404 404 401", params={"booking_id": "=bk_unknown"}, body="empty"),
    ("GET", "/v1/me/hospital-bookings"): Row(CITIZEN_ONLY),
    ("GET", "/v1/admin/lots/{lot_id}/bookings"): Row("pass pass pass pass pass pass pass pass 401", params={"lot_id": "lx_lot"}),
    ("PUT", "/v1/admin/lots/{lot_id}/booking-policy"): Row("pass pass 403 pass pass 403 403 403 401", params={"lot_id": "lx_lot"}, body="empty"),
    ("PUT", "/v1/admin/lots/{lot_id}/charging-policy"): Row("pass pass 403 pass pass 403 403 403 401", params={"lot_id": "lx_lot"}, body="empty"),
    ("GET", "/v1/admin/lots/{lot_id}/charging-sessions"): Row("pass pass pass pass pass pass pass pass 401", params={"lot_id": "lx_lot"}),
    ("POST", "/v1/admin/hotline/tickets"): Row("pass pass pass pass 403 403 403 403 401", body="empty"),
    ("GET", "/v1/admin/hotline/tickets"): Row("ok ok ok ok ok ok ok ok 401"),  # a citizen's list holds only their own
    ("GET", "/v1/admin/hotline/tickets/{ticket_id}"): Row("404 404 404 404 404 404 404 404 401", params={"ticket_id": "=tk_unknown"}),
    ("POST", "/v1/admin/hotline/tickets/{ticket_id}/resolve"): Row("404 404 404 404 404 404 404 404 401", params={"ticket_id": "=tk_unknown"}, body="empty"),
    ("GET", "/v1/admin/hotline/stats"): Row(STAFF_READ),
    ("POST", "/v1/me/tickets"): Row(CITIZEN_PASS, body="empty"),
    ("GET", "/v1/me/tickets"): Row(CITIZEN_ONLY),
    ("GET", "/v1/me/tickets/{ticket_id}"): Row("404 404 404 404 404 404 404 404 401", params={"ticket_id": "=tk_unknown"}),
    ("POST", "/v1/me/tickets/{ticket_id}/confirm"): Row("403 403 403 403 403 403 404 404 401", params={"ticket_id": "=tk_unknown"}, body="empty"),
    ("GET", "/v1/hotline/tickets/{ticket_id}"): Row("404 404 404 404 404 404 404 404 404", params={"ticket_id": "=tk_unknown"}),
    ("POST", "/v1/hotline/tickets/{ticket_id}/confirm"): Row("404 404 404 404 404 404 404 404 404", params={"ticket_id": "=tk_unknown"}, body="empty"),
    ("POST", "/v1/admin/sharing/offers"): Row("pass pass pass pass pass pass pass pass 401", body="empty"),
    ("POST", "/v1/admin/sharing/offers/{offer_id}/withdraw"): Row("pass pass 403 pass pass 403 403 403 401", params={"offer_id": "lx_offer"}, body="empty"),
    ("GET", "/v1/sharing/offers/{offer_id}"): Row("404 404 404 404 404 404 404 404 404", params={"offer_id": "=of_unknown"}),
    ("POST", "/v1/sharing/offers/{offer_id}/applications"): Row("403 403 403 403 403 403 404 404 401", params={"offer_id": "=of_unknown"}, body="empty"),
    ("GET", "/v1/sharing/applications"): Row("pass pass pass pass pass pass ok ok 401"),
    ("GET", "/v1/sharing/applications/{application_id}"): Row("404 404 404 404 404 404 404 404 401", params={"application_id": "=ap_unknown"}),
    ("POST", "/v1/sharing/applications/{application_id}/decision"): Row("pass pass pass pass pass pass pass pass 401", params={"application_id": "=ap_unknown"}, body="empty"),
    ("POST", "/v1/sharing/applications/{application_id}/renew"): Row("404 404 404 404 404 404 404 404 401", params={"application_id": "=ap_unknown"}, body="empty"),
    ("POST", "/v1/sharing/applications/{application_id}/cancel"): Row("404 404 404 404 404 404 404 404 401", params={"application_id": "=ap_unknown"}, body="empty"),
    # The governance loop (issue 11): statements and fee statements the world has not issued answer 404
    ("GET", "/v1/admin/settlements"): Row("ok ok 403 ok ok ok 403 403 401", query="operator=wx-city-parking&from=2026-11-01&to=2026-11-02"),
    ("GET", "/v1/admin/settlements/{statement_id}"): Row("404 404 404 404 404 404 404 404 401", params={"statement_id": "=st_unknown"}),
    ("GET", "/v1/admin/platform-fee"): Row("ok 403 403 403 403 ok 403 403 401"),
    ("GET", "/v1/admin/platform-fee/{operator_id}/{half}"): Row("404 404 404 404 404 404 404 404 401", params={"operator_id": "lx_operator", "half": "=2026-H1"}),
    ("GET", "/v1/admin/city-pushes"): Row("ok 403 403 403 403 ok 403 403 401"),
    ("POST", "/v1/admin/city-pushes/{push_id}/requeue"): Row("404 403 403 403 403 403 403 403 401", params={"push_id": "=push_unknown"}, body="empty"),
    ("GET", "/v1/admin/compliance"): Row("ok ok ok ok 403 ok 403 403 401"),
    ("GET", "/v1/admin/lots/{lot_id}/anomalies"): Row("ok ok 403 ok ok ok 403 403 401", params={"lot_id": "lx_lot"}),
    # Supervision signals and compliance history (issue 11): staff of the district and the city; operators are supervised
    ("GET", "/v1/admin/signals"): Row("ok ok ok ok 403 ok 403 403 401", query="from=2026-11-01&to=2026-11-30"),
    ("GET", "/v1/admin/signals/{signal_id}"): Row("404 404 404 404 403 404 403 403 401", params={"signal_id": "=late_reporting:lx-unknown:2026-11-22"}),
    ("POST", "/v1/admin/signals/{signal_id}/review"): Row("404 404 404 404 403 403 403 403 401", params={"signal_id": "=late_reporting:lx-unknown:2026-11-22"}, body="decision"),
    ("GET", "/v1/admin/district-returns"): Row("ok ok ok ok 403 ok 403 403 401"),
    ("GET", "/v1/admin/compliance/history"): Row("ok ok ok ok 403 ok 403 403 401", query="from=2026-11-01&to=2026-11-30"),
    ("GET", "/v1/admin/hotspots"): Row("ok ok ok ok 403 ok 403 403 401", query="day=2026-11-20"),
    # Arrears (not yet handed over: the operator does not see it) and disputes
    ("GET", "/v1/admin/arrears"): Row("ok ok ok ok ok ok 403 403 401"),
    ("GET", "/v1/admin/arrears/{case_id}"): Row("ok ok 404 ok 404 ok 403 403 401", params={"case_id": "lx_case"}),
    ("POST", "/v1/admin/arrears/{case_id}/contacts"): Row("pass pass 404 403 404 403 403 403 401", params={"case_id": "lx_case"}, body="contact"),
    ("GET", "/v1/admin/disputes"): Row("ok ok ok ok 403 ok 403 403 401"),
    ("POST", "/v1/me/bills/{bill_id}/disputes"): Row("403 403 403 403 403 403 pass 404 401", params={"bill_id": "lx_bill"}, body="dispute"),
    ("POST", "/v1/admin/disputes/{bill_id}/resolve"): Row("pass pass 404 403 403 403 403 404 401", params={"bill_id": "lx_bill"}, body="decision"),
    ("POST", "/v1/admin/arrears/{case_id}/write-off"): Row("pass pass 404 403 404 403 403 403 401", params={"case_id": "lx_case"}, body="write_off"),
}
