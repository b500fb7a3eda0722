"""Fuzzing what schemathesis cannot sign: correctly signed device requests and provider callbacks with
arbitrary JSON (and near-valid events with one field mutated). Whatever the content, the answer is a 2xx
or a 4xx in the one error shape, never a 5xx, and a rejected event never costs its batch's good events.

Bounded and seeded (derandomize): a few hundred examples, seconds on the shared machine."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.adapters.payments import signed_callbacks
from shared.protocol import signing
from tests.support import gate_event

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)
FIELDS = ["event_id", "type", "lot_id", "occurred_at", "plate", "plate_colour", "lane", "confidence", "berth",
          "total", "free", "amount_fen", "legacy_ref", "etc_obu", "vehicle_class", "events"]


def _shape_ok(status: int, body) -> bool:
    if status >= 500:
        return False
    if status >= 400:
        return isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)
    return True


def _post_signed(api, clock, device_id: str, secret: str, payload, path="/v1/events"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = signing.signed_headers(device_id, secret, raw, int(clock.now().timestamp()))
    headers["X-Nonce"] = uuid.uuid4().hex
    headers["X-Signature"] = signing.sign(secret, headers["X-Timestamp"], headers["X-Nonce"], raw)
    resp = api.post(path, headers={**headers, "Content-Type": "application/json"}, body=raw)
    return resp.status_code, json.loads(resp.body or b"null")


@pytest.fixture
def signed(api, clock, city):
    return lambda payload, device="lx-in1", path="/v1/events": _post_signed(api, clock, device, city.secrets[device], payload, path)


@SETTINGS
@given(payload=json_values)
def test_any_signed_json_to_events_is_answered(signed, payload):
    status, body = signed(payload)
    assert _shape_ok(status, body), (status, body)


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=json_values, device=st.sampled_from(["lx-in1", "gw-liangxi", "zs-robot"]))
def test_a_mutated_event_rejects_only_itself(signed, clock, field, value, device):
    good = gate_event("entry", "苏B12345", clock.now(), event_id=f"good-{uuid.uuid4().hex[:12]}")
    bad = {**gate_event("entry", "苏B54321", clock.now()), field: value}
    status, body = signed({"events": [bad, good]}, device=device)
    assert _shape_ok(status, body), (status, body)
    if status == 200 and device == "lx-in1":
        assert body["acks"][1]["status"] in ("accepted", "duplicate"), body


@SETTINGS
@given(payload=json_values, adapter=st.sampled_from(["cn_common", "nope", "x" * 200]))
def test_any_signed_push_to_the_lot_system_route_is_answered(signed, payload, adapter):
    status, body = signed(payload, device="lx-lotsys", path=f"/v1/lot-systems/{adapter}/events")
    assert _shape_ok(status, body), (status, body)


@SETTINGS
@given(
    event_type=st.sampled_from(["payment.succeeded", "payment.failed", "refund.succeeded", "setup.succeeded", "other"]),
    data=st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "ref": json_values, "payment_id": json_values, "amount_fen": json_values, "decline_code": json_values,
        "payment_method_ref": json_values, "customer_ref": json_values})),
    created=st.one_of(st.integers(min_value=-(2**64), max_value=2**64), st.floats(), st.text(max_size=5), st.none()),
    event_id=json_values,
    whole=st.booleans(),
    other=json_values,
)
def test_any_signed_sandbox_callback_is_answered(api, stack, clock, city, event_type, data, created, event_id, whole, other):
    sandbox = stack.services.providers["sandbox"]
    event = other if whole else {"id": event_id, "type": event_type, "created": created, "data": data}
    raw = json.dumps(event, allow_nan=True).encode()
    sig = signed_callbacks.sign(sandbox.webhook_secret, raw, int(clock.now().timestamp()))
    resp = api.post("/v1/payments/callbacks/sandbox", headers={"X-Sandbox-Signature": sig, "Content-Type": "application/json"}, body=raw)
    assert _shape_ok(resp.status_code, json.loads(resp.body or b"null")), (resp.status_code, resp.body)


@SETTINGS
@given(note=json_values, result=st.sampled_from(["success", "failure", "other"]), amount=json_values, when=json_values)
def test_any_signed_etc_notification_is_answered(api, stack, clock, city, note, result, amount, when):
    etc = stack.services.providers["etc"]
    event = note if isinstance(note, dict) and note else {"notify_id": "n1", "result": result, "time": when, "amount_fen": amount,
                                                         "issuer_ref": "x", "deduction_id": "d"}  # fmt: skip
    raw = json.dumps(event).encode()
    sig = signed_callbacks.sign(etc._secret, raw, int(clock.now().timestamp()))
    resp = api.post("/v1/payments/callbacks/etc", headers={"X-ETC-Signature": sig, "Content-Type": "application/json"}, body=raw)
    assert _shape_ok(resp.status_code, json.loads(resp.body or b"null")), (resp.status_code, resp.body)
