"""Every contract test runs twice: on the in-memory adapters and on the DynamoDB adapters (moto).

The embedded AWS is started once per module (keys are unique per test), so the DynamoDB half costs one
stack start per port, not one per test.
"""

from __future__ import annotations

import itertools

import pytest

from shared import bootstrap
from shared.clock import ManualClock

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def aws_stack():
    from infra.local.stack import LocalStack

    with LocalStack(ManualClock()) as st:
        yield st


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request) -> bootstrap.Stores:
    if request.param == "memory":
        return bootstrap.memory_stores()
    return request.getfixturevalue("aws_stack").services.stores


@pytest.fixture
def counted(request, stores):
    """Issue 10: on DynamoDB a lot's open count is added from the acks stream; call ``counted()`` before
    reading one (it delivers the stream, as Lambda would a second later). Memory stores count at once."""
    if request.node.callspec.params.get("stores") == "dynamodb":
        return request.getfixturevalue("aws_stack").pump_streams
    return lambda: 0


@pytest.fixture
def uid():
    """A fresh suffix: the DynamoDB half shares its tables across a module's tests."""
    return f"{next(_ids)}-{id(object())}"
