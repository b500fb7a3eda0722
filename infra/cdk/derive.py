"""What each function needs, derived from its entry in ``shared.resources`` (plain data, no CDK).

The stack turns these answers into IAM statements, queues and limits, and the tests check them without
synthesising. Each rule reads a field of ``resources.Function``; no function is special-cased except
the HTTP API, which is the Chalice app and verifies admin tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infra.cdk.stages import StageConfig
from shared import resources

HTTP_API = "api"  # the logical name of the Chalice app in resources.FUNCTIONS

TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",  # a TransactWriteItems condition on a table it writes
)
INDEX_READ = ("dynamodb:Query", "dynamodb:Scan")
OBJECT_WRITE = ("s3:PutObject",)
OBJECT_READ = ("s3:GetObject",)
START_EXECUTION = ("states:StartExecution",)
# Completing a waiting ``.waitForTaskToken`` task. IAM evaluates these on the ARN of the state machine whose
# execution issued the token (what CDK's ``grantTaskResponse`` grants), so they are scoped like StartExecution.
SEND_TASK = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")
SEAL = ("kms:GenerateDataKey",)  # envelope encryption: shared/adapters/device_secrets.py
REVEAL = ("kms:Decrypt",)
# SecureStrings under the AWS managed key aws/ssm: its key policy lets every principal of the account
# decrypt through Parameter Store, so ssm:GetParameter on the parameter is the whole grant (no kms:Decrypt).
READ_PARAMETER = ("ssm:GetParameter",)
# SMS straight to a phone number has no resource ARN; the statement's NotResource excludes every topic.
TEXT_PHONES = ("sns:Publish",)

# A scheduled sweep runs alone: an overlapping run would double-process (and, for pushes, hit the
# receiving platform twice). Workflow tasks are capped so a burst of executions (a district's link
# coming back) cannot take the concurrency the device API needs; their ASL retries on throttling.
SCHEDULED_CONCURRENCY = 1
WORKFLOW_TASK_CONCURRENCY = 10

Target = Literal["table", "index", "bucket-objects", "state-machine", "task-tokens", "device-secrets-key", "parameter",
                 "phone-numbers"]


@dataclass(frozen=True)
class Grant:
    """``actions`` on one resource: ``name`` is a logical table, bucket, state machine (``state-machine``
    to start it, ``task-tokens`` to complete its waiting tasks) or parameter, or for an index ``table/index``."""

    target: Target
    name: str
    actions: tuple[str, ...]


def grants(fn: resources.Function) -> list[Grant]:
    out: list[Grant] = []
    for logical in sorted(set(fn.tables_read) | set(fn.tables_write)):
        actions = _merge(
            TABLE_READ if logical in fn.tables_read else (), TABLE_WRITE if logical in fn.tables_write else ()
        )
        out.append(Grant("table", logical, actions))
        if logical in fn.tables_read:
            out.extend(Grant("index", f"{logical}/{i.name}", INDEX_READ) for i in resources.table(logical).indexes)
    out.extend(Grant("bucket-objects", b, OBJECT_WRITE) for b in fn.buckets_write)
    out.extend(Grant("bucket-objects", b, OBJECT_READ) for b in fn.buckets_read)
    out.extend(Grant("state-machine", m, START_EXECUTION) for m in fn.state_machines_start)
    out.extend(Grant("task-tokens", m, SEND_TASK) for m in fn.task_tokens_for)
    # The devices table holds secrets sealed with the KMS key: writing a device seals, reading reveals.
    key_actions = _merge(
        SEAL if resources.DEVICES.logical in fn.tables_write else (),
        REVEAL if resources.DEVICES.logical in fn.tables_read else (),
    )
    if key_actions:
        out.append(Grant("device-secrets-key", resources.DEVICE_SECRETS_KEY_ALIAS, key_actions))
    out.extend(Grant("parameter", p, READ_PARAMETER) for p in parameters(fn))
    if fn.texts_phones:
        out.append(Grant("phone-numbers", "sms", TEXT_PHONES))
    return out


def parameters(fn: resources.Function) -> tuple[str, ...]:
    """The SSM parameters a function reads: its ``parameters_read``, and for the HTTP API the admin-token
    signing key (it mints and checks admin tokens)."""
    extra = (resources.ADMIN_TOKEN_PARAMETER,) if fn.logical == HTTP_API else ()
    return tuple(dict.fromkeys((*extra, *fn.parameters_read)))


def provider_parameters() -> tuple[str, ...]:
    """Parameters some function reads that ops provide (never generated): all but the admin-token key."""
    read = (p for f in resources.FUNCTIONS for p in f.parameters_read)
    generated = (resources.ADMIN_TOKEN_PARAMETER, resources.AUDIT_LOG_KEY_PARAMETER)
    return tuple(dict.fromkeys(p for p in read if p not in generated))


def scheduled(fn: resources.Function) -> bool:
    return any(s.function == fn.logical for s in resources.SCHEDULES)


def workflow_task(fn: resources.Function) -> bool:
    return any(fn.logical in m.tasks for m in resources.STATE_MACHINES)


def invoked_async(fn: resources.Function) -> bool:
    """EventBridge invokes scheduled functions asynchronously: failures must land in a DLQ."""
    return scheduled(fn)


def reserved_concurrency(fn: resources.Function) -> int | None:
    if scheduled(fn):
        return SCHEDULED_CONCURRENCY
    if workflow_task(fn):
        return WORKFLOW_TASK_CONCURRENCY
    return None


def memory_mb(fn: resources.Function, stage: StageConfig) -> int:
    """The function's Lambda memory: its own (``Function.memory_mb``, measured) or the stage's default."""
    return fn.memory_mb or stage.function_memory_mb


def environment(fn: resources.Function, stage: StageConfig) -> dict[str, str]:
    """Environment every function gets (state machine ARNs are added by the stack).

    ``TONGTING_PAYMENTS`` is set in every function, not only those reading the provider keys: a function
    that wrongly reached for a provider fails on the missing grant instead of quietly using the sandbox
    (the code's default when the variable is absent)."""
    texts = {"TONGTING_SMS": "sns"} if fn.texts_phones else {}  # shared/adapters/sms.py; else the sandbox
    return texts | {
        "TONGTING_STAGE": stage.name,
        "TONGTING_PAYMENTS": stage.payments,
        "POWERTOOLS_SERVICE_NAME": "tongting",
        "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(stage.name),
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def metrics_namespace(stage: str) -> str:
    """Custom metrics per stage, so two stages in one account never mix in a graph or alarm."""
    return f"Tongting/{stage}"


def iam_description(text: str) -> str:
    """IAM descriptions accept printable Latin-1 only (a purpose may contain 备案) and 1000 characters."""
    return "".join(c for c in text if c in "\t\n\r" or " " <= c <= "~" or "\u00a1" <= c <= "\u00ff")[:1000]


def pascal(logical: str) -> str:
    """``event-acks`` -> ``EventAcks``: construct ids stay readable in the template."""
    return "".join(part.capitalize() for part in logical.replace("_", "-").split("-"))


def _merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)
