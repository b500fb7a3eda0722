"""Least-privilege IAM: each function's role gets exactly the grants ``derive.grants`` lists, on the
ARNs of those resources, and a log-writing permission on its own log group only."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cdk.data import DataStores
from infra.cdk.derive import Grant, iam_description
from shared import resources


def state_machine_arn(scope: Construct, logical: str, stage: str) -> str:
    """Computed from the name, so a function may start a machine whose tasks reference it (no cycle)."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=resources.resource_name(logical, stage),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def parameter_arn(scope: Construct, logical: str, stage: str) -> str:
    return Stack.of(scope).format_arn(
        service="ssm",
        resource="parameter",
        resource_name=resources.parameter_name(logical, stage).lstrip("/"),
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def _sns_arns(scope: Construct) -> str:
    return f"arn:{Stack.of(scope).partition}:sns:*:*:*"


def resource_arns(scope: Construct, grant: Grant, data: DataStores, stage: str) -> list[str]:
    if grant.target == "table":
        return [data.tables[grant.name].table_arn]
    if grant.target == "index":
        table, index = grant.name.split("/")
        return [f"{data.tables[table].table_arn}/index/{index}"]
    if grant.target == "bucket-objects":
        return [data.buckets[grant.name].arn_for_objects("*")]
    if grant.target in ("state-machine", "task-tokens"):
        return [state_machine_arn(scope, grant.name, stage)]
    if grant.target == "device-secrets-key":
        return [data.device_secrets_key.key_arn]
    if grant.target == "parameter":
        return [parameter_arn(scope, grant.name, stage)]
    raise ValueError(f"unknown grant target {grant.target}")


def function_role(
    scope: Construct,
    construct_id: str,
    *,
    grants: list[Grant],
    data: DataStores,
    stage: str,
    log_group: logs.ILogGroup,
    description: str,
) -> iam.Role:
    """A role for one function: its grants plus writing to its own log group.

    Grants with the same actions share one statement (every index read, every read-only table...): the
    role's inline policy stays well under IAM's 10 KB, where CDK would start spilling statements into
    managed "overflow" policies."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=iam_description(description),
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
    )
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for grant in grants:
        if grant.target == "phone-numbers":  # SMS to a number: any SNS resource but a topic (or other ARN)
            role.add_to_policy(iam.PolicyStatement(actions=list(grant.actions), not_resources=[_sns_arns(scope)]))
            continue
        by_actions.setdefault(grant.actions, []).extend(resource_arns(scope, grant, data, stage))
    for actions, arns in by_actions.items():
        role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=arns))
    return role
