"""Staff: arrears collection queues (S7), contacts, write-offs, and the dispute queue."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import DISTRICT, admin_token, body, dump, parsed, principal, query_text, route
from functions.api.staff_requests import ContactRequest, DisputeDecision, WriteOffRequest
from shared.bootstrap import services


def _case(case) -> dict:
    return dump(case.model_copy(update={"token": None}))


@route("/v1/admin/arrears", methods=["GET"], authorizer=admin_token)
def arrears_queue():
    district = query_text("district", DISTRICT)
    return json_response({"cases": [_case(c) for c in services().arrears.queue(principal(), district)]})


@route("/v1/admin/arrears/{case_id}", methods=["GET"], authorizer=admin_token)
def arrears_case(case_id):
    return json_response(_case(services().arrears.view(principal(), case_id)))


@route("/v1/admin/arrears/{case_id}/contacts", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def record_contact(case_id):
    return json_response(_case(services().arrears.record_contact(principal(), case_id, parsed(ContactRequest, body()).model_dump())))


@route("/v1/admin/arrears/{case_id}/write-off", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def write_off(case_id):
    data = parsed(WriteOffRequest, body())
    case = services().arrears.write_off(principal(), case_id, data.reason, data.approver)
    return json_response(_case(case))


@route("/v1/admin/disputes", methods=["GET"], authorizer=admin_token)
def dispute_queue():
    district = query_text("district", DISTRICT)
    return json_response({"disputes": [dump(d) for d in services().disputes.queue(principal(), district)]})


@route("/v1/admin/disputes/{bill_id}/resolve", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def resolve_dispute(bill_id):
    return json_response(dump(services().disputes.resolve(principal(), bill_id, parsed(DisputeDecision, body()).model_dump(exclude_none=True))))
