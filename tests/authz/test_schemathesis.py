"""Schemathesis over the API's own OpenAPI document, against the in-process app (chalice.test, the gateway
refusals shaped as in AWS): no 5xx and every response conforms to its documented schema (the Error shape
for every 4xx). Bounded and seeded: 15 generated examples per operation (each sent as a stranger and as the city admin, then with existing ids), derandomized.
On memory stores, one platform for the module (on the embedded AWS it cost ~70 s of CPU); the ids only
DynamoDB refuses (past its key limits, blank) are test_ids_on_dynamodb.py's, on the embedded AWS.

Each operation runs twice: as a stranger, and as the city admin (so the staff routes are reached past the
token check). Signed routes (devices, callbacks) only get their refusals here: test_fuzz_signed.py signs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.transport import Response  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from functions.api import openapi  # noqa: E402
from functions.api.app import app  # noqa: E402

SCHEMA = schemathesis.openapi.from_dict(openapi.document(app))
CHECKS = [not_a_server_error, response_schema_conformance]
KNOWN = {"lot_id": "lx-nanchang-st-01", "device_id": "lx-in1", "operator_id": "wx-city-parking", "adapter": "cn_common",
         "provider": "sandbox", "verb": "pause"}  # records of tests.support.build_city


def _send(api, case, headers: dict) -> Response:
    import json

    path = case.formatted_path
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (case.query or {}).items()}
    body = b""
    if isinstance(case.body, bytes):
        body = case.body
    elif case.body is not None and not type(case.body).__name__ == "NotSet":
        body = json.dumps(case.body, ensure_ascii=False, default=str).encode()
    all_headers = {"Content-Type": "application/json", **{k: str(v) for k, v in (case.headers or {}).items()}, **headers}
    prepared = requests.Request(case.method, "http://api.local" + path, params=query, headers=all_headers, data=body).prepare()
    target = prepared.path_url
    resp = api.request(case.method.upper(), target, headers=all_headers, body=body)
    return Response(status_code=resp.status_code, headers={k: [v] for k, v in resp.headers.items()}, content=resp.body or b"",
                    request=prepared, elapsed=0.0, verify=True)  # fmt: skip


# One platform, city and clock for the module: an operation's examples already shared one, and later
# operations only find more states to answer from.
@pytest.fixture(scope="module")
def clock():
    from shared.clock import ManualClock

    return ManualClock()


@pytest.fixture(scope="module")
def memory(clock):
    from shared import bootstrap
    from tests.conftest import MemoryPlatform

    return MemoryPlatform(clock, bootstrap.configure(clock, bootstrap.memory_stores()))


@pytest.fixture(scope="module")
def city(memory):
    from tests.support import build_city

    return build_city(memory.services.registry)


@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_5xx_and_every_response_matches_the_document(case, api, platform, clock, city):
    from shared import tokens
    from shared.auth import Role

    if case.method.upper() not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        return  # OPTIONS and TRACE are API Gateway's (chalice.test cannot answer them)
    admin = tokens.mint(platform.services.token_key(), subject="fuzz", role=Role.CITY_ADMIN, now=clock.now(), ttl=timedelta(days=1))
    for headers in ({}, {"Authorization": f"Bearer {admin}"}):
        case.validate_response(_send(api, case, headers), checks=CHECKS)
    # and with ids that exist (random ids only ever reach the 404s)
    known = {k: v for k, v in KNOWN.items() if k in (case.path_parameters or {})}
    if known:
        case.path_parameters = {**case.path_parameters, **known}
        case.validate_response(_send(api, case, {"Authorization": f"Bearer {admin}"}), checks=CHECKS)
        case.validate_response(_send(api, case, {}), checks=CHECKS)
