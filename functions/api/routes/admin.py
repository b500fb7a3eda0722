"""The admin registry (备案): city staff anywhere, district staff in their district."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import DISTRICT, admin_token, body, dump, parsed, principal, query_text, route
from functions.api.staff_requests import VersionRequest
from shared.bootstrap import services
from shared.registry.model import CITY_CODE


# Admin registry (备案): city staff anywhere, district staff in their district
@route("/v1/admin/districts", methods=["GET"], authorizer=admin_token)
def list_districts():
    districts = services().registry.districts(principal())
    return json_response({"city": CITY_CODE, "districts": [{"code": c, "name": n} for c, n in districts.items()]})


@route("/v1/admin/operators", methods=["POST"], authorizer=admin_token)
def register_operator():
    return json_response(dump(services().registry.register_operator(principal(), body())), 201)


@route("/v1/admin/operators", methods=["GET"], authorizer=admin_token)
def list_operators():
    return json_response({"operators": [dump(o) for o in services().registry.list_operators(principal())]})


@route("/v1/admin/operators/{operator_id}", methods=["GET"], authorizer=admin_token)
def get_operator(operator_id):
    return json_response(dump(services().registry.get_operator(principal(), operator_id)))


@route("/v1/admin/operators/{operator_id}", methods=["PUT"], authorizer=admin_token)
def update_operator(operator_id):
    return json_response(dump(services().registry.update_operator(principal(), operator_id, body())))


@route("/v1/admin/lots", methods=["POST"], authorizer=admin_token)
def register_lot():
    return json_response(dump(services().registry.register_lot(principal(), body())), 201)


@route("/v1/admin/lots", methods=["GET"], authorizer=admin_token)
def list_lots():
    district = query_text("district", DISTRICT)
    return json_response({"lots": [dump(lot) for lot in services().registry.list_lots(principal(), district)]})


@route("/v1/admin/lots/{lot_id}", methods=["GET"], authorizer=admin_token)
def get_lot(lot_id):
    return json_response(dump(services().registry.get_lot(principal(), lot_id)))


@route("/v1/admin/lots/{lot_id}", methods=["PUT"], authorizer=admin_token)
def update_lot(lot_id):
    return json_response(dump(services().registry.update_lot(principal(), lot_id, body())))


@route("/v1/admin/lots/{lot_id}/status", methods=["GET"], authorizer=admin_token)
def supervised_lot_status(lot_id):
    return json_response(services().availability.supervised(principal(), lot_id).as_json())


@route("/v1/admin/lots/{lot_id}/devices", methods=["GET"], authorizer=admin_token)
def list_lot_devices(lot_id):
    return json_response({"devices": [dump(d) for d in services().registry.list_devices(principal(), lot_id)]})


@route("/v1/admin/devices", methods=["POST"], authorizer=admin_token)
def register_device():
    return json_response(dump(services().registry.register_device(principal(), body())), 201)


@route("/v1/admin/devices/{device_id}", methods=["GET"], authorizer=admin_token)
def get_device(device_id):
    return json_response(dump(services().registry.get_device(principal(), device_id)))


@route("/v1/admin/devices/{device_id}", methods=["PUT"], authorizer=admin_token)
def update_device(device_id):
    return json_response(dump(services().registry.update_device(principal(), device_id, body())))


@route("/v1/admin/devices/{device_id}/rotate-secret", methods=["POST"], authorizer=admin_token)
def rotate_device_secret(device_id):
    version = parsed(VersionRequest, body()).version
    return json_response(dump(services().registry.rotate_secret(principal(), device_id, version)))


@route("/v1/admin/sessions/{session_id}", methods=["GET"], authorizer=admin_token)
def get_session(session_id):
    return json_response(dump(services().sessions.view(principal(), session_id)))
