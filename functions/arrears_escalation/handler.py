"""Workflow tasks (arrears-escalation): one function, the ASL names the task in ``action``."""

from __future__ import annotations

from shared.bootstrap import services
from shared.observability import flush

ACTIONS = {
    "advance": lambda svc, e: svc.advance(e["case_id"]),
    "await_change": lambda svc, e: svc.await_change(e["case_id"], e["token"]),
}


def handler(event: dict, context) -> dict | None:
    try:
        return ACTIONS[event["action"]](services().arrears, event)
    finally:
        flush()
