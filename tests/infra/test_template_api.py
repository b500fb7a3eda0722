"""Synthesised stacks, every stage: the HTTP API (routes, throttling, access logs, domain) and the alarms."""

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
def test_http_api_routes_throttling_and_access_logs(raw_templates, stage):
    """An HTTP API (API Gateway v2): a route per app route and method plus $default, one proxy integration
    (payload 1.0) to the handler, no authorizer, stage throttling, access logs without headers or bodies,
    and no REST API or web ACL left behind."""
    from functions.api.app import app

    t = raw_templates[stage]
    config = stage_config(stage, {})
    (api_id,) = cfn.of_type(t, "AWS::ApiGatewayV2::Api")
    assert cfn.props(t, api_id)["ProtocolType"] == "HTTP"
    assert cfn.props(t, api_id)["Name"] == resources.resource_name(derive.HTTP_API, stage)
    (integration,) = cfn.of_type(t, "AWS::ApiGatewayV2::Integration").values()
    i = integration["Properties"]
    assert (i["IntegrationType"], i["PayloadFormatVersion"]) == ("AWS_PROXY", "1.0")
    assert i["IntegrationUri"] == {"Fn::GetAtt": ["APIHandler", "Arn"]} and i["ApiId"] == {"Ref": api_id}
    routes = [r["Properties"] for r in cfn.of_type(t, "AWS::ApiGatewayV2::Route").values()]
    expected = {f"{method} {path}" for path, methods in app.routes.items() for method in methods} | {"$default"}
    assert sorted(r["RouteKey"] for r in routes) == sorted(expected)
    assert all(r["AuthorizationType"] == "NONE" and "AuthorizerId" not in r for r in routes)
    assert cfn.of_type(t, "AWS::ApiGatewayV2::Authorizer") == {}
    for kind in ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api", "AWS::WAFv2::WebACL", "AWS::ApiGateway::Account"):
        assert cfn.of_type(t, kind) == {}, kind

    (st,) = [s["Properties"] for s in cfn.of_type(t, "AWS::ApiGatewayV2::Stage").values()]
    assert st["StageName"] == "api" and st["AutoDeploy"] is True
    assert st["DefaultRouteSettings"]["ThrottlingRateLimit"] == config.api_rate_limit
    assert st["DefaultRouteSettings"]["ThrottlingBurstLimit"] == config.api_burst_limit
    assert st["RouteSettings"]["$default"]["ThrottlingRateLimit"] == config.unrouted_rate_limit
    log_format = json.loads(st["AccessLogSettings"]["Format"])
    assert {"$context.requestId", "$context.routeKey", "$context.status"} <= set(log_format.values())
    assert not any("header" in v.lower() or "body" in v.lower() for v in log_format.values())
    (group_id,) = cfn.resource_ids_in(st["AccessLogSettings"]["DestinationArn"]) - {
        "AWS::Partition",
        "AWS::Region",
        "AWS::AccountId",
    }
    assert (
        cfn.props(t, group_id)["LogGroupName"]
        == f"/aws/apigateway/{resources.resource_name(derive.HTTP_API, stage)}/access"
    )


@each_stage
def test_only_this_api_may_invoke_the_handler(raw_templates, stage):
    t = raw_templates[stage]
    (api_id,) = cfn.of_type(t, "AWS::ApiGatewayV2::Api")
    permissions = [p["Properties"] for p in cfn.of_type(t, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]  # fmt: skip
    (permission,) = permissions
    assert permission["FunctionName"] == {"Fn::GetAtt": ["APIHandler", "Arn"]}
    assert permission["Action"] == "lambda:InvokeFunction"
    assert api_id in cfn.resource_ids_in(permission["SourceArn"])
    assert json.dumps(permission["SourceArn"]).count("execute-api") == 1


@each_stage
def test_http_api_handler(raw_templates, stage):
    t = raw_templates[stage]
    spec = resources.function(derive.HTTP_API)
    p = cfn.props(t, "APIHandler")
    assert p["FunctionName"] == resources.resource_name(spec.logical, stage)
    assert p["Handler"] == "app.app" and p["Tracing"] == "Active" and p["Timeout"] == spec.timeout_s
    # issue 10: the API function's own memory (shared/resources.py, measured: bench/footprint.py)
    assert p["MemorySize"] == derive.memory_mb(spec, stage_config(stage, {})) == spec.memory_mb == 256
    variables = p["Environment"]["Variables"]
    for machine in spec.state_machines_start:
        arn = cfn.arn_text(variables[resources.state_machine_env(machine)])
        assert arn == f"arn::states:::stateMachine:{resources.resource_name(machine, stage)}"


def test_custom_domain_and_alarm_email_when_configured(raw_templates):
    from tests.infra.synth_all import VARIANT_ENV

    t = raw_templates["variant"]
    ((domain_id, domain),) = cfn.of_type(t, "AWS::ApiGatewayV2::DomainName").items()
    assert domain["Properties"]["DomainName"] == VARIANT_ENV["TONGTING_DOMAIN_NAME"]
    (configuration,) = domain["Properties"]["DomainNameConfigurations"]
    assert configuration["CertificateArn"] == VARIANT_ENV["TONGTING_CERTIFICATE_ARN"]
    (mapping,) = [m["Properties"] for m in cfn.of_type(t, "AWS::ApiGatewayV2::ApiMapping").values()]
    (stage_id,) = cfn.of_type(t, "AWS::ApiGatewayV2::Stage")
    assert mapping["DomainName"] == {"Ref": domain_id} and mapping["Stage"] == {"Ref": stage_id}
    (record,) = [r["Properties"] for r in cfn.of_type(t, "AWS::Route53::RecordSet").values()]
    assert record["HostedZoneId"] == VARIANT_ENV["TONGTING_HOSTED_ZONE_ID"] and record["Type"] == "A"
    assert cfn.of_type(raw_templates["prod"], "AWS::ApiGatewayV2::DomainName") == {}
    subscriptions = [s["Properties"] for s in cfn.of_type(t, "AWS::SNS::Subscription").values()]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", VARIANT_ENV["TONGTING_ALARM_EMAIL"])]
    assert cfn.of_type(raw_templates["prod"], "AWS::SNS::Subscription") == {}


@each_stage
def test_alarms_cover_functions_workflows_queues_and_operations(raw_templates, stage):
    t = raw_templates[stage]
    prefix = resources.resource_name("", stage).rstrip("-")
    api = resources.resource_name(derive.HTTP_API, stage)
    expected = {f"{name}-errors" for name in cfn.functions_by_name(t)}
    expected |= {f"{resources.resource_name(m.logical, stage)}-failed-executions" for m in resources.STATE_MACHINES}
    expected |= {
        f"{resources.resource_name(f.logical, stage)}-dlq-depth"
        for f in PLAIN
        if derive.invoked_async(f) or f.stream_source
    }
    expected |= {f"{resources.resource_name(f.logical, stage)}-backlog" for f in PLAIN if f.stream_source}
    expected |= {f"{prefix}-signature-failures", f"{prefix}-lots-offline", f"{api}-5xx"}
    expected |= {f"{prefix}-city-push-dead"}  # issue 11: pushes to the city operation platform
    expected |= {f"{prefix}-provable-latency"}  # issue 12: accepted events not yet in a signed checkpoint
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in cfn.of_type(t, "AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == expected
    (topic_id,) = cfn.of_type(t, "AWS::SNS::Topic")
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms.values())
    provable = alarms[f"{prefix}-provable-latency"]
    assert (provable["MetricName"], provable["Statistic"], provable["Threshold"]) == ("ProvableAfterMs", "Maximum", 60000)
    offline = alarms[f"{prefix}-lots-offline"]
    assert (offline["Namespace"], offline["MetricName"]) == (derive.metrics_namespace(stage), "LotsOffline")
    assert offline["Dimensions"] == [{"Name": "service", "Value": "tongting"}] and offline["EvaluationPeriods"] == 2
    (metric_filter,) = [f["Properties"] for f in cfn.of_type(t, "AWS::Logs::MetricFilter").values()]
    assert "bad_signature" in metric_filter["FilterPattern"] and "request refused" in metric_filter["FilterPattern"]
    assert metric_filter["MetricTransformations"][0]["MetricNamespace"] == derive.metrics_namespace(stage)
    assert cfn.ref_id(metric_filter["LogGroupName"]) == cfn.ref_id(
        cfn.props(t, "APIHandler")["LoggingConfig"]["LogGroup"]
    )
    body = json.dumps(cfn.of_type(t, "AWS::CloudWatch::Dashboard"))
    assert "LotsOffline" in body and "SignatureFailures" in body


@each_stage
@pytest.mark.parametrize("spec", resources.STATE_MACHINES, ids=lambda m: m.logical)
def test_every_state_machine_alarms_on_failed_timed_out_and_aborted_executions(raw_templates, stage, spec):
    """Issue 5: a workflow failure lands somewhere visible. One alarm per machine sums the three metrics."""
    t = raw_templates[stage]
    name = resources.resource_name(spec.logical, stage)
    (machine_id,) = [
        k for k, m in cfn.of_type(t, "AWS::StepFunctions::StateMachine").items()
        if m["Properties"]["StateMachineName"] == name
    ]  # fmt: skip
    (alarm,) = [
        a["Properties"] for a in cfn.of_type(t, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{name}-failed-executions"
    ]  # fmt: skip
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert sorted(s["MetricName"] for s in stats) == ["ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]
    assert all(s["Namespace"] == "AWS/States" for s in stats)
    assert all(s["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}] for s in stats)
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
    assert expression.count("+") == 2


@each_stage
def test_asynchronously_invoked_functions_keep_their_failures(raw_templates, stage):
    """Scheduled functions (invoked asynchronously by EventBridge): failed runs and undeliverable events go
    to the function's DLQ, and a message there raises an alarm."""
    t = raw_templates[stage]
    queues = {k: q["Properties"]["QueueName"] for k, q in cfn.of_type(t, "AWS::SQS::Queue").items()}
    alarms = {a["Properties"]["AlarmName"] for a in cfn.of_type(t, "AWS::CloudWatch::Alarm").values()}
    scheduled = [f for f in PLAIN if derive.invoked_async(f)]
    assert {s.function for s in resources.SCHEDULES} <= {f.logical for f in scheduled}
    for spec in scheduled:
        name = resources.resource_name(spec.logical, stage)
        queue_id = cfn.ref_id(cfn.props(t, cfn.functions_by_name(t)[name])["DeadLetterConfig"]["TargetArn"])
        assert queues[queue_id] == f"{name}-dlq" and f"{name}-dlq-depth" in alarms
