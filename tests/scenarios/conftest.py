"""Fixtures of the service-scenario tests: bearer tokens by role and a citizen with a verified plate."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared import tokens
from shared.auth import Role

CITIZEN_PLATE = "苏B12345"


@pytest.fixture
def token(platform, clock, city):
    """Memory stores unless the test names ``stack`` (tests/conftest.py)."""

    def make(role: Role, district: str | None = None, operator: str | None = None, subject: str | None = None) -> dict:
        t = tokens.mint(platform.services.token_key(), subject=subject or f"{role.value}-user", role=role, now=clock.now(),
                        district_code=district, operator_id=operator, ttl=timedelta(days=400))
        return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}

    return make


@pytest.fixture
def call(api):
    def do(method: str, path: str, headers: dict | None = None, body=None):
        kw = {"headers": headers or {"Content-Type": "application/json"}}
        if body is not None:
            kw["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
        resp = getattr(api, method)(path, **kw)
        return resp.status_code, json.loads(resp.body or b"null")

    return do


@pytest.fixture
def citizen(platform, call, token):
    """citizen-1 with 苏B12345 verified on their account; returns their headers."""
    headers = token(Role.CITIZEN, subject="citizen-1")
    assert call("post", "/v1/me/account", headers, {"consent": True})[0] == 201
    assert call("post", "/v1/me/plates", headers, {"plate": CITIZEN_PLATE})[0] == 202
    code = platform.services.plate_verifier.sent[CITIZEN_PLATE]
    assert call("post", "/v1/me/plates/verify", headers, {"plate": CITIZEN_PLATE, "code": code})[0] == 200
    return headers


def pay_through_pay_code(services, api, bill_id: str, deliveries: int = 1):
    """Pay a bill as a citizen does (``POST /v1/bills/{bill_id}/payments``, WeChat Pay through the sandbox),
    the provider approving it and delivering its callback ``deliveries`` times; returns the callbacks' outcomes."""
    from tests.support import CallbackPoster

    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"channel": "wechat_pay"}))
    assert resp.status_code == 201, resp.body
    sandbox = services.providers["sandbox"]
    sandbox.configure(duplicates=deliveries - 1)
    sandbox.approve(services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    poster = CallbackPoster(api, "sandbox")
    sandbox.deliver(poster)
    return [json.loads(body)["outcome"] for _, body in poster.responses]
