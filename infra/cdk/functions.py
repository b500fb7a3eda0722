"""The plain Lambda functions of ``resources.FUNCTIONS`` (all but the Chalice HTTP API).

Each gets its own role (``derive.grants``), log group with retention, the two shared layers, a DLQ
when something invokes it asynchronously, and its stream source when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import AssetHashType, Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import bundle, derive
from infra.cdk.access import function_role, state_machine_arn
from infra.cdk.data import DataStores
from infra.cdk.stages import StageConfig
from shared import resources

STREAM_RETRIES = 5


@dataclass
class Deployed:
    """A function as the rest of the stack sees it."""

    spec: resources.Function
    name: str
    function: lambda_.IFunction
    log_group: logs.LogGroup
    dlq: sqs.Queue | None = None


def log_group(scope: Construct, construct_id: str, name: str, stage: StageConfig) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=_RETENTION[stage.log_retention_days],
        removal_policy=RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY,
    )


def dead_letter_queue(scope: Construct, construct_id: str, name: str) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        retention_period=Duration.days(14),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
}


class Layers(Construct):
    """The dependencies and the domain library, each packaged once and shared by every function."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        runtime = lambda_.Runtime(bundle.runtime(), lambda_.RuntimeFamily.PYTHON)
        # Built only where the stack's assets are (CDK's ``aws:cdk:bundling-stacks``: every stack unless
        # narrowed, as ``infra.cdk.app.build(..., templates_only=True)`` does); elsewhere its recipe stands
        # in, hashed by the recipe. A built layer keeps CDK's hash of its content: the pins include ranges.
        if Stack.of(self).bundling_required:
            dependencies = lambda_.Code.from_asset(str(bundle.dependencies_layer()))
        else:
            dependencies = lambda_.Code.from_asset(
                str(bundle.dependencies_recipe()),
                asset_hash=bundle.dependencies_key(),
                asset_hash_type=AssetHashType.CUSTOM,
            )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=dependencies,
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="Runtime dependencies pinned in pyproject.toml",
        )
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            code=lambda_.Code.from_asset(str(bundle.shared_layer())),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="The Tongting domain library (shared/)",
        )
        self.all = [self.dependencies, self.shared]
        self.runtime = runtime


class PlainFunctions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig, data: DataStores, layers: Layers
    ) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(bundle.functions_code(_http_package())))
        self.deployed: dict[str, Deployed] = {}
        for spec in resources.FUNCTIONS:
            if spec.logical == derive.HTTP_API:
                continue
            self.deployed[spec.logical] = self._function(spec, stage, data, layers, code)

    def _function(
        self, spec: resources.Function, stage: StageConfig, data: DataStores, layers: Layers, code: lambda_.Code
    ) -> Deployed:
        name = resources.resource_name(spec.logical, stage.name)
        cid = derive.pascal(spec.logical)
        logs_group = log_group(self, f"{cid}Logs", f"/aws/lambda/{name}", stage)
        role = function_role(
            self,
            f"{cid}Role",
            grants=derive.grants(spec),
            data=data,
            stage=stage.name,
            log_group=logs_group,
            description=f"{name}: {spec.purpose}",
        )
        environment = derive.environment(spec, stage)
        for machine in spec.state_machines_start:
            environment[resources.state_machine_env(machine)] = state_machine_arn(self, machine, stage.name)
        dlq = (
            dead_letter_queue(self, f"{cid}Dlq", f"{name}-dlq")
            if derive.invoked_async(spec) or spec.stream_source
            else None
        )
        concurrency = derive.reserved_concurrency(spec) if stage.reserved_concurrency else None
        function = lambda_.Function(
            self,
            cid,
            function_name=name,
            description=spec.purpose[:256],
            runtime=layers.runtime,
            architecture=lambda_.Architecture.X86_64,
            handler=spec.handler,
            code=code,
            layers=layers.all,
            role=role,
            timeout=Duration.seconds(spec.timeout_s),
            memory_size=derive.memory_mb(spec, stage),
            environment=environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs_group,
            reserved_concurrent_executions=concurrency,
            # Async invocations (schedules) that fail after Lambda's retries are kept here.
            dead_letter_queue=dlq if derive.invoked_async(spec) else None,
        )
        if spec.stream_source:
            function.add_event_source(
                sources.DynamoEventSource(
                    data.tables[spec.stream_source],
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=spec.batch_size,
                    max_batching_window=Duration.seconds(5),
                    bisect_batch_on_error=True,
                    # Only the changes a reader takes invoke it (the archive and books writers: new items
                    # only; issue 10: fewer invocations).
                    filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.or_(*spec.stream_events)})],
                    retry_attempts=STREAM_RETRIES,
                    # issue 10: a window only so that each batch names its shard (the open counts' marks)
                    tumbling_window=Duration.seconds(spec.stream_window_s) if spec.stream_window_s else None,
                    # A batch that still fails is described here instead of blocking the shard.
                    on_failure=sources.SqsDlq(dlq),
                )
            )
        return Deployed(spec, name, function, logs_group, dlq)


def _http_package() -> str:
    return resources.function(derive.HTTP_API).handler.split(".")[1]  # functions.<api>.app.app
