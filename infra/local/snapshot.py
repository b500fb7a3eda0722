"""Keep the embedded AWS's state across ``make run`` restarts: a snapshot on stop, restored on start.

What is kept: every DynamoDB table's items (registry, sessions, bills, ledger, accounts, ...), the S3
buckets (the event archive), the device-secrets KMS key's material (so the stored device secrets still
decrypt) and the token-signing parameter (so issued tokens stay valid). What is not: Step Functions
executions in flight and the sandbox provider's unfinished payer intents (start them again); streams
resume at their latest record (nothing is archived twice). The file is a pickle of moto's own objects,
written under ``.local/`` and only ever read back by the same machine's ``make run``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from infra.local import moto_speedups
from shared import resources
from shared.adapters.aws import client

FORMAT = 1


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def _backend(service: str):
    return get_backend(service)[DEFAULT_ACCOUNT_ID][_region()]


def _device_key():
    kms = _backend("kms")
    return kms.keys[kms.any_id_to_key_id(resources.DEVICE_SECRETS_KEY_ALIAS)]


def save(path: Path) -> None:
    token_param = resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER)
    key = _device_key()
    state = {
        "format": FORMAT,
        "tables": _backend("dynamodb").tables,
        "buckets": {name: b for name, b in get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"].buckets.items()},
        "device_key": (key.id, key.key_material),
        "token_key": client("ssm").get_parameter(Name=token_param, WithDecryption=True)["Parameter"]["Value"],
    }
    tmp = path.with_suffix(".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(pickle.dumps(state))
    tmp.replace(path)  # a crash while writing never leaves half a snapshot


def restore(path: Path) -> bool:
    """Put a snapshot's state into the freshly provisioned embedded AWS. False if there is none to use."""
    try:
        state = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return False
    if state.get("format") != FORMAT:
        return False
    dynamodb = _backend("dynamodb")
    for name, table in state["tables"].items():
        if name in dynamodb.tables:  # only tables the stack still defines
            dynamodb.tables[name] = table
    s3 = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    for name, bucket in state["buckets"].items():
        if name in s3.buckets:
            s3.buckets[name] = bucket
    old_id, material = state["device_key"]
    key = _device_key()
    key.key_material = material
    _backend("kms").keys[old_id] = key  # ciphertexts name the key they were sealed with
    client("ssm").put_parameter(Name=resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER),
                                Value=state["token_key"], Type="SecureString", Overwrite=True)
    moto_speedups.forget_parameters()
    return True
