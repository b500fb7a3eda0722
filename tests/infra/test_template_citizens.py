"""Synthesised stacks, every stage: the citizens' Cognito user pool (issue 14) signs in by phone code only,
its triggers are the sign-in function, and the API function knows the pool."""

from __future__ import annotations

import pytest

from shared import resources
from shared.auth import Role
from tests.infra import cfn
from tests.infra.cfn import each_stage

pytestmark = pytest.mark.cdk
TRIGGERS = ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse", "PreSignUp", "PreTokenGeneration")


@each_stage
def test_the_pool_signs_in_by_phone_code_only(raw_templates, stage):
    t = raw_templates[stage]
    ((pool_id, pool),) = cfn.of_type(t, "AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["UserPoolName"] == resources.resource_name("citizens", stage)
    assert props["UsernameAttributes"] == ["phone_number"]
    sign_in = cfn.functions_by_name(t)[resources.resource_name("citizen-sign-in", stage)]
    assert {k: v for k, v in props["LambdaConfig"].items()} == {k: {"Fn::GetAtt": [sign_in, "Arn"]} for k in TRIGGERS}
    assert {a["Name"] for a in props["Schema"] if a["Name"].startswith(("district", "operator"))} == {"district", "operator"}
    (client,) = cfn.of_type(t, "AWS::Cognito::UserPoolClient").values()
    client = client["Properties"]
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client.get("GenerateSecret", False) is False and client["WriteAttributes"] == ["phone_number"]
    groups = {g["Properties"]["GroupName"] for g in cfn.of_type(t, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {r.value for r in Role}
    invokers = [p["Properties"] for p in cfn.of_type(t, "AWS::Lambda::Permission").values()
                if p["Properties"].get("Principal") == "cognito-idp.amazonaws.com"]  # fmt: skip
    assert invokers and all(p["SourceArn"] == {"Fn::GetAtt": [pool_id, "Arn"]} for p in invokers)


@each_stage
def test_the_sign_in_texts_through_sns_and_the_api_knows_the_pool(raw_templates, stage):
    t = raw_templates[stage]
    functions = cfn.functions_by_name(t)
    sign_in = cfn.props(t, functions[resources.resource_name("citizen-sign-in", stage)])
    assert sign_in["Environment"]["Variables"]["TONGTING_SMS"] == "sns"
    api = cfn.props(t, functions[resources.resource_name("api", stage)])["Environment"]["Variables"]
    assert "TONGTING_SMS" not in api
    assert set(api) >= {"TONGTING_COGNITO_ISSUER", "TONGTING_COGNITO_CLIENT_ID"}
