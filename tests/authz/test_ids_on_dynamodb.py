"""What the schemathesis run (on memory stores) cannot see: ids that only DynamoDB refuses. Every route with a
path parameter, on the embedded AWS, with ids past DynamoDB's key limits (2,048 bytes), blank, or odd unicode,
as a stranger and as the city admin (past the authorizer, down to the stores): a 4xx in the one error shape or
a 2xx, never a 5xx."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import timedelta

import pytest

from functions.api import openapi
from functions.api.app import app

DOCUMENT = openapi.document(app)
ROUTES = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
          if method in ("get", "post", "put", "delete", "patch") and "{" in path]
IDS = ["x" * 2100, "苏B😀" * 300, " ", "a/b"]


@pytest.fixture(scope="module")
def clock():
    from shared.clock import ManualClock

    return ManualClock()


@pytest.fixture(scope="module")
def stack(clock):
    from infra.local.stack import LocalStack

    with LocalStack(clock) as st:
        yield st


@pytest.fixture(scope="module")
def city(stack):
    from tests.support import build_city

    return build_city(stack.services.registry)


def test_there_are_routes_with_ids():
    assert len(ROUTES) > 40


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_odd_ids_on_dynamodb_are_never_a_5xx(method, path, api, stack, clock, city):
    from shared import tokens
    from shared.auth import Role

    admin = tokens.mint(stack.services.token_key(), subject="ids", role=Role.CITY_ADMIN, now=clock.now(), ttl=timedelta(days=1))
    for ident in IDS:
        url = re.sub(r"\{[^}]+\}", urllib.parse.quote(ident, safe=""), path)
        for headers in ({}, {"Authorization": f"Bearer {admin}"}):
            resp = api.request(method, url, headers={"Content-Type": "application/json", **headers},
                               body=b"{}" if method in ("POST", "PUT", "PATCH") else b"")
            assert resp.status_code < 500, (method, url[:80], resp.status_code, resp.body[:300])
            if resp.status_code >= 400:
                assert "code" in json.loads(resp.body), (method, url[:80], resp.body[:300])
