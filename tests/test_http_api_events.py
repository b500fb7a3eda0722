"""The app behind an HTTP API (API Gateway v2, Lambda payload format 1.0), called as Lambda calls it:
``app(event, context)`` with events of the documented 1.0 shape (docs.aws.amazon.com/apigateway/latest/
developerguide/http-api-develop-integrations-lambda.html). Chalice dispatches on
``requestContext.resourcePath``; the route's template is also taken from ``routeKey``, so routing holds
whichever of the two AWS fills with the template. Bearer tokens are verified by the app itself (no
gateway authorizer): the same codes as through the local gateway."""

from __future__ import annotations

import json

import pytest

from shared import tokens
from shared.auth import Role

LX = "320213"


def http_api_event(method: str, route: str | None, path: str, *, headers=None, params=None, query=None,
                   body: str | None = None, resource_path: str | None = None) -> dict:
    """An HTTP API 1.0 event: ``route`` is the route's key path (None: the ``$default`` route)."""
    headers = {"content-type": "application/json", "host": "api.example.com", **(headers or {})}
    route_key = f"{method} {route}" if route else "$default"
    resource = resource_path if resource_path is not None else (route or path)
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3", "authorizer": {"claims": None, "scopes": None},
            "domainName": "a1b2c3.execute-api.cn-north-1.amazonaws.com.cn", "domainPrefix": "a1b2c3",
            "extendedRequestId": "Xy1=", "httpMethod": method,
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "test", "accessKey": None, "accountId": None,
                         "caller": None, "cognitoIdentityId": None, "user": None, "userArn": None},
            "path": path, "protocol": "HTTP/1.1", "requestId": "req-1=", "requestTime": "01/Dec/2026:06:00:00 +0000",
            "requestTimeEpoch": 1796104800000, "resourceId": None, "resourcePath": resource,
            "routeKey": route_key, "stage": "$default",
        },
        "pathParameters": params,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": False,
    }  # fmt: skip


@pytest.fixture
def call(platform, city):
    from functions.api.app import app

    def invoke(event: dict) -> tuple[int, dict]:
        response = app(event, None)
        return response["statusCode"], json.loads(response["body"] or "null")

    return invoke


@pytest.fixture
def admin(platform, clock):
    token = tokens.mint(platform.services.token_key(), subject="lx-admin", role=Role.DISTRICT_ADMIN, now=clock.now(),
                        district_code=LX)  # fmt: skip
    return {"authorization": f"Bearer {token}"}


def test_a_route_with_a_path_parameter(call, city):
    lot = city.enclosed
    status, body = call(http_api_event("GET", "/v1/lots/{lot_id}", f"/v1/lots/{lot}", params={"lot_id": lot}))
    assert status == 200 and body["lot_id"] == lot


def test_the_route_comes_from_the_route_key_whatever_the_resource_path_holds(call, city):
    lot = city.enclosed
    event = http_api_event("GET", "/v1/lots/{lot_id}", f"/v1/lots/{lot}", params={"lot_id": lot},
                           resource_path=f"/v1/lots/{lot}")  # fmt: skip
    status, body = call(event)
    assert status == 200 and body["lot_id"] == lot


def test_query_parameters_and_an_unknown_id(call):
    status, body = call(http_api_event("GET", "/v1/lots/{lot_id}", "/v1/lots/nope", params={"lot_id": "nope"}))
    assert status == 404 and body["code"] == "unknown_lot"


def test_bearer_tokens_are_verified_by_the_app(call, admin, city):
    lot = city.enclosed
    route, path, params = "/v1/admin/lots/{lot_id}", f"/v1/admin/lots/{lot}", {"lot_id": lot}
    assert call(http_api_event("GET", route, path, params=params))[1]["code"] == "token_missing"
    refused = call(http_api_event("GET", route, path, params=params, headers={"authorization": "Basic x"}))
    assert refused == (401, refused[1]) and refused[1]["code"] == "token_malformed"
    status, body = call(http_api_event("GET", route, path, params=params, headers={"authorization": "Bearer abc"}))
    assert status == 401 and body["code"].startswith("token_")
    status, body = call(http_api_event("GET", route, path, params=params, headers=admin))
    assert status == 200 and body["lot_id"] == lot


def test_the_token_is_checked_before_the_media_type(call):
    event = http_api_event("POST", "/v1/admin/lots", "/v1/admin/lots", headers={"content-type": "text/plain"}, body="x")
    status, body = call(event)
    assert (status, body["code"]) == (401, "token_missing")


def test_the_default_route_answers_route_forbidden_in_the_error_shape(call):
    from functions.api.app import app

    before = set(app.routes)
    for event in (http_api_event("GET", None, "/wp-login.php"), http_api_event("GET", None, "/openapiXjson")):
        status, body = call(event)
        assert (status, body["code"]) == (403, "route_forbidden") and body["message"]
    assert set(app.routes) == before  # an unknown path is not added to Chalice's route table


def test_a_known_path_with_a_method_it_lacks_is_405_as_it_is_locally(call, api):
    """In AWS such a request reaches the ``$default`` route; the app finds the path's route itself."""
    staged = http_api_event("DELETE", None, "/api/v1/lots/lx-1")
    staged["requestContext"]["stage"] = "api"  # a stage's path carries its name, unless behind a custom domain
    for event in (http_api_event("DELETE", None, "/v1/lots"), staged):
        status, body = call(event)
        assert (status, body["code"]) == (405, "method_not_allowed") and "GET" in body["message"]
    local = api.delete("/v1/lots")
    assert local.status_code == 405 and json.loads(local.body)["code"] == "method_not_allowed"


def test_a_body_over_the_protocol_limit_is_refused_by_the_app(call, admin):
    """No web ACL in front of the HTTP API: the app refuses what the ACL's size rule used to."""
    from shared.protocol.events import MAX_BODY_BYTES

    big = json.dumps({"name": "x" * (MAX_BODY_BYTES + 1)})
    status, body = call(http_api_event("POST", "/v1/admin/lots", "/v1/admin/lots", headers=admin, body=big))
    assert (status, body["code"]) == (413, "body_too_large")
