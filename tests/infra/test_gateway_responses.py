"""API Gateway's own refusals (401 without a token, 403, 413, 415, 429) answer in the API's one error shape,
with the same codes as the local stand-in (infra/local/gateway.py)."""

from __future__ import annotations

import json

from infra.cdk.api import GATEWAY_CODES, gateway_responses
from infra.local.gateway import GATEWAY_ERRORS
from tests.infra.cfn import each_stage


def test_every_gateway_response_renders_the_error_shape():
    for kind, response in gateway_responses().items():
        template = response["ResponseTemplates"]["application/json"]
        rendered = json.loads(template.replace("$context.error.messageString", json.dumps("Unauthorized")))
        assert rendered == {"code": GATEWAY_CODES[kind], "message": "Unauthorized"}
    assert GATEWAY_CODES["UNAUTHORIZED"] == GATEWAY_ERRORS[next(k for k in GATEWAY_ERRORS if k.__name__ == "NotAuthorizedError")][0]


@each_stage
def test_the_rest_api_carries_the_gateway_responses(raw_templates, stage):
    props = raw_templates[stage]["Resources"]["RestAPI"]["Properties"]
    assert props["GatewayResponses"] == gateway_responses()
