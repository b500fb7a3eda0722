"""Alarms ops must see, sent to one SNS topic, and one dashboard.

Alarms: function errors, failed workflow executions, messages in any DLQ, device (and callback)
signature failures, stream backlog (events waiting to be pushed to the archive), offline lots, API 5xx.
Every alarm is derived from what the stack created, so a new function, machine or queue is covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.cdk import derive
from infra.cdk.api import API_STAGE, HttpApi
from infra.cdk.functions import Deployed
from infra.cdk.stages import StageConfig
from shared import resources

FIVE_MINUTES = Duration.minutes(5)
# The codes the API logs ("request refused") when a request's signature cannot be trusted.
SIGNATURE_FAILURE_CODES = ("bad_signature", "signature_missing")
STREAM_BACKLOG_MS = 10 * 60 * 1000
PROVABLE_AFTER_MS = 60 * 1000  # target is seconds; alarm at a minute, two periods in a row
API_5XX_PER_5MIN = 5


@dataclass
class Watched:
    """What the stack built, as monitoring needs it."""

    functions: dict[str, Deployed]
    api: HttpApi
    machines: dict[str, sfn.StateMachine]
    queues: dict[str, sqs.IQueue] = field(default_factory=dict)


def lambda_metric(function_name: str, metric: str, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace="AWS/Lambda",
        metric_name=metric,
        dimensions_map={"FunctionName": function_name},
        statistic=statistic,
        period=FIVE_MINUTES,
    )


def signature_filter_pattern() -> logs.IFilterPattern:
    codes = [logs.FilterPattern.string_value("$.code", "=", code) for code in SIGNATURE_FAILURE_CODES]
    return logs.FilterPattern.all(
        logs.FilterPattern.string_value("$.message", "=", "request refused"), logs.FilterPattern.any(*codes)
    )


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig, watched: Watched) -> None:
        super().__init__(scope, construct_id)
        self._prefix = resources.resource_name("", stage.name).rstrip("-")
        namespace = derive.metrics_namespace(stage.name)
        self.topic = sns.Topic(self, "AlarmTopic", topic_name=f"{self._prefix}-alarms", enforce_ssl=True)
        if stage.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(stage.alarm_email))
        self.alarms: list[cw.Alarm] = []

        function_names = [d.name for d in watched.functions.values()]
        function_names += [watched.api.function_name]
        for name in function_names:
            self._alarm(f"{name}-errors", lambda_metric(name, "Errors"), 1, f"{name} raised errors")

        for logical, machine in watched.machines.items():
            failed = cw.MathExpression(
                expression="FILL(f, 0) + FILL(t, 0) + FILL(a, 0)",
                using_metrics={
                    "f": machine.metric_failed(period=FIVE_MINUTES),
                    "t": machine.metric_timed_out(period=FIVE_MINUTES),
                    "a": machine.metric_aborted(period=FIVE_MINUTES),
                },
                period=FIVE_MINUTES,
                label="failed + timed out + aborted",
            )
            name = resources.resource_name(logical, stage.name)
            self._alarm(f"{name}-failed-executions", failed, 1, f"{name}: executions failed, timed out or aborted")

        for name, queue in watched.queues.items():
            depth = queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum")
            self._alarm(f"{name}-depth", depth, 1, f"{name}: failed invocations or stream batches are waiting")

        signature_metric = logs.MetricFilter(
            self,
            "SignatureFailures",
            log_group=watched.api.handler_logs,
            metric_namespace=namespace,
            metric_name="SignatureFailures",
            filter_pattern=signature_filter_pattern(),
            metric_value="1",
            default_value=0,
        ).metric(statistic="Sum", period=FIVE_MINUTES)
        self._alarm(
            f"{self._prefix}-signature-failures",
            signature_metric,
            stage.signature_failures_alarm,
            "Requests with a missing or wrong signature: a misconfigured device or someone probing",
        )

        for deployed in watched.functions.values():
            if deployed.spec.stream_source:
                name = deployed.name
                age = lambda_metric(name, "IteratorAge", "Maximum")
                self._alarm(f"{name}-backlog", age, STREAM_BACKLOG_MS, f"{name} is behind its stream (ms)")

        # Issue 12: an accepted event must become provable (in a signed checkpoint) within seconds.
        provable = cw.Metric(
            namespace=namespace,
            metric_name="ProvableAfterMs",
            dimensions_map={"service": "tongting"},
            statistic="Maximum",
            period=FIVE_MINUTES,
        )
        self._alarm(
            f"{self._prefix}-provable-latency",
            provable,
            PROVABLE_AFTER_MS,
            "Accepted events take too long to appear in a signed checkpoint of the archive's log (ms)",
            periods=2,
        )

        offline = cw.Metric(
            namespace=namespace,
            metric_name="LotsOffline",
            dimensions_map={"service": "tongting"},
            statistic="Maximum",
            period=FIVE_MINUTES,
        )
        # Two checks in a row: one late heartbeat is not yet a cut link.
        self._alarm(
            f"{self._prefix}-lots-offline",
            offline,
            stage.offline_lots_alarm,
            "Lots silent past their heartbeat window (S16)",
            periods=2,
        )

        # The city push outbox (S5, issue 11): a push failing DEAD_AFTER times is kept and retried, but ops
        # must hear of it: the platform has not had that lot's data since.
        dead_pushes = cw.Metric(
            namespace=namespace,
            metric_name="CityPushDead",
            dimensions_map={"service": "tongting"},
            statistic="Maximum",
            period=FIVE_MINUTES,
        )
        self._alarm(f"{self._prefix}-city-push-dead", dead_pushes, 1, "Pushes to the city operation platform failing for hours (S5)")

        api_5xx = cw.Metric(  # HTTP API metrics: ApiId and Stage, "5xx" (a REST API's are ApiName, "5XXError")
            namespace="AWS/ApiGateway",
            metric_name="5xx",
            dimensions_map={"ApiId": watched.api.api.ref, "Stage": API_STAGE},
            statistic="Sum",
            period=FIVE_MINUTES,
        )
        self._alarm(f"{watched.api.api_name}-5xx", api_5xx, API_5XX_PER_5MIN, "The HTTP API answered 5xx")

        self.dashboard = _dashboard(
            self, self._prefix, namespace, watched, function_names, signature_metric, offline, self.alarms
        )

    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, description: str, periods: int = 1) -> None:
        alarm = cw.Alarm(
            self,
            name.removeprefix(self._prefix + "-") or name,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def _dashboard(
    scope: Construct,
    prefix: str,
    namespace: str,
    watched: Watched,
    function_names: list[str],
    signatures: cw.IMetric,
    offline: cw.IMetric,
    alarms: list[cw.Alarm],
) -> cw.Dashboard:
    def api(metric: str, statistic: str = "Sum") -> cw.Metric:
        dims = {"ApiId": watched.api.api.ref, "Stage": API_STAGE}
        return cw.Metric(
            namespace="AWS/ApiGateway",
            metric_name=metric,
            dimensions_map=dims,
            statistic=statistic,
            period=FIVE_MINUTES,
        )

    def search(term: str, label: str) -> cw.MathExpression:
        return cw.MathExpression(
            expression=f"SEARCH('{{{namespace},service}} {term}', 'Sum', 300)",
            using_metrics={},
            label=label,
            period=FIVE_MINUTES,
        )

    def per_function(metric: str, statistic: str = "Sum") -> list[cw.IMetric]:
        return [lambda_metric(name, metric, statistic).with_(label=name) for name in function_names]

    board = cw.Dashboard(scope, "Dashboard", dashboard_name=prefix, default_interval=Duration.hours(6))
    board.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=alarms, width=24, height=4))
    board.add_widgets(
        cw.GraphWidget(title="API requests", left=[api("Count"), api("4xx"), api("5xx")], width=12),
        cw.GraphWidget(title="API latency (ms)", left=[api("Latency", "p50"), api("Latency", "p99")], width=12),
    )
    board.add_widgets(
        cw.GraphWidget(
            title="Device events",
            left=[search("accepted", "accepted"), search("rejected", "rejected"), search("duplicate", "duplicate")],
            width=8,
        ),
        cw.GraphWidget(title="Signature failures", left=[signatures], width=8),
        cw.GraphWidget(title="Lots offline", left=[offline], width=8),
    )
    board.add_widgets(
        cw.GraphWidget(title="Function errors", left=per_function("Errors"), width=8),
        cw.GraphWidget(title="Function throttles", left=per_function("Throttles"), width=8),
        cw.GraphWidget(title="Function duration p95 (ms)", left=per_function("Duration", "p95"), width=8),
    )
    executions: list[cw.IMetric] = []
    for logical, machine in watched.machines.items():
        executions += [
            machine.metric_started(period=FIVE_MINUTES, label=f"{logical} started"),
            machine.metric_succeeded(period=FIVE_MINUTES, label=f"{logical} succeeded"),
            machine.metric_failed(period=FIVE_MINUTES, label=f"{logical} failed"),
        ]
    queue_depths = [
        q.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum", label=name)
        for name, q in watched.queues.items()
    ]
    backlog = [
        lambda_metric(d.name, "IteratorAge", "Maximum") for d in watched.functions.values() if d.spec.stream_source
    ]
    graphs = [
        ("Workflow executions", executions),
        ("Dead-letter queues (messages)", queue_depths),
        ("Stream backlog (ms)", backlog),
    ]
    board.add_widgets(*(cw.GraphWidget(title=title, left=metrics, width=8) for title, metrics in graphs if metrics))
    return board
