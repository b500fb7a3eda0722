"""Creates every resource of ``shared.resources`` in the embedded AWS (moto), the way CDK does in AWS."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from pathlib import Path

from shared import resources
from shared.adapters.aws import client
from shared.audit.note import Signer

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
LAMBDA_ROLE = "tongting-local-lambda"
SFN_ROLE = "tongting-local-states"


def plan(stage: str) -> dict:
    """The names the local stack creates for a stage: compared with the CDK app's in a test."""
    return {
        "tables": [resources.resource_name(t.logical, stage) for t in resources.TABLES],
        "buckets": [resources.resource_name(b.logical, stage) for b in resources.BUCKETS],
        "state_machines": [resources.resource_name(m.logical, stage) for m in resources.STATE_MACHINES],
        "functions": [resources.resource_name(f.logical, stage) for f in resources.FUNCTIONS],
        "schedules": [
            (resources.resource_name(s.logical, stage), s.expression, resources.resource_name(s.function, stage))
            for s in resources.SCHEDULES
        ],
    }


def _attr_defs(table: resources.Table) -> list[dict]:
    attrs = {table.hash_key: table.hash_type}
    if table.range_key:
        attrs[table.range_key] = table.range_type
    for i in table.indexes:
        attrs[i.hash_key] = i.hash_type
        if i.range_key:
            attrs[i.range_key] = i.range_type
    return [{"AttributeName": k, "AttributeType": v} for k, v in attrs.items()]


def _key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def create_table(table: resources.Table) -> None:
    ddb = client("dynamodb")
    args: dict = {
        "TableName": table.name,
        "AttributeDefinitions": _attr_defs(table),
        "KeySchema": _key_schema(table.hash_key, table.range_key),
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        args["GlobalSecondaryIndexes"] = [
            {"IndexName": i.name, "KeySchema": _key_schema(i.hash_key, i.range_key), "Projection": {"ProjectionType": i.projection}}
            for i in table.indexes
        ]
    if table.stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ddb.create_table(**args)
    if table.ttl_attribute:
        ddb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )


def create_bucket(bucket: resources.Bucket) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket.name, ObjectLockEnabledForBucket=bucket.object_lock_days > 0)
    s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
    if bucket.object_lock_days:
        s3.put_object_lock_configuration(
            Bucket=bucket.name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": bucket.object_lock_days}},
            },
        )


def _role(name: str, service: str) -> str:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]


def _placeholder_zip() -> bytes:
    # moto stores code it never runs: the local stack dispatches invocations to the project's handlers.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("README.txt", "Tongting local stack: invocations are dispatched in-process.")
    return buf.getvalue()


def create_functions(env: dict[str, str]) -> dict[str, str]:
    from infra.local import moto_speedups  # here: ``plan`` is read without moto

    role = _role(LAMBDA_ROLE, "lambda.amazonaws.com")

    def create(fn: resources.Function) -> str:
        return client("lambda").create_function(
            FunctionName=fn.name,
            Runtime="python3.11",
            Role=role,
            Handler=fn.handler,
            Code={"ZipFile": _placeholder_zip()},
            Timeout=fn.timeout_s,
            Environment={"Variables": env},
        )["FunctionArn"]

    return moto_speedups.functions_once(resources.FUNCTIONS, env, create)


def definition(machine: resources.StateMachine, function_arns: dict[str, str]) -> str:
    """The ASL file with its ``${...FunctionArn}`` placeholders substituted, as CDK does in AWS."""
    text = (ROOT / "state_machines" / machine.definition_file).read_text()
    for logical in machine.tasks:
        text = text.replace("${" + resources.task_placeholder(logical) + "}", function_arns[logical])
    return text


def create_state_machines(function_arns: dict[str, str]) -> dict[str, str]:
    role = _role(SFN_ROLE, "states.amazonaws.com")
    arns = {}
    for machine in resources.STATE_MACHINES:
        out = client("stepfunctions").create_state_machine(
            name=machine.name, definition=definition(machine, function_arns), roleArn=role, type=machine.kind
        )
        arns[machine.logical] = out["stateMachineArn"]
    return arns


def create_key_and_parameters() -> None:
    key = client("kms").create_key(Description="Tongting device secrets")["KeyMetadata"]["KeyId"]
    client("kms").create_alias(AliasName=resources.DEVICE_SECRETS_KEY_ALIAS, TargetKeyId=key)
    client("ssm").put_parameter(
        Name=resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER),
        Value=secrets.token_urlsafe(32),
        Type="SecureString",
    )
    # Issue 12: the archive log's checkpoint key (in AWS ops create it: ``python -m infra.cdk.secrets``).
    client("ssm").put_parameter(
        Name=resources.parameter_name(resources.AUDIT_LOG_KEY_PARAMETER),
        Value=Signer.generate(f"tongting.{resources.stage()}/archive-log").signer_key(),
        Type="SecureString",
    )


def provision() -> dict[str, str]:
    """Everything, in dependency order. Returns the env each function would get in AWS."""
    from infra.local import moto_speedups  # here: ``plan`` is read without moto

    moto_speedups.tables_once(resources.TABLES, create_table)
    for bucket in resources.BUCKETS:
        create_bucket(bucket)
    create_key_and_parameters()
    function_arns = create_functions(env={})
    machine_arns = create_state_machines(function_arns)
    return {resources.state_machine_env(logical): arn for logical, arn in machine_arns.items()}
