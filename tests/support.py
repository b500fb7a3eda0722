"""Test helpers: a small city and event builders with realistic Wuxi data."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import count

from shared.auth import Principal, Role
from shared.clock import iso
from shared.registry.service import RegistryService

CITY_ADMIN = Principal(subject="test-city", role=Role.CITY_ADMIN)
LIANGXI, XINWU = "320213", "320214"
_ids = count(1)


@dataclass
class City:
    secrets: dict[str, str]
    enclosed: str = "lx-nanchang-st-01"
    street: str = "lx-zhongshan-rd"
    xinwu_lot: str = "xw-taihu-plaza"


def build_city(registry: RegistryService) -> City:
    for op, district in (("wx-city-parking", LIANGXI), ("xinwu-hitech", XINWU)):
        registry.register_operator(CITY_ADMIN, {
            "operator_id": op, "name": op, "credit_code": "91320200MA1XXXXX0A", "ownership": "state_owned",
            "district_code": district, "payout_account_ref": f"acct_{op}"})
    registry.register_lot(CITY_ADMIN, {
        "lot_id": "lx-nanchang-st-01", "name": "南长街停车场", "district_code": LIANGXI, "operator_id": "wx-city-parking",
        "kind": "enclosed", "capacity": 100, "location": {"lat": 31.5589, "lon": 120.3017}})
    registry.register_lot(CITY_ADMIN, {
        "lot_id": "lx-zhongshan-rd", "name": "中山路路内泊位", "district_code": LIANGXI, "operator_id": "wx-city-parking",
        "kind": "on_street", "capacity": 3, "berths": ["ZS001", "ZS002", "ZS003"], "location": {"lat": 31.5800, "lon": 120.3000}})
    registry.register_lot(CITY_ADMIN, {
        "lot_id": "xw-taihu-plaza", "name": "太湖广场停车场", "district_code": XINWU, "operator_id": "xinwu-hitech",
        "kind": "enclosed", "capacity": 50, "location": {"lat": 31.4900, "lon": 120.3600}})
    secrets = {}
    for dev in (
        {"device_id": "lx-in1", "kind": "gate_camera", "lot_id": "lx-nanchang-st-01", "lane": "in-1"},
        {"device_id": "lx-out1", "kind": "gate_camera", "lot_id": "lx-nanchang-st-01", "lane": "out-1"},
        {"device_id": "zs-robot", "kind": "berth_robot", "lot_id": "lx-zhongshan-rd"},
        {"device_id": "xw-in1", "kind": "gate_camera", "lot_id": "xw-taihu-plaza", "lane": "in-1"},
        {"device_id": "gw-liangxi", "kind": "district_gateway", "district_code": LIANGXI},
        {"device_id": "lx-lotsys", "kind": "lot_system", "lot_id": "lx-nanchang-st-01"},  # pushes through an adapter
    ):
        secrets[dev["device_id"]] = registry.register_device(CITY_ADMIN, dev).secret
    return City(secrets=secrets)


def gate_event(kind: str, plate: str, at: datetime, lot: str = "lx-nanchang-st-01", event_id: str | None = None, **extra) -> dict:
    event = {
        "event_id": event_id or f"{kind}-{next(_ids)}",
        "type": kind,
        "lot_id": lot,
        "occurred_at": iso(at),
        "plate": plate,
        "plate_colour": "green" if len(plate) == 8 else "blue",
        "lane": "in-1" if kind == "entry" else "out-1",
        "confidence": 0.97,
    }
    event.update(extra)
    return event


def berth_event(kind: str, plate: str, berth: str, at: datetime, lot: str = "lx-zhongshan-rd", **extra) -> dict:
    event = {
        "event_id": f"{kind}-{next(_ids)}",
        "type": kind,
        "lot_id": lot,
        "occurred_at": iso(at),
        "plate": plate,
        "plate_colour": "blue",
        "berth": berth,
    }
    event.update(extra)
    return event


def price_lot(services, lot_id: str, tariff) -> None:
    """Register ``tariff`` (a shared.tariffs.samples tariff) and make ``lot_id`` charge by it."""
    services.tariffs.put(CITY_ADMIN, tariff.id, {"tariff": tariff.model_dump(mode="json")})
    lot = services.registry.lots.require(lot_id)
    services.registry.update_lot(CITY_ADMIN, lot_id, {**lot.model_dump(mode="json"), "tariff_ref": tariff.id})


class CallbackPoster:
    """Delivers a simulated provider's queued callbacks to the API, as the provider's servers would."""

    def __init__(self, api, provider: str) -> None:
        self.api, self.provider, self.responses = api, provider, []

    def __call__(self, headers: dict, body: bytes) -> None:
        resp = self.api.post(f"/v1/payments/callbacks/{self.provider}", headers={**headers, "Content-Type": "application/json"}, body=body)
        self.responses.append((resp.status_code, resp.body))
        assert resp.status_code == 200, resp.body


def until(condition, what: str, timeout: float = 10.0):
    """Poll (real time, briefly) for something another thread does; returns its value."""
    import time

    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
    return value


def advance_until(stack, condition, what: str, step_s: int = 3600, limit: int = 2000):
    """Move the stack's clock ``step_s`` whenever a workflow sleeps on it, until ``condition()`` holds;
    returns its value. The steps that would wake no sleeper are taken at once (the clock ends where
    step-by-step would have: a day's wait is one move of 24 steps, not 24 moves and 24 reads of the state)."""
    import math
    import time

    for _ in range(limit):
        if value := condition():
            return value
        if stack.clock.sleepers:
            wake = stack.clock.next_wake()
            ahead = (wake - stack.clock.now()).total_seconds() if wake is not None else 0
            stack.clock.advance(step_s * max(1, math.ceil(ahead / step_s)))
        time.sleep(0.003)
    raise AssertionError(f"never happened: {what}")


@contextmanager
def crash_once_after(function_logical: str, action: str):
    """The workflow task function runs, then dies before answering, once, on ``action``: as a Lambda
    killed after its side effects. Yields the list that records the crash."""
    import importlib

    from infra.local import lambda_dispatch
    from shared import resources

    spec = resources.function(function_logical)
    module, attr = spec.handler.rsplit(".", 1)
    real, crashed = getattr(importlib.import_module(module), attr), []

    def crash_once(event, context):
        result = real(event, context)
        if event.get("action") == action and not crashed:
            crashed.append(action)
            raise RuntimeError("the Lambda died before answering")
        return result

    lambda_dispatch.override(spec.name, crash_once)
    try:
        yield crashed
    finally:
        lambda_dispatch.override(spec.name, None)


def pay_later_citizen(services, api, clock, plate: str, lot_id: str, tariff):
    """A registered pay-later citizen of the service window: the lot priced by ``tariff``, consent, ``plate``
    verified, a saved method (sandbox mandate). Returns ``call(method, path, body=None) -> (status, json)``."""
    import json
    from datetime import timedelta

    from shared.tokens import mint

    price_lot(services, lot_id, tariff)
    token = mint(services.token_key(), subject="citizen-1", role=Role.CITIZEN, now=clock.now(), ttl=timedelta(days=400))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        resp = getattr(api, method)(path, headers=headers, body=json.dumps(body or {}))
        return resp.status_code, json.loads(resp.body)

    assert call("post", "/v1/me/account", {"consent": True})[0] == 201
    assert call("post", "/v1/me/plates", {"plate": plate})[0] == 202
    code = services.plate_verifier.sent[plate]
    assert call("post", "/v1/me/plates/verify", {"plate": plate, "code": code})[1]["plates"] == [plate]
    assert call("post", "/v1/me/payment-method")[1]["ready"] is True
    return call
