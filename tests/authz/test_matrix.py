"""Every route of the OpenAPI document against every role, own and other's records (tests/authz/matrix.py
holds the expected outcomes); and every staff list shows exactly what the single read of each record
allows, so a list can never show more than a read. Access rules live in the services and routes, above
the stores, so the matrix runs on the in-memory stores (one world per module)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest

from shared import tokens
from shared.auth import Role
from shared.clock import ManualClock
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.authz.matrix import MATRIX, ROLES
from tests.support import CITY_ADMIN, LIANGXI, XINWU, build_city, gate_event, price_lot

PLATE = "苏B12345"
CLAIMS = {
    "city": (Role.CITY_ADMIN, {}), "lx": (Role.DISTRICT_ADMIN, {"district_code": LIANGXI}),
    "xw": (Role.DISTRICT_ADMIN, {"district_code": XINWU}), "lxp": (Role.DISTRICT_PLATFORM, {"district_code": LIANGXI}),
    "op": (Role.OPERATOR, {"operator_id": "wx-city-parking"}), "aud": (Role.AUDITOR, {}),
    "alice": (Role.CITIZEN, {}), "bob": (Role.CITIZEN, {}),
}  # fmt: skip


@dataclass
class World:
    api: object
    clock: ManualClock
    services: object
    headers: dict[str, dict]
    lx_lot: str = "lx-nanchang-st-01"
    lx_operator: str = "wx-city-parking"
    lx_device: str = "lx-in1"
    spare_device: str = "lx-spare"
    tariff_id: str = ZHUMADIAN_CLASS1.id
    lx_session: str = ""
    lx_bill: str = ""
    lx_case: str = ""
    coupon: str = "LX-WELCOME"
    lx_offer: str = "lx-nights"  # a shared-parking offer of the operator's lot

    def body(self, name: str | None):
        now = self.clock.now()
        reg = self.services.registry
        bodies = {
            "event": {"event_id": "e-1", "type": "heartbeat", "lot_id": self.lx_lot, "occurred_at": now.isoformat()},
            "new_operator": {"operator_id": "lx-new-op", "name": "新运营", "credit_code": "91320200MA1XXXXX0A", "ownership": "social",
                             "district_code": LIANGXI, "payout_account_ref": "acct_new"},
            "operator_change": {**reg.operators.require(self.lx_operator).model_dump(mode="json"), "name": "改名"},
            "new_lot": {"lot_id": "lx-new-lot", "name": "新停车场", "district_code": LIANGXI, "operator_id": self.lx_operator,
                        "kind": "enclosed", "capacity": 40, "location": {"lat": 31.56, "lon": 120.30}},
            "lot_change": {**reg.lots.require(self.lx_lot).model_dump(mode="json"), "name": "南长街停车场(改)"},
            "new_device": {"device_id": "lx-new-cam", "kind": "gate_camera", "lot_id": self.lx_lot, "lane": "in-2"},
            "device_change": {"version": reg.devices.require(self.spare_device).version, "lane": "in-9"},
            "new_tariff": {"district_code": LIANGXI, "tariff": ZHUMADIAN_CLASS1.model_dump(mode="json")},
            "payment": {"bill_id": self.lx_bill, "channel": "alipay"},
            "new_coupon": {"code": "LX-NEW", "operator_id": self.lx_operator, "kind": "amount_off", "amount_fen": 100,
                           "valid_from": now.isoformat(), "valid_until": (now + timedelta(days=7)).isoformat(), "max_redemptions": 10},
            "coupon_change": {"version": 1},
            "consent": {"consent": True},
            "empty": {},
            "other_plate": {"plate": "苏B99999"},
            "wrong_code": {"plate": "苏B99999", "code": "000000"},
            "contact": {"channel": "phone", "outcome": "no answer"},
            "dispute": {"reason": "missed_exit", "detail": "I left at noon"},
            "decision": {"decision": "rejected", "note": "exit photo matches"},
            "write_off": {"reason": "vehicle deregistered", "approver": "chief"},
        }  # fmt: skip
        return None if name is None else bodies[name]

    def call(self, role: str, method: str, path: str, body=None):
        headers = {"Content-Type": "application/json", **self.headers.get(role, {})}
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        resp = getattr(self.api, method.lower())(path, headers=headers, body=data)
        if resp.status_code < 400 and not resp.headers.get("Content-Type", "").startswith("application/json"):
            return resp.status_code, None  # a page (the web app): its data comes through the API rows
        return resp.status_code, json.loads(resp.body or b"null")


@pytest.fixture(scope="module")
def world():
    from chalice.test import Client

    from functions.api.app import app
    from infra.local.gateway import shape_test_client
    from shared import bootstrap
    from tests.conftest import DevicePoster

    clock = ManualClock()
    svc = bootstrap.configure(clock, bootstrap.memory_stores())  # access rules live above the stores
    with Client(app) as client:
        api = shape_test_client(client.http)
        city = build_city(svc.registry)
        svc.registry.register_device(CITY_ADMIN, {"device_id": "lx-spare", "kind": "gate_camera", "lot_id": "lx-nanchang-st-01", "lane": "in-3"})
        price_lot(svc, "lx-nanchang-st-01", ZHUMADIAN_CLASS1)
        headers = {}
        for role, (r, claims) in CLAIMS.items():
            t = tokens.mint(svc.token_key(), subject=f"{role}-user", role=r, now=clock.now(), ttl=timedelta(days=30), **claims)
            headers[role] = {"Authorization": f"Bearer {t}"}
        w = World(api=api, clock=clock, services=svc, headers=headers)
        for who in ("alice", "bob"):
            assert w.call(who, "POST", "/v1/me/account", {"consent": True})[0] in (200, 201)
        w.call("alice", "POST", "/v1/me/plates", {"plate": PLATE})
        assert w.call("alice", "POST", "/v1/me/plates/verify", {"plate": PLATE, "code": svc.plate_verifier.sent[PLATE]})[0] == 200
        clock.advance(60)
        ack = DevicePoster(api, clock, "lx-in1", city.secrets["lx-in1"]).post(gate_event("entry", PLATE, clock.now()))[1]["acks"][0]
        clock.advance(3 * 3600)
        DevicePoster(api, clock, "lx-out1", city.secrets["lx-out1"]).post(gate_event("exit", PLATE, clock.now()))
        (bill,) = svc.billing.of_plate(PLATE)
        w.lx_session, w.lx_bill = ack["session_id"], bill.bill_id
        w.lx_case = svc.arrears.open(bill, {}).case_id
        svc.coupons.create(CITY_ADMIN, {**w.body("new_coupon"), "code": w.coupon})
        svc.sharing.create_offer(CITY_ADMIN, {"offer_id": w.lx_offer, "name": "夜间共享", "lot_ids": [w.lx_lot], "spaces": 2,
                                              "monthly_fee_fen": 15000, "windows": [{"weekdays": [1], "start": "19:00", "end": "07:30"}]})
        # the other district's own records, so that lists have something to leave out
        price_lot(svc, "xw-taihu-plaza", ZHUMADIAN_CLASS1.model_copy(update={"id": "xw-tariff"}))
        yield w


def _operations() -> set[tuple[str, str]]:
    from functions.api import openapi
    from functions.api.app import app

    doc = openapi.document(app)
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def test_every_route_has_a_row():
    operations = _operations()
    assert sorted(operations - set(MATRIX)) == [], "add a row to tests/authz/matrix.py for each new route"
    assert sorted(set(MATRIX) - operations) == [], "a row of tests/authz/matrix.py names a route that no longer exists"


def _outcome(expected: str, status: int, body) -> bool:
    if expected == "ok":
        return 200 <= status < 300
    if expected == "pass":
        return status not in (401, 403) and status < 500
    return status == int(expected)


@pytest.mark.parametrize("operation", list(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_route_by_role(world, operation):
    method, template = operation
    row = MATRIX[operation]
    path = template
    for name, source in row.params.items():
        value = source[1:] if source.startswith("=") else getattr(world, source)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    if row.query:
        path += "?" + row.query
    expected = row.outcomes()
    refused_first = sorted(ROLES, key=lambda r: expected[r] in ("ok", "pass"))
    wrong = []
    for role in refused_first:
        status, body = world.call(role, method, path, world.body(row.body))
        if not _outcome(expected[role], status, body):
            wrong.append(f"{role}: expected {expected[role]}, got {status} {body if status >= 400 else ''}")
        if status >= 400:
            assert isinstance(body, dict) and isinstance(body.get("code"), str) and "message" in body, (role, status, body)
    assert wrong == [], f"{method} {template}:\n  " + "\n  ".join(wrong)


# Lists filter by the single read's rule: (list path, key of the list, id field, single-read path)
LISTS = [
    ("/v1/admin/lots", "lots", "lot_id", "/v1/admin/lots/{}"),
    ("/v1/admin/operators", "operators", "operator_id", "/v1/admin/operators/{}"),
    ("/v1/admin/arrears", "cases", "case_id", "/v1/admin/arrears/{}"),
]


@pytest.mark.parametrize("listing", LISTS, ids=lambda x: x[0])
def test_lists_show_exactly_what_single_reads_allow(world, listing):
    list_path, key, id_field, read_path = listing
    svc = world.services
    every = {"lots": [lot.lot_id for lot in svc.registry.lots.list()],
             "operators": [o.operator_id for o in svc.registry.operators.list()],
             "cases": [world.lx_case]}[key]  # fmt: skip
    for role in ROLES:
        if role in ("alice", "bob", "anon"):
            continue
        status, body = world.call(role, "GET", list_path)
        assert status == 200, (role, body)
        listed = {item[id_field] for item in body[key]}
        readable = {i for i in every if world.call(role, "GET", read_path.format(quote(i, safe="")))[0] == 200}
        assert listed == readable, f"{role}: listed {sorted(listed)} but may read {sorted(readable)}"
