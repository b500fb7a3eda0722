"""Helpers for the template tests: readers over a synthesised template (a dict) — resources by type, a
function's role policies, names behind logical ids — and the parametrisations they share."""

from __future__ import annotations

import pytest

from infra.cdk import derive
from infra.cdk.stages import STAGES
from shared import resources

each_stage = pytest.mark.parametrize("stage", STAGES)
PLAIN = [f for f in resources.FUNCTIONS if f.logical != derive.HTTP_API]


def match():
    """``aws_cdk.assertions.Match``, imported only by tests that use it (jsii starts on import)."""
    from aws_cdk.assertions import Match

    return Match


def dlq_count() -> int:
    return sum(1 for f in PLAIN if derive.invoked_async(f) or f.stream_source)


FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def of_type(template: dict, *types: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] in types}


def props(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id].get("Properties", {})


def ref_id(value) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def functions_by_name(template: dict) -> dict[str, str]:
    """FunctionName -> logical id, for every Lambda function (plain and SAM)."""
    return {p["Properties"]["FunctionName"]: k for k, p in of_type(template, *FUNCTION_TYPES).items()}


def table_ids_by_name(template: dict) -> dict[str, str]:
    return {v["Properties"]["TableName"]: k for k, v in of_type(template, "AWS::DynamoDB::Table").items()}


def statements(template: dict, role_id: str) -> list[dict]:
    """Every statement of the inline policies attached to a role."""
    out = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    for inline in props(template, role_id).get("Policies", []):
        out += inline["PolicyDocument"]["Statement"]
    return out


def all_statements(template: dict) -> list[dict]:
    out = []
    for kind in ("AWS::IAM::Policy",):
        for policy in of_type(template, kind).values():
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in of_type(template, "AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            out += inline["PolicyDocument"]["Statement"]
    return out


def listify(value) -> list:
    return value if isinstance(value, list) else [value]


def resource_ids_in(value) -> set[str]:
    """Logical ids referenced anywhere inside ``value`` (Ref, GetAtt, inside Join/Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        ref = ref_id(value)
        if ref:
            found.add(ref)
        for inner in value.values():
            found |= resource_ids_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= resource_ids_in(inner)
    return found
