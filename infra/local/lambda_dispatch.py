"""Runs the project's own handlers when moto invokes a Lambda function (moto needs Docker otherwise).

moto's Step Functions interpreter invokes Task functions through its Lambda backend; replacing
``LambdaFunction._invoke_lambda`` makes those invocations call our Python handler, in-process, with the
same payload and error shape Lambda uses, so Retry and Catch in the ASL behave as in AWS.
"""

from __future__ import annotations

import importlib
import json
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from moto.awslambda import models as lambda_models

from shared import resources

_overrides: dict[str, Callable[[Any, Any], Any]] = {}


class LocalContext:
    def __init__(self, function_name: str, timeout_s: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def handler_for(function_name: str) -> tuple[Callable[[Any, Any], Any], int]:
    if function_name in _overrides:
        return _overrides[function_name], 30
    fn = next(f for f in resources.FUNCTIONS if f.name == function_name)
    module, attr = fn.handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr), fn.timeout_s


def invoke(function_name: str, event: Any) -> tuple[str, bool]:
    handler, timeout = handler_for(function_name)
    try:
        result = handler(event, LocalContext(function_name, timeout))
        return json.dumps(result, default=str), False
    except Exception as exc:  # Lambda reports any exception as a function error
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                           "stackTrace": traceback.format_exc().splitlines()[-5:]}), True


def _invoke_lambda(self, event: str | None = None) -> tuple[str, bool, str]:
    payload = json.loads(event) if isinstance(event, (str, bytes)) else (event or {})
    body, errored = invoke(self.function_name, payload)
    return body, errored, ""


def install() -> None:
    lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda


def override(function_name: str, handler: Callable[[Any, Any], Any] | None) -> None:
    """Tests replace one function's handler (e.g. to crash once) without touching the others."""
    if handler is None:
        _overrides.pop(function_name, None)
    else:
        _overrides[function_name] = handler
