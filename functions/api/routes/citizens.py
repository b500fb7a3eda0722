"""The service window for citizens (/v1/me): account, consent, plates, pay-later, their bills, disputes."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import admin_token, app, body, dump, parsed, principal, route
from functions.api.me_requests import DisputeRequest, OpenAccountRequest, PlateRequest, VerifyPlateRequest
from shared.bills.paging import BillCursor, page_size
from shared.bootstrap import services
from shared.citizens.model import AccountStatus
from shared.errors import NotFound

STATUS_BY_VERB = {"pause": AccountStatus.PAUSED, "resume": AccountStatus.ACTIVE, "withdraw": AccountStatus.WITHDRAWN}


def _account_view(account) -> dict:
    return dump(services().citizens.with_notices(account))


@route("/v1/me/account", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def open_account():
    return json_response(_account_view(services().citizens.open(principal(), parsed(OpenAccountRequest, body()).consent)), 201)


@route("/v1/me/account", methods=["GET"], authorizer=admin_token)
def my_account():
    return json_response(_account_view(services().citizens.get(principal())))


@route("/v1/me/consent", methods=["POST"], authorizer=admin_token)
def give_consent():
    return json_response(_account_view(services().citizens.consent(principal())))


@route("/v1/me/pay-later/{verb}", methods=["POST"], authorizer=admin_token)
def pay_later_status(verb):
    if verb not in STATUS_BY_VERB:
        raise NotFound("pause, resume or withdraw", code="unknown_action")
    return json_response(_account_view(services().citizens.set_status(principal(), STATUS_BY_VERB[verb])))


@route("/v1/me/plates", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def add_plate():
    return json_response(services().citizens.add_plate(principal(), parsed(PlateRequest, body()).plate), 202)


@route("/v1/me/plates/verify", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def verify_plate():
    data = parsed(VerifyPlateRequest, body())
    return json_response(_account_view(services().citizens.verify_plate(principal(), data.plate, data.code)))


@route("/v1/me/plates/remove", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def remove_plate():
    return json_response(_account_view(services().citizens.remove_plate(principal(), parsed(PlateRequest, body()).plate)))


@route("/v1/me/payment-method", methods=["POST"], authorizer=admin_token)
def save_payment_method():
    return json_response(services().citizens.save_method(principal()), 201)


@route("/v1/me/bills", methods=["GET"], authorizer=admin_token)
def my_bills():
    """The newest bills first, a page at a time (``?limit=``, default 4; ``?cursor=`` the previous page's
    ``next_cursor``, None on the last page); the open arrears with every page."""
    svc = services()
    q = app.current_request.query_params or {}
    after = BillCursor.decode(q["cursor"]) if "cursor" in q else None
    limit = page_size(q.get("limit"))
    account = svc.citizens.get(principal())
    page, more = svc.billing.page_of_plates(account.plates, account.owns_bill, limit, after)
    bills = [b.view() | {"refunds": svc.payments.refunds_of(b)} for b in page]
    cases = [dump(c.model_copy(update={"token": None})) for plate in account.plates for c in svc.arrears.open_cases(plate)]
    return json_response({"bills": bills, "arrears": cases, "next_cursor": more.encode() if more else None})


@route("/v1/me/bills/{bill_id}/disputes", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def dispute_bill(bill_id):
    return json_response(dump(services().disputes.open(principal(), bill_id, parsed(DisputeRequest, body()).model_dump(mode="json"))), 201)
