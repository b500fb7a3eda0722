"""boto3 clients, created once per process (Lambda reuses them across invocations)."""

from __future__ import annotations

import functools
import os

import boto3


@functools.cache
def client(service: str):
    return boto3.client(service, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def reset() -> None:
    """Forget cached clients (the local stack and tests start a fresh embedded AWS)."""
    client.cache_clear()
    from shared.adapters.dynamo.models import reset_connections

    reset_connections()
