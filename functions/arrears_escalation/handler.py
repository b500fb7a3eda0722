"""Workflow tasks (arrears-escalation): one function, the ASL names the task in ``action``."""

from __future__ import annotations

from shared.bootstrap import services
from shared.observability import flush
from shared.workflows import ArrearsTask

ACTIONS = {
    ArrearsTask.ADVANCE: lambda svc, e: svc.advance(e["case_id"]),
    ArrearsTask.AWAIT_CHANGE: lambda svc, e: svc.await_change(e["case_id"], e["token"]),
}


def handler(event: dict, context) -> dict | None:
    try:
        return ACTIONS[event["action"]](services().arrears, event)
    finally:
        flush()
