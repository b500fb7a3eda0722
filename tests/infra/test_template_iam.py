"""Synthesised stacks, every stage: least-privilege IAM (no wildcard actions, each role its declared access)."""

from __future__ import annotations

import pytest

from infra.cdk import derive
from shared import resources
from tests.infra import cfn
from tests.infra.cfn import each_stage

pytestmark = pytest.mark.cdk
# Actions that AWS only grants on "*" (no resource-level permissions exist for them).
GLOBAL_ONLY = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "dynamodb:ListStreams",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}  # fmt: skip


@each_stage
def test_no_wildcard_iam_actions(raw_templates, stage):
    for statement in cfn.all_statements(raw_templates[stage]):
        actions = cfn.listify(statement["Action"])
        assert not [a for a in actions if "*" in a], statement
        if "*" in cfn.listify(statement.get("Resource")):
            assert set(actions) <= GLOBAL_ONLY, statement


@each_stage
@pytest.mark.parametrize("spec", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_function_role_holds_exactly_its_declared_data_access(raw_templates, stage, spec):
    t = raw_templates[stage]
    fn_id = cfn.functions_by_name(t)[resources.resource_name(spec.logical, stage)]
    role_id = cfn.ref_id(cfn.props(t, fn_id)["Role"])
    tables = {v: k for k, v in cfn.table_ids_by_name(t).items()}
    granted: dict[str, set[str]] = {}
    services = set()
    for statement in cfn.statements(t, role_id):
        actions = cfn.listify(statement["Action"])
        services |= {a.split(":")[0] for a in actions}
        for resource in cfn.listify(statement["Resource"]):
            target, attribute = resource.get("Fn::GetAtt", [None, None]) if isinstance(resource, dict) else (None, None)
            if attribute == "Arn" and target in tables:
                granted.setdefault(tables[target], set()).update(actions)
    expected = {
        resources.resource_name(g.name, stage): set(g.actions) for g in derive.grants(spec) if g.target == "table"
    }
    assert granted == expected
    optional = {
        "s3": spec.buckets_write,
        "states": spec.state_machines_start,
        "kms": "devices" in spec.tables_read + spec.tables_write,
        "ssm": spec.logical == derive.HTTP_API,
        "sqs": derive.invoked_async(spec) or spec.stream_source,
    }
    assert services <= {"logs", "dynamodb", "xray"} | {service for service, needed in optional.items() if needed}


@each_stage
def test_authorizer_may_only_read_the_signing_key(raw_templates, stage):
    t = raw_templates[stage]
    name = f"{resources.resource_name(derive.HTTP_API, stage)}-admin-token"
    role_id = cfn.ref_id(cfn.props(t, cfn.functions_by_name(t)[name])["Role"])
    actions = {a for s in cfn.statements(t, role_id) for a in cfn.listify(s["Action"])}
    assert actions == {
        "ssm:GetParameter",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
