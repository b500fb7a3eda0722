"""Staff routes of the city's governance loop: settlement statements (JSON or CSV), the platform's fee
books and fee statements (S10), and the city push outbox (S5). Access rules live in the domain
(``shared.settlement.service.may_read_statement``, ``shared.citypush.service.may_see_pushes``)."""

from __future__ import annotations

from chalice import Response

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import DATE, DISTRICT, admin_token, app, principal, query_int, query_text, route
from shared.bootstrap import services
from shared.errors import InvalidInput
from shared.settlement.model import to_csv

CSV = "text/csv"


def _wants_csv() -> bool:
    return CSV in (app.current_request.headers or {}).get("accept", "")


def _csv(data: bytes, name: str) -> Response:
    # A text body (Chalice sends str as UTF-8); the BOM survives as its first character.
    return Response(body=data.decode("utf-8"), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}.csv"'})


@route("/v1/admin/settlements", methods=["GET"], authorizer=admin_token)
def list_settlements():
    start, end = query_text("from", DATE, required=True), query_text("to", DATE, required=True)
    operator = query_text("operator")
    statements = services().settlement.list(principal(), operator, start, end)
    if _wants_csv():
        return _csv(to_csv(statements), f"settlements_{operator or 'own'}_{start}_{end}")
    return json_response({"statements": [st.view() for st in statements]})


@route("/v1/admin/settlements/{statement_id}", methods=["GET"], authorizer=admin_token)
def get_settlement(statement_id):
    svc = services()
    st = svc.settlement.get(principal(), statement_id)
    if _wants_csv():
        return _csv(to_csv([st]), st.statement_id)
    return json_response({**st.view(), "check": svc.settlement.check(st),
                          "reconciliation": svc.settlement.reconciliation(st)})


@route("/v1/admin/platform-fee", methods=["GET"], authorizer=admin_token)
def platform_fee_report():
    return json_response(services().platform_fee.report(principal()))


@route("/v1/admin/platform-fee/{operator_id}/{half}", methods=["GET"], authorizer=admin_token)
def platform_fee_statement(operator_id, half):
    return json_response(services().platform_fee.get(principal(), operator_id, half).model_dump(mode="json"))


@route("/v1/admin/city-pushes", methods=["GET"], authorizer=admin_token)
def city_pushes():
    state = (app.current_request.query_params or {}).get("state")
    if state not in (None, "pending", "dead"):
        raise InvalidInput("state is pending or dead", code="bad_query")
    pushes = services().city_push.outbox(principal(), state)
    return json_response({"pushes": [p.model_dump(mode="json") for p in pushes]})


@route("/v1/admin/city-pushes/{push_id}/requeue", methods=["POST"], authorizer=admin_token)
def requeue_push(push_id):
    return json_response(services().city_push.requeue(principal(), push_id).model_dump(mode="json"))


@route("/v1/admin/lots/{lot_id}/anomalies", methods=["GET"], authorizer=admin_token)
def lot_anomalies(lot_id):
    """A lot's comms_lost / comms_restored anomalies of the last ``days`` (default 30), with their flags."""
    from datetime import timedelta

    svc = services()
    svc.registry.get_lot(principal(), lot_id)  # district-scoped read, as for the lot itself
    days = query_int("days", 30, 1, 366)
    found = svc.liveness.anomalies_of(lot_id, svc.clock.now() - timedelta(days=days))
    return json_response({"lot_id": lot_id, "anomalies": [a.model_dump(mode="json") for a in found]})


@route("/v1/admin/compliance", methods=["GET"], authorizer=admin_token)
def compliance():
    """The smart-compliance rate per district and ownership class, and the failing lots with reasons (S14)."""
    district = query_text("district", DISTRICT)
    return json_response(services().compliance.report(principal(), district))


openapi.OPERATIONS.update({
    ("GET", "/v1/admin/district-returns"): ("The districts' share of the platform's returns per half year and what is owed to each (?district=) (S15)", openapi.ADMIN, None, None),
})  # fmt: skip


@route("/v1/admin/district-returns", methods=["GET"], authorizer=admin_token)
def district_returns():
    district = (app.current_request.query_params or {}).get("district")
    return json_response(services().district_returns.report(principal(), district))
