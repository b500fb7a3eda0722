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
    """CDK's ``Match`` rules in plain Python (``tests/infra/template.py``), for the ``templates`` fixture."""
    from tests.infra.template import Match

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


POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")  # CDK spills large policies into managed ones


def statements(template: dict, role_id: str) -> list[dict]:
    """Every statement of the policies attached to a role (inline, and managed ones of the template)."""
    out = []
    for policy in of_type(template, *POLICY_TYPES).values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    for inline in props(template, role_id).get("Policies", []):
        out += inline["PolicyDocument"]["Statement"]
    return out


def role_of(template: dict, function_name: str) -> str:
    """The logical id of a function's role, by the function's physical name."""
    return ref_id(props(template, functions_by_name(template)[function_name])["Role"])


def arn_text(value) -> str:
    """An ARN built with ``Fn::Join`` as text, pseudo parameters and references left empty:
    ``arn::states:::stateMachine:tongting-dev-x``. Plain strings are returned as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(arn_text(part) for part in parts)
    return ""


def granted(template: dict, role_id: str, service: str) -> dict[str, set[str]]:
    """For one service prefix (``states``, ``ssm``...), the actions a role holds per resource, resources
    written as ``arn_text`` (or ``*``)."""
    out: dict[str, set[str]] = {}
    for statement in statements(template, role_id):
        actions = {a for a in listify(statement["Action"]) if a.startswith(f"{service}:")}
        if actions:
            for resource in listify(statement["Resource"]):
                out.setdefault(arn_text(resource) or str(resource), set()).update(actions)
    return out


def all_statements(template: dict) -> list[dict]:
    out = []
    for kind in POLICY_TYPES:
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
