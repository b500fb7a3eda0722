"""The local stack and the CDK app read the same names and schedules from shared/resources.py, and
both follow when a definition changes (the variant synthesis changes the app prefix, a schedule's
expression, adds a schedule and a table)."""

from __future__ import annotations

import json

import pytest

from infra.cdk import derive
from infra.cdk.stages import STAGES
from tests.infra import cfn

pytestmark = pytest.mark.cdk

try:
    from infra.local.provision import plan
except ImportError:  # pragma: no cover - the local stack is built in parallel
    plan = None

needs_plan = pytest.mark.xfail(plan is None, reason="infra.local.provision.plan(stage) is not there yet", strict=True)


def cdk_names(template: dict) -> dict:
    functions = {v: k for k, v in cfn.functions_by_name(template).items()}
    # The functions of resources.FUNCTIONS: plain ones and the Chalice app's handler.
    declared = [
        n
        for i, n in functions.items()
        if i == "APIHandler" or template["Resources"][i]["Type"] == cfn.FUNCTION_TYPES[0]
    ]
    rules = [r["Properties"] for r in cfn.of_type(template, "AWS::Events::Rule").values()]
    return {
        "tables": sorted(p["Properties"]["TableName"] for p in cfn.of_type(template, "AWS::DynamoDB::Table").values()),
        "buckets": sorted(p["Properties"]["BucketName"] for p in cfn.of_type(template, "AWS::S3::Bucket").values()),
        "state_machines": sorted(
            p["Properties"]["StateMachineName"]
            for p in cfn.of_type(template, "AWS::StepFunctions::StateMachine").values()
        ),
        "functions": sorted(declared),
        "schedules": sorted(
            (r["Name"], r["ScheduleExpression"], functions[cfn.ref_id(r["Targets"][0]["Arn"])]) for r in rules
        ),
    }


def local_names(planned: dict) -> dict:
    out = {key: sorted(planned[key]) for key in ("tables", "buckets", "state_machines")}
    out["schedules"] = sorted(tuple(s) for s in planned["schedules"])
    if "functions" in planned:
        out["functions"] = sorted(planned["functions"])
    return out


def _compare(cdk: dict, local: dict) -> None:
    for key, names in local.items():
        assert cdk[key] == names, key


@needs_plan
@pytest.mark.parametrize("stage", STAGES)
def test_cdk_and_local_stack_create_the_same_names_and_schedules(raw_templates, stage):
    _compare(cdk_names(raw_templates[stage]), local_names(plan(stage)))


@needs_plan
def test_both_follow_a_change_of_the_single_definition(raw_templates, synth_dir):
    from tests.infra.synth_all import VARIANT_APP, VARIANT_EXTRA_SCHEDULE, VARIANT_SCHEDULE_EXPRESSION, VARIANT_TABLE

    planned = json.loads((synth_dir / "variant" / "plan.json").read_text())
    variant = cdk_names(raw_templates["variant"])
    _compare(variant, local_names(planned))
    # ...and the change really took effect on both sides:
    assert all(name.startswith(f"{VARIANT_APP}-dev-") for name in variant["tables"] + variant["functions"])
    assert f"{VARIANT_APP}-dev-{VARIANT_TABLE.logical}" in variant["tables"]
    expressions = {name: expression for name, expression, _ in variant["schedules"]}
    assert VARIANT_SCHEDULE_EXPRESSION in expressions.values()
    assert expressions[f"{VARIANT_APP}-dev-{VARIANT_EXTRA_SCHEDULE.logical}"] == VARIANT_EXTRA_SCHEDULE.expression
    assert variant != cdk_names(raw_templates["dev"])


def test_the_variant_really_changed_the_definitions(raw_templates):
    """Guards the test above: the variant's added schedule makes its function asynchronous, with a DLQ."""
    from tests.infra.synth_all import VARIANT_APP, VARIANT_EXTRA_SCHEDULE

    queues = {q["Properties"]["QueueName"] for q in cfn.of_type(raw_templates["variant"], "AWS::SQS::Queue").values()}
    assert f"{VARIANT_APP}-dev-{VARIANT_EXTRA_SCHEDULE.function}-dlq" in queues
    assert VARIANT_EXTRA_SCHEDULE.function != derive.HTTP_API
