"""Staff views of money: tariffs (收费标准), bills, and the ledger check."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import DISTRICT, admin_token, body, dump, principal, query_text, route
from shared.bootstrap import services
from shared.errors import Forbidden


@route("/v1/admin/tariffs/{tariff_id}", methods=["PUT"], authorizer=admin_token)
def put_tariff(tariff_id):
    return json_response(dump(services().tariffs.put(principal(), tariff_id, body())))


@route("/v1/admin/tariffs/{tariff_id}", methods=["GET"], authorizer=admin_token)
def get_tariff(tariff_id):
    return json_response(dump(services().tariffs.get(principal(), tariff_id)))


@route("/v1/admin/tariffs", methods=["GET"], authorizer=admin_token)
def list_tariffs():
    district = query_text("district", DISTRICT)
    return json_response({"tariffs": [dump(t) for t in services().tariffs.list(principal(), district)]})


@route("/v1/admin/lots/{lot_id}/pay-codes", methods=["GET"], authorizer=admin_token)
def lot_pay_codes(lot_id):
    """The URLs to print as QR codes: one for the lot (drivers type their plate), one per exit lane."""
    svc = services()
    lot = svc.registry.get_lot(principal(), lot_id)
    lanes = sorted({d.lane for d in svc.registry.devices.list(lot_id) if d.lane and d.kind.value == "gate_camera"})
    codes = [{"lane": None, "url": svc.gate.pay_code_url(lot)}] + [{"lane": lane, "url": svc.gate.pay_code_url(lot, lane)} for lane in lanes]
    return json_response({"lot_id": lot_id, "pay_codes": [c for c in codes if c["url"]]})


@route("/v1/admin/bills/{bill_id}", methods=["GET"], authorizer=admin_token)
def get_bill(bill_id):
    bill = services().billing.view(principal(), bill_id)
    return json_response(bill.view() | {"refunds": services().payments.refunds_of(bill)})


@route("/v1/admin/ledger/check", methods=["GET"], authorizer=admin_token)
def ledger_check():
    if not principal().is_city:
        raise Forbidden("the ledger check is for city staff and auditors", code="role_forbidden")
    problems = services().ledger.check()
    return json_response({"sound": not problems, "problems": problems})
