"""Staff routes of supervision (S14, S16): the fraud and data-hiding signals of the daily scan, reviewed by
the district, and the stored daily compliance rates. Access rules live in the domain
(``shared.supervision.scan.SignalService``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import admin_token, app, body, principal, route
from shared.bootstrap import services
from shared.errors import InvalidInput


class SignalReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(description="confirmed (the district acts on it) or dismissed")
    note: str = Field(min_length=1, max_length=1000, description="Why: what staff found")


ADMIN = openapi.ADMIN
openapi.OPERATIONS.update({
    ("GET", "/v1/admin/signals"): ("Fraud and data-hiding signals of the daily scan, each with its numbers (?from=&to= days, ?district=, ?state=open|reviewed) (S16)", ADMIN, None, None),
    ("GET", "/v1/admin/signals/{signal_id}"): ("One signal with its explanation, numbers and review", ADMIN, None, None),
    ("POST", "/v1/admin/signals/{signal_id}/review"): ("District or city staff decide a signal once: {decision: confirmed|dismissed, note}", ADMIN, SignalReview, None),
    ("GET", "/v1/admin/compliance/history"): ("The stored daily compliance rates (?from=&to=, ?district=) (S14)", ADMIN, None, None),
    ("GET", "/v1/admin/hotspots"): ("The day's utilisation and turnover by lot and hour of day, and the hard-to-park hotspots, stored by the daily scan (?day=YYYY-MM-DD, ?district=; ?format=svg: the heat map) (S2)", ADMIN, None, None),
})  # fmt: skip


def _days() -> tuple[str, str, dict]:
    q = app.current_request.query_params or {}
    if not q.get("from") or not q.get("to"):
        raise InvalidInput("from and to (YYYY-MM-DD) are required", code="bad_query")
    return q["from"], q["to"], q


@route("/v1/admin/signals", methods=["GET"], authorizer=admin_token)
def list_signals():
    first, last, q = _days()
    state = q.get("state")
    if state not in (None, "open", "reviewed"):
        raise InvalidInput("state is open or reviewed", code="bad_query")
    found = services().signals.list(principal(), q.get("district"), first, last, state)
    return json_response({"signals": [s.view() for s in found]})


@route("/v1/admin/signals/{signal_id}", methods=["GET"], authorizer=admin_token)
def get_signal(signal_id):
    return json_response(services().signals.get(principal(), signal_id).view())


@route("/v1/admin/signals/{signal_id}/review", methods=["POST"], authorizer=admin_token)
def review_signal(signal_id):
    data = body()
    if not isinstance(data, dict):
        raise InvalidInput("the body is {decision, note}", code="bad_review")
    done = services().signals.review(principal(), signal_id, data.get("decision"), data.get("note"))
    return json_response(done.view())


@route("/v1/admin/compliance/history", methods=["GET"], authorizer=admin_token)
def compliance_history():
    first, last, q = _days()
    return json_response({"days": services().signals.compliance_history(principal(), q.get("district"), first, last)})


@route("/v1/admin/hotspots", methods=["GET"], authorizer=admin_token)
def hotspots():
    q = app.current_request.query_params or {}
    report = services().signals.hotspots(principal(), q.get("district"), q.get("day", ""))
    if q.get("format") == "svg":
        from chalice import Response

        from shared.hotspots.svg import heatmap_svg

        return Response(heatmap_svg(report if report.get("stored") else {"day": report["day"], "lots": {}}),
                        status_code=200, headers={"Content-Type": "image/svg+xml; charset=utf-8"})
    return json_response(report)
