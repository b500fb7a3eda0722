"""Synthesised stacks, every stage: functions, log retention, layers, state machines and schedules."""

from __future__ import annotations

import json

import pytest

from infra.cdk import derive
from infra.cdk.stages import stage_config
from shared import resources
from tests.infra import cfn
from tests.infra.cfn import PLAIN, each_stage

pytestmark = pytest.mark.cdk


@each_stage
def test_every_function_has_a_log_group_with_retention(raw_templates, stage):
    t = raw_templates[stage]
    days = stage_config(stage, {}).log_retention_days
    for name, fn_id in cfn.functions_by_name(t).items():
        group_id = cfn.ref_id(cfn.props(t, fn_id)["LoggingConfig"]["LogGroup"])
        group = cfn.props(t, group_id)
        assert group["LogGroupName"] == f"/aws/lambda/{name}" and group["RetentionInDays"] == days
    for group in cfn.of_type(t, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == days


@each_stage
def test_every_function_uses_the_two_shared_layers(raw_templates, stage):
    t = raw_templates[stage]
    layers = set(cfn.of_type(t, "AWS::Lambda::LayerVersion"))
    for fn_id in cfn.functions_by_name(t).values():
        assert {cfn.ref_id(x) for x in cfn.props(t, fn_id)["Layers"]} == layers
        variables = cfn.props(t, fn_id)["Environment"]["Variables"]
        assert variables["TONGTING_STAGE"] == stage
        assert variables["TONGTING_PAYMENTS"] == stage_config(stage, {}).payments


@each_stage
@pytest.mark.parametrize("spec", PLAIN, ids=lambda f: f.logical)
def test_plain_function(raw_templates, stage, spec):
    t = raw_templates[stage]
    fn_id = cfn.functions_by_name(t)[resources.resource_name(spec.logical, stage)]
    p = cfn.props(t, fn_id)
    assert p["Handler"] == spec.handler and p["Timeout"] == spec.timeout_s
    assert p["MemorySize"] == derive.memory_mb(spec, stage_config(stage, {}))  # its own, else the stage's
    assert p["TracingConfig"] == {"Mode": "Active"}
    concurrency = derive.reserved_concurrency(spec) if stage_config(stage, {}).reserved_concurrency else None
    assert p.get("ReservedConcurrentExecutions") == concurrency
    assert ("DeadLetterConfig" in p) == derive.invoked_async(spec)
    variables = p["Environment"]["Variables"]
    machines = {k for k in variables if k.startswith(resources.state_machine_env(""))}
    assert machines == {resources.state_machine_env(m) for m in spec.state_machines_start}
    for machine in spec.state_machines_start:
        arn = cfn.arn_text(variables[resources.state_machine_env(machine)])
        assert arn == f"arn::states:::stateMachine:{resources.resource_name(machine, stage)}"
    mappings = [
        m["Properties"]
        for m in cfn.of_type(t, "AWS::Lambda::EventSourceMapping").values()
        if cfn.ref_id(m["Properties"]["FunctionName"]) == fn_id
    ]
    if spec.stream_source:
        (mapping,) = mappings
        table_id = cfn.table_ids_by_name(t)[resources.resource_name(spec.stream_source, stage)]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert mapping["BatchSize"] == spec.batch_size and mapping["BisectBatchOnFunctionError"] is True
        assert "Destination" in mapping["DestinationConfig"]["OnFailure"]
        # issue 10: a tumbling window where the function needs each batch's shard id (the open counts)
        assert mapping.get("TumblingWindowInSeconds") == (spec.stream_window_s or None)
        patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
        assert patterns == [{"eventName": list(spec.stream_events)}]
    else:
        assert mappings == []


@each_stage
@pytest.mark.parametrize("spec", resources.STATE_MACHINES, ids=lambda m: m.logical)
def test_state_machine_uses_the_file_with_substituted_arns(raw_templates, stage, spec):
    from infra.cdk.workflows import STATE_MACHINES_DIR

    t = raw_templates[stage]
    (props,) = [
        m["Properties"] for m in cfn.of_type(t, "AWS::StepFunctions::StateMachine").values()
        if m["Properties"]["StateMachineName"] == resources.resource_name(spec.logical, stage)
    ]  # fmt: skip
    assert props["StateMachineType"] == spec.kind
    assert props["DefinitionString"] == (STATE_MACHINES_DIR / spec.definition_file).read_text()
    functions = cfn.functions_by_name(t)
    assert props["DefinitionSubstitutions"] == {
        resources.task_placeholder(task): {"Fn::GetAtt": [functions[resources.resource_name(task, stage)], "Arn"]}
        for task in spec.tasks
    }
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False and logging["Destinations"]
    assert props["TracingConfiguration"] == {"Enabled": True}


@each_stage
@pytest.mark.parametrize("spec", resources.SCHEDULES, ids=lambda s: s.logical)
def test_schedule_rule(raw_templates, stage, spec):
    t = raw_templates[stage]
    (rule,) = [
        r["Properties"]
        for r in cfn.of_type(t, "AWS::Events::Rule").values()
        if r["Properties"]["Name"] == resources.resource_name(spec.logical, stage)
    ]
    assert rule["ScheduleExpression"] == spec.expression and rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert cfn.ref_id(target["Arn"]) == cfn.functions_by_name(t)[resources.resource_name(spec.function, stage)]
    assert "Arn" in target["DeadLetterConfig"] and target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    event = json.loads(target["InputTransformer"]["InputTemplate"].replace("<time>", '"2026-01-01T00:00:00Z"'))
    assert event["resources"] == [spec.logical] and event["detail"] == spec.payload
