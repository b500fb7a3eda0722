"""The admin registry over HTTP: bearer tokens, district scoping, versioned updates."""

import json
from datetime import timedelta

import pytest

from shared import tokens
from shared.auth import Role

LOT = {"lot_id": "lx-new-lot", "name": "新停车场", "district_code": "320213", "operator_id": "wx-city-parking",
       "kind": "enclosed", "capacity": 40, "location": {"lat": 31.56, "lon": 120.30}}


@pytest.fixture
def token(platform, clock, city):
    def make(role: Role, district: str | None = None, operator: str | None = None, **kw) -> dict:
        t = tokens.mint(platform.services.token_key(), subject=f"{role.value}-user", role=role, now=clock.now(),
                        district_code=district, operator_id=operator, **kw)
        return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}

    return make


def call(api, method, path, headers=None, body=None):
    resp = getattr(api, method)(path, headers=headers or {}, body=json.dumps(body).encode() if body is not None else b"")
    return resp.status_code, json.loads(resp.body or b"null")


def test_missing_bad_and_expired_tokens_are_401_with_codes(api, token, clock):
    # No header at all: the gateway (API Gateway, or Chalice's local one) refuses before the app runs.
    assert call(api, "get", "/v1/admin/lots")[0] == 401
    assert call(api, "get", "/v1/admin/lots", {"Authorization": "Bearer nonsense"}) == (
        401, {"code": "token_malformed", "message": "malformed bearer token"})
    expired = token(Role.CITY_ADMIN, ttl=timedelta(minutes=1))
    clock.advance(minutes=2)
    assert call(api, "get", "/v1/admin/lots", expired)[1]["code"] == "token_expired"


def test_district_staff_register_only_in_their_district(api, token):
    liangxi = token(Role.DISTRICT_ADMIN, district="320213")
    status, lot = call(api, "post", "/v1/admin/lots", liangxi, LOT)
    assert status == 201 and lot["version"] == 1
    status, body = call(api, "post", "/v1/admin/lots", liangxi, LOT | {"lot_id": "bh-lot", "district_code": "320211"})
    assert (status, body["code"]) == (403, "district_forbidden")


def test_district_staff_see_only_their_district(api, token):
    xinwu = token(Role.DISTRICT_ADMIN, district="320214")
    status, body = call(api, "get", "/v1/admin/lots", xinwu)
    assert status == 200 and {lot["lot_id"] for lot in body["lots"]} == {"xw-taihu-plaza"}
    assert call(api, "get", "/v1/admin/lots/lx-nanchang-st-01", xinwu)[0] == 403
    assert call(api, "get", "/v1/admin/lots?district=320213", xinwu)[0] == 403
    city = token(Role.CITY_ADMIN)
    assert len(call(api, "get", "/v1/admin/lots", city)[1]["lots"]) == 3


def test_stale_version_update_is_409(api, token):
    city = token(Role.CITY_ADMIN)
    call(api, "post", "/v1/admin/lots", city, LOT)
    status, v2 = call(api, "put", "/v1/admin/lots/lx-new-lot", city, LOT | {"capacity": 45, "version": 1})
    assert status == 200 and v2["version"] == 2
    status, body = call(api, "put", "/v1/admin/lots/lx-new-lot", city, LOT | {"capacity": 50, "version": 1})
    assert (status, body["code"]) == (409, "version_conflict")
    assert call(api, "get", "/v1/admin/lots/lx-new-lot", city)[1]["capacity"] == 45


def test_duplicate_registration_is_409(api, token):
    city = token(Role.CITY_ADMIN)
    call(api, "post", "/v1/admin/lots", city, LOT)
    assert call(api, "post", "/v1/admin/lots", city, LOT)[1]["code"] == "already_exists"


def test_invalid_records_are_400_with_field_errors(api, token):
    city = token(Role.CITY_ADMIN)
    status, body = call(api, "post", "/v1/admin/lots", city, LOT | {"district_code": "110101", "capacity": -1})
    assert status == 400 and body["code"] == "invalid_record"
    assert {e["field"] for e in body["details"]["errors"]} >= {"district_code", "capacity"}


def test_jiangyin_and_yixing_enclosed_lots_keep_their_legacy_pay_code(api, token):
    city = token(Role.CITY_ADMIN)
    jiangyin = LOT | {"lot_id": "jy-lot", "district_code": "320281"}
    assert call(api, "post", "/v1/admin/lots", city, jiangyin)[1]["code"] == "legacy_pay_code_required"
    assert call(api, "post", "/v1/admin/lots", city, jiangyin | {"pay_codes": ["unified", "legacy"]})[0] == 201


def test_device_registration_returns_secret_once_and_stores_it_encrypted(api, token, stack):
    from shared.adapters.dynamo.models import DeviceItem

    city = token(Role.CITY_ADMIN)
    status, body = call(api, "post", "/v1/admin/devices", city,
                        {"device_id": "lx-in2", "kind": "gate_camera", "lot_id": "lx-nanchang-st-01", "lane": "in-2"})
    assert status == 201 and len(body["secret"]) >= 32 and body["device"]["district_code"] == "320213"
    stored = DeviceItem.get("lx-in2")
    assert body["secret"] not in json.dumps(stored.attribute_values, default=str)
    assert "secret" not in call(api, "get", "/v1/admin/devices/lx-in2", city)[1]


def test_operators_and_auditors_cannot_change_the_registry(api, token):
    for headers in (token(Role.OPERATOR, operator="wx-city-parking"), token(Role.AUDITOR)):
        status, body = call(api, "post", "/v1/admin/lots", headers, LOT)
        assert (status, body["code"]) == (403, "role_forbidden")
    operator = token(Role.OPERATOR, operator="xinwu-hitech")
    assert {lot["lot_id"] for lot in call(api, "get", "/v1/admin/lots", operator)[1]["lots"]} == {"xw-taihu-plaza"}


def test_district_staff_read_sessions_of_their_district_only(api, token, device, clock):
    from tests.support import gate_event

    ack = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))[1]["acks"][0]
    path = f"/v1/admin/sessions/{ack['session_id']}"
    assert call(api, "get", path, token(Role.DISTRICT_ADMIN, district="320213"))[0] == 200
    assert call(api, "get", path, token(Role.DISTRICT_ADMIN, district="320214"))[0] == 404  # a session of another district answers as absent (shared/access.py)


def test_device_last_seen_is_for_district_staff_not_the_public(api, token, device, clock):
    device("lx-in1").post({"event_id": "hb", "type": "heartbeat", "lot_id": "lx-nanchang-st-01",
                           "occurred_at": clock.now().isoformat()})
    status, body = call(api, "get", "/v1/admin/lots/lx-nanchang-st-01/status", token(Role.DISTRICT_ADMIN, district="320213"))
    assert status == 200 and set(body["devices_last_seen"]) == {"lx-in1"}
    assert call(api, "get", "/v1/admin/lots/lx-nanchang-st-01/status", token(Role.DISTRICT_ADMIN, district="320214"))[0] == 403
    assert "devices_last_seen" not in call(api, "get", "/v1/lots/lx-nanchang-st-01")[1]
