"""Staff routes for coupons that operators fund (S17): operators for their own lots, city staff for any.
Drivers redeem a coupon on the pay page (``POST /v1/pay/{lot_id}/payments`` with ``coupon``)."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import admin_token, body, dump, parsed, principal, route
from functions.api.staff_requests import VersionRequest
from shared.bootstrap import services


@route("/v1/admin/coupons", methods=["POST"], authorizer=admin_token)
def create_coupon():
    return json_response(dump(services().coupons.create(principal(), body())), 201)


@route("/v1/admin/coupons/{code}", methods=["GET"], authorizer=admin_token)
def get_coupon(code):
    return json_response(dump(services().coupons.get(principal(), code)))


@route("/v1/admin/coupons/{code}/deactivate", methods=["POST"], authorizer=admin_token)
def deactivate_coupon(code):
    who = principal()
    return json_response(dump(services().coupons.deactivate(who, code, parsed(VersionRequest, body()).version)))
