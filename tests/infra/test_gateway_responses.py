"""Refusals before a view runs answer in the API's one error shape, with the same codes in AWS and locally.

An HTTP API has no gateway responses: a request for no route of ours reaches the app through the
``$default`` route and the app answers it (``TongtingApi``); a missing or bad bearer token is the app's
own 401 (no authorizer). The local stand-in (infra/local/gateway.py) reshapes what Chalice's local gateway
answers before the app runs: the same codes."""

from __future__ import annotations

import json

from chalice.local import ForbiddenError

from infra.local.gateway import GATEWAY_ERRORS, shaped
from tests.infra.cfn import each_stage


def test_the_local_gateway_answers_with_the_apps_codes(api):
    status, _, body = shaped(ForbiddenError({}, b"{}"))
    assert (status, json.loads(body)["code"]) == (403, "route_forbidden")
    unknown = api.get("/v1/no-such-route")
    assert (unknown.status_code, json.loads(unknown.body)["code"]) == (403, "route_forbidden")
    missing = api.get("/v1/admin/lots")  # no Authorization header: the app answers, as in AWS
    assert (missing.status_code, json.loads(missing.body)["code"]) == (401, "token_missing")
    assert set(GATEWAY_ERRORS) == {ForbiddenError}  # no authorizer: nothing else is refused before the app


@each_stage
def test_every_request_reaches_the_app(raw_templates, stage):
    """No route answered by the gateway alone: the $default route goes to the same integration."""
    t = raw_templates[stage]
    routes = [r["Properties"] for r in t["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    assert "$default" in {r["RouteKey"] for r in routes}
    assert len({json.dumps(r["Target"]) for r in routes}) == 1
