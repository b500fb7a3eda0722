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
        for resource in cfn.listify(statement.get("Resource", [])):  # NotResource: SMS to phone numbers
            target, attribute = resource.get("Fn::GetAtt", [None, None]) if isinstance(resource, dict) else (None, None)
            if attribute == "Arn" and target in tables:
                granted.setdefault(tables[target], set()).update(actions)
    expected = {
        resources.resource_name(g.name, stage): set(g.actions) for g in derive.grants(spec) if g.target == "table"
    }
    assert granted == expected
    optional = {
        "s3": spec.buckets_write + spec.buckets_read,
        "states": spec.state_machines_start + spec.task_tokens_for,
        "kms": "devices" in spec.tables_read + spec.tables_write,
        "ssm": derive.parameters(spec),
        "sqs": derive.invoked_async(spec) or spec.stream_source,
        "sns": spec.texts_phones,
    }
    assert services <= {"logs", "dynamodb", "xray"} | {service for service, needed in optional.items() if needed}


def _machine_arn(stage: str, logical: str) -> str:
    return f"arn::states:::stateMachine:{resources.resource_name(logical, stage)}"


def _parameter_arn(stage: str, logical: str) -> str:
    return f"arn::ssm:::parameter{resources.parameter_name(logical, stage)}"


@each_stage
@pytest.mark.parametrize("spec", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_function_starts_and_completes_only_its_declared_workflows(raw_templates, stage, spec):
    """StartExecution on ``state_machines_start``; SendTask* only with ``task_tokens_for``, on exactly
    those state machines (never ``*``)."""
    t = raw_templates[stage]
    expected: dict[str, set[str]] = {}
    for machine in spec.state_machines_start:
        expected.setdefault(_machine_arn(stage, machine), set()).update(derive.START_EXECUTION)
    for machine in spec.task_tokens_for:
        expected.setdefault(_machine_arn(stage, machine), set()).update(derive.SEND_TASK)
    assert cfn.granted(t, cfn.role_of(t, resources.resource_name(spec.logical, stage)), "states") == expected


@each_stage
@pytest.mark.parametrize("spec", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_function_reads_exactly_its_declared_parameters(raw_templates, stage, spec):
    t = raw_templates[stage]
    role = cfn.role_of(t, resources.resource_name(spec.logical, stage))
    expected = {_parameter_arn(stage, p): {"ssm:GetParameter"} for p in derive.parameters(spec)}
    assert cfn.granted(t, role, "ssm") == expected
    # SecureStrings under aws/ssm need no kms grant: the only key a function may use is the device key.
    key_ids = set(cfn.of_type(t, "AWS::KMS::Key"))
    kms = [s for s in cfn.statements(t, role) if any(a.startswith("kms:") for a in cfn.listify(s["Action"]))]
    assert all(cfn.resource_ids_in(s["Resource"]) <= key_ids and s["Resource"] != "*" for s in kms)
    assert bool(kms) == ("devices" in spec.tables_read + spec.tables_write)


@each_stage
def test_least_privilege_examples(raw_templates, stage):
    """Spelled out for review; the parametrised tests above cover every function the same way."""
    t = raw_templates[stage]

    def role(logical):
        return cfn.role_of(t, resources.resource_name(logical, stage))

    citizens = cfn.table_ids_by_name(t)[resources.resource_name("citizens", stage)]
    reconciliation_on_citizens = {
        a
        for s in cfn.statements(t, role("reconciliation"))
        if {"Fn::GetAtt": [citizens, "Arn"]} in cfn.listify(s["Resource"])
        for a in cfn.listify(s["Action"])
    }
    writes = set(derive.TABLE_WRITE) - set(derive.TABLE_READ)  # ConditionCheckItem is in both
    assert "dynamodb:GetItem" in reconciliation_on_citizens and not reconciliation_on_citizens & writes
    assert _machine_arn(stage, "pay-later-billing") not in cfn.granted(t, role("arrears-escalation"), "states")
    holders = [
        f.logical
        for f in resources.FUNCTIONS
        if any("states:SendTaskSuccess" in a for a in cfn.granted(t, role(f.logical), "states").values())
    ]
    assert holders == [f.logical for f in resources.FUNCTIONS if f.task_tokens_for]
    readers = [f.logical for f in resources.FUNCTIONS if cfn.granted(t, role(f.logical), "ssm")]
    assert readers == [f.logical for f in resources.FUNCTIONS if derive.parameters(f)]


@each_stage
@pytest.mark.parametrize("spec", resources.STATE_MACHINES, ids=lambda m: m.logical)
def test_state_machine_role_invokes_exactly_its_task_functions(raw_templates, stage, spec):
    """One ``lambda:InvokeFunction`` grant serves both ``lambda:invoke`` and ``lambda:invoke.waitForTaskToken``
    tasks (the integration invokes the function synchronously either way; test_asl checks the files use
    only these two)."""
    t = raw_templates[stage]
    (machine,) = [
        m["Properties"] for m in cfn.of_type(t, "AWS::StepFunctions::StateMachine").values()
        if m["Properties"]["StateMachineName"] == resources.resource_name(spec.logical, stage)
    ]  # fmt: skip
    invoked = set()
    for statement in cfn.statements(t, cfn.ref_id(machine["RoleArn"])):
        actions = cfn.listify(statement["Action"])
        assert not [a for a in actions if a.startswith("lambda:") and a != "lambda:InvokeFunction"]
        if "lambda:InvokeFunction" in actions:
            invoked |= cfn.resource_ids_in(statement["Resource"])
    functions = cfn.functions_by_name(t)
    assert invoked == {functions[resources.resource_name(task, stage)] for task in spec.tasks}


@each_stage
@pytest.mark.parametrize("spec", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_only_functions_that_text_phones_may_publish_and_never_to_a_topic(raw_templates, stage, spec):
    """SMS to a phone number has no ARN: the grant is ``sns:Publish`` on everything but SNS topics
    (``NotResource``), so the sign-in can text a phone and cannot post to any topic (the alarm topic)."""
    t = raw_templates[stage]
    sns = [s for s in cfn.statements(t, cfn.role_of(t, resources.resource_name(spec.logical, stage)))
           if any(a.startswith("sns:") for a in cfn.listify(s["Action"]))]  # fmt: skip
    if not spec.texts_phones:
        assert sns == []
        return
    (statement,) = sns
    assert cfn.listify(statement["Action"]) == ["sns:Publish"] and "Resource" not in statement
    (excluded,) = cfn.listify(statement["NotResource"])
    assert excluded == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}
