"""EV charging with parking (S12): a lot's charging policy and its charging sessions (staff). Charging
operators report sessions through protocol v1 (``charging_session``, ``POST /v1/events``)."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import DATE, admin_token, body, dump, principal, query_text, route
from shared.bootstrap import services
from shared.charging.model import ChargingPolicy
from shared.errors import InvalidInput

openapi.OPERATIONS.update({
    ("PUT", "/v1/admin/lots/{lot_id}/charging-policy"): ("Set a lot's charging policy: free or discounted parking while charging plus a grace, the idle-occupancy grace and fee (body names the version it is based on)", openapi.ADMIN, ChargingPolicy, ChargingPolicy),
    ("GET", "/v1/admin/lots/{lot_id}/charging-sessions"): ("A lot's reported charging sessions of a day (?date=YYYY-MM-DD) with idle occupancy: the lot's staff, auditors", openapi.ADMIN, None, None),
})  # fmt: skip


@route("/v1/admin/lots/{lot_id}/charging-policy", methods=["PUT"], authorizer=admin_token)
def put_charging_policy(lot_id):
    return json_response(dump(services().charging.put_policy(principal(), lot_id, body())))


@route("/v1/admin/lots/{lot_id}/charging-sessions", methods=["GET"], authorizer=admin_token)
def charging_sessions(lot_id):
    day = query_text("date", DATE)
    if not day:
        raise InvalidInput("query parameter date (YYYY-MM-DD) is required", code="bad_query")
    return json_response({"sessions": services().charging.sessions(principal(), lot_id, day)})
