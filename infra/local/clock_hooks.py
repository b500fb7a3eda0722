"""Makes moto's Step Functions interpreter wait on the stack's clock instead of the wall clock.

Wait states and Retry intervals call ``clock.sleep``; with a ``ManualClock`` they resume exactly when a
test advances time, so workflow tests never sleep. ``.waitForTaskToken`` timeouts and heartbeats are measured
on the clock too (``task_token_hooks``). Not hooked: ``Wait`` with ``Timestamp``/``TimestampPath`` (moto
compares with ``datetime.now()``) and ``.sync`` integrations (moto polls every 0.5 s of wall time).
"""

from __future__ import annotations

import time as _time
import types

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

from infra.local import task_token_hooks
from shared.clock import Clock


def install(clock: Clock) -> None:
    def wait_interval(self, env, wait_seconds: int) -> None:
        if wait_seconds > 0:
            clock.sleep(wait_seconds)

    wait_function.WaitFunction._wait_interval = wait_interval
    shim = types.SimpleNamespace(**{name: getattr(_time, name) for name in dir(_time) if not name.startswith("__")})
    shim.sleep = clock.sleep
    retrier_decl.time = shim
    task_token_hooks.install(clock)
