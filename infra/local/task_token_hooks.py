"""Makes ``.waitForTaskToken`` tasks wait on the stack's clock (moto 5.2.5 waits in wall time).

In moto's interpreter (``moto/stepfunctions/parser``) a callback Task waits twice, both with
``threading.Event.wait``: ``ExecutionState._evaluate_with_timeout`` runs the task in a worker thread and
gives it ``TimeoutSeconds`` of wall time, and inside it ``StateTaskServiceCallback._eval_wait_for_task_token``
waits for SendTaskSuccess/Failure ``TimeoutSeconds`` (or, with ``HeartbeatSeconds``, that long between
heartbeats, the overall timeout then being left to the outer wait). Here:

* the token wait measures ``TimeoutSeconds``/``TimeoutSecondsPath`` and ``HeartbeatSeconds`` on the clock
  (``Clock.wait_for``): with a ``ManualClock`` a test's ``clock.advance(900)`` times out a 900 s wait, and a
  SendTaskSuccess before that ends it, both at once;
* the outer wall-time wait is lifted for callback tasks only (the token wait always ends by its deadline);
  plain ``lambda:invoke`` tasks keep wall-time timeouts, their duration being compute, not the world's time;
* whether a callback is in time is decided by the clock when it is sent, as in AWS: once the token's
  deadline has passed or it was answered, SendTaskSuccess/Failure/Heartbeat raise ``TaskTimedOut`` (moto
  accepted them silently, and its own ``TaskTimedOut()`` lacks a message and fails with a TypeError). After
  the execution has ended moto answers SendTaskSuccess/Heartbeat with ``InvalidToken``.
"""

from __future__ import annotations

import threading
import types
from datetime import timedelta

from moto.stepfunctions.parser.api import TaskTimedOut
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.callback import callback

from shared.clock import Clock

_evaluate_with_timeout = execute_state.ExecutionState._evaluate_with_timeout
_notify = callback.CallbackPoolManager.notify
_heartbeat = callback.CallbackPoolManager.heartbeat
_lifted = threading.local()


class _OuterEvent(threading.Event):
    """The event ``_evaluate_with_timeout`` waits on for its task: no wall-time limit for callback tasks."""

    def wait(self, timeout: float | None = None) -> bool:
        return super().wait(None if getattr(_lifted, "on", False) else timeout)


def _evaluate_lifted(self, env) -> None:
    if not (isinstance(self, StateTaskServiceCallback) and self.resource.condition == ResourceCondition.WaitForTaskToken):
        return _evaluate_with_timeout(self, env)
    _lifted.on = True
    try:
        return _evaluate_with_timeout(self, env)
    finally:
        _lifted.on = False


def install(clock: Clock) -> None:
    # The wait stores on moto's CallbackEndpoint: ends_at (TimeoutSeconds) and closes_at (the earlier of
    # ends_at and the next heartbeat due); a heartbeat moves closes_at when it is sent.
    def check_open(endpoint) -> None:
        closes_at = getattr(endpoint, "closes_at", None)  # None: the task has not started waiting yet
        if endpoint.get_outcome() is not None or (closes_at is not None and clock.now() >= closes_at):
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'", exception_type="TaskTimedOut")

    def notify(self, callback_id, outcome) -> bool:
        if (endpoint := self.get(callback_id)) is not None:
            check_open(endpoint)
        return _notify(self, callback_id, outcome)

    def heartbeat(self, callback_id) -> bool:
        if (endpoint := self.get(callback_id)) is not None:
            check_open(endpoint)
            if getattr(endpoint, "beat_s", None) is not None:  # before moto wakes the wait with it
                endpoint.closes_at = min(endpoint.ends_at, clock.now() + timedelta(seconds=endpoint.beat_s))
        return _heartbeat(self, callback_id)

    def wait_for_token(self, env, timeout_seconds, callback_endpoint, heartbeat_endpoint):
        """The callback's outcome, ``HeartbeatTimedOut`` or ``CallbackOutcomeTimedOut``, as moto's version returns."""
        ep, beat = callback_endpoint, heartbeat_endpoint._next_heartbeat_event if heartbeat_endpoint else None
        ep.beat_s = heartbeat_endpoint._heartbeat_seconds if heartbeat_endpoint else None
        ep.ends_at = clock.now() + timedelta(seconds=timeout_seconds)
        ep.closes_at = ep.ends_at if ep.beat_s is None else min(ep.ends_at, clock.now() + timedelta(seconds=ep.beat_s))

        def due() -> bool:  # against closes_at itself: a heartbeat may move it during the wait
            return clock.now() >= ep.closes_at

        def woken() -> bool:
            return ep.get_outcome() is not None or not env.is_running() or bool(beat and beat.is_set()) or due()

        while True:
            clock.wait_for(woken, max((ep.closes_at - clock.now()).total_seconds(), 0))
            if (outcome := ep.get_outcome()) is not None:  # answered in time: check_open refuses later ones
                return outcome
            if not env.is_running():  # the execution was stopped
                return callback.CallbackOutcomeTimedOut(callback_id=ep.callback_id)
            if beat is not None and beat.is_set():
                beat.clear()
            elif due():
                break
        if ep.closes_at < ep.ends_at:
            return callback.HeartbeatTimedOut()
        return callback.CallbackOutcomeTimedOut(callback_id=ep.callback_id)

    StateTaskServiceCallback._eval_wait_for_task_token = wait_for_token
    callback.CallbackPoolManager.notify = notify
    callback.CallbackPoolManager.heartbeat = heartbeat
    execute_state.ExecutionState._evaluate_with_timeout = _evaluate_lifted
    execute_state.threading = types.SimpleNamespace(Event=_OuterEvent)
