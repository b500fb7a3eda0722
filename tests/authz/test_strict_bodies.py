"""Every request field through a strict pydantic model before a service or store sees it (issue 15).

Each case here was accepted before the models (a string taken for a bool, a list stringified into a
contact, ``true`` taken for version 1, an unbounded note) or crashed (``days=²``); now each is a 400 with a
code and nothing is written. The models are also the OpenAPI request schemas."""

from __future__ import annotations

import json

import pytest

from functions.api import openapi
from functions.api.app import app
from shared.auth import Role
from tests.support import gate_event, price_lot
from shared.tariffs.samples import ZHUMADIAN_CLASS1

LX = "320213"
PLATE = "苏B12345"


def call(api, method, path, headers, body):
    resp = getattr(api, method)(path, headers=headers, body=json.dumps(body).encode())
    return resp.status_code, json.loads(resp.body or b"null")


@pytest.fixture
def case(platform, device, clock):
    price_lot(platform.services, "lx-nanchang-st-01", ZHUMADIAN_CLASS1)
    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    clock.advance(3 * 3600)
    device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    (bill,) = platform.services.billing.of_plate(PLATE)
    return platform.services.arrears.open(bill, {})


@pytest.mark.parametrize("body", [{"consent": "false"}, {"consent": 0}, {"consent": True, "role": "city_admin"}])
def test_opening_an_account_takes_a_real_bool(api, bearer, platform, body):
    status, answer = call(api, "post", "/v1/me/account", bearer(Role.CITIZEN, subject="c1"), body)
    assert (status, answer["code"]) == (400, "invalid_request")
    assert platform.services.stores.accounts.get("c1") is None  # nothing written


@pytest.mark.parametrize("body, code", [({"plate": 12345}, "malformed_plate"), ({"plate": "苏B" + "1" * 100}, "malformed_plate"),
                                        ({"plate": PLATE, "code": "123456"}, "invalid_request")])
def test_plate_bodies_are_strict(api, bearer, body, code):
    me = bearer(Role.CITIZEN, subject="c2")
    call(api, "post", "/v1/me/account", me, {"consent": True})
    status, answer = call(api, "post", "/v1/me/plates", me, body)
    assert (status, answer["code"]) == (400, code)
    status, answer = call(api, "post", "/v1/me/plates/verify", me, {"plate": PLATE, "code": 123456})
    assert (status, answer["code"]) == (400, "invalid_request")


@pytest.mark.parametrize("body, code", [
    ({"channel": "phone", "outcome": ["promised"]}, "bad_contact"),
    ({"channel": "phone", "outcome": "ok", "note": "x" * 5000}, "invalid_request"),
    ({"channel": "carrier pigeon", "outcome": "ok"}, "bad_contact"),
])  # fmt: skip
def test_a_contact_is_typed_and_bounded(api, bearer, platform, case, body, code):
    status, answer = call(api, "post", f"/v1/admin/arrears/{case.case_id}/contacts", bearer(Role.DISTRICT_ADMIN, district_code=LX), body)
    assert (status, answer["code"]) == (400, code)
    assert platform.services.arrears._require(case.case_id).history == case.history


def test_a_write_off_names_its_reason_and_approver_as_text(api, bearer, platform, case):
    status, answer = call(api, "post", f"/v1/admin/arrears/{case.case_id}/write-off", bearer(Role.DISTRICT_ADMIN, district_code=LX),
                          {"reason": 5, "approver": True})  # fmt: skip
    assert (status, answer["code"]) == (400, "write_off_incomplete")
    assert platform.services.billing.get(case.bill_id).due_fen > 0  # not written off


@pytest.mark.parametrize("body, code", [
    ({"decision": "upheld", "fair_amount_fen": 400, "note": {"a": 1}}, "invalid_request"),
    ({"decision": "upheld", "fair_amount_fen": "400"}, "bad_amount"),
    ({"decision": "upheld", "fair_amount_fen": 10**30}, "bad_amount"),
    ({"decision": ["upheld"]}, "bad_decision"),
])  # fmt: skip
def test_a_dispute_decision_is_typed_and_bounded(api, bearer, body, code):
    status, answer = call(api, "post", "/v1/admin/disputes/bill_x/resolve", bearer(Role.CITY_ADMIN), body)
    assert (status, answer["code"]) == (400, code)


def test_a_secret_rotation_names_an_integer_version(api, bearer, platform):
    device = platform.services.registry.devices.require("lx-in1")
    status, answer = call(api, "post", "/v1/admin/devices/lx-in1/rotate-secret", bearer(Role.CITY_ADMIN), {"version": True})
    assert (status, answer["code"]) == (400, "version_required")
    assert platform.services.registry.devices.require("lx-in1").version == device.version  # secret not rotated


@pytest.mark.parametrize("path, code", [
    ("/v1/admin/lots/lx-nanchang-st-01/anomalies?days=%C2%B2", "bad_query"),  # ², which isdigit() takes for a digit
    ("/v1/admin/lots?district=" + "3" * 500, "bad_query"),
    ("/v1/admin/arrears?district=x%00", "bad_query"),
    ("/v1/admin/settlements?operator=wx-city-parking&from=yesterday&to=2026-11-02", "bad_query"),
    ("/v1/lots?lat=31.5&lon=120.3&radius_m=1e300", "bad_query"),
    ("/v1/lots?lat=1e300&lon=120.3", "bad_coordinates"),  # a position's own code, as the domain gave it before
])  # fmt: skip
def test_query_parameters_are_bounded(api, bearer, path, code):
    status, answer = call(api, "get", path, bearer(Role.CITY_ADMIN), None)
    assert (status, answer["code"]) == (400, code)


@pytest.mark.parametrize("method, path", [
    ("POST", "/v1/admin/arrears/{case_id}/contacts"), ("POST", "/v1/admin/arrears/{case_id}/write-off"),
    ("POST", "/v1/admin/disputes/{bill_id}/resolve"), ("POST", "/v1/admin/devices/{device_id}/rotate-secret"),
    ("POST", "/v1/admin/coupons/{code}/deactivate"), ("POST", "/v1/me/plates"), ("POST", "/v1/me/bills/{bill_id}/disputes"),
])  # fmt: skip
def test_the_models_are_the_openapi_request_schemas(method, path):
    doc = openapi.document(app)
    schema = doc["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    model = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert model["properties"] and model.get("additionalProperties") is not True
