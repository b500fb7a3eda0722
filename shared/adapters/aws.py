"""boto3 clients, created once per process (Lambda reuses them across invocations)."""

from __future__ import annotations

import functools
import os

import boto3


def client(service: str):
    return _client(service, os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), os.environ.get("AWS_ENDPOINT_URL"))


@functools.cache
def _client(service: str, region: str, endpoint: str | None):
    return boto3.client(service, region_name=region)


def reset() -> None:
    """Called when a fresh embedded AWS starts. The clients stay: moto intercepts every client of the
    process, whichever mock made it, and one costs ~0.1 s to build (a region or endpoint change gets its own
    client). The transaction connection is forgotten: it is cheap and may carry an endpoint."""
    from shared.adapters.dynamo.models import reset_connections

    reset_connections()
