"""Workflow tasks (pay-later-billing): one function, the ASL names the task in ``action``."""

from __future__ import annotations

from shared.bootstrap import services
from shared.observability import flush
from shared.workflows import PayLaterTask

ACTIONS = {
    PayLaterTask.AWAIT_PAYMENT: lambda svc, e: svc.await_payment(e["bill_id"], e["token"]),
    PayLaterTask.CHARGE: lambda svc, e: svc.charge(e["bill_id"], int(e["attempt"])),
    PayLaterTask.OPEN_ARREARS: lambda svc, e: svc.open_arrears(e["bill_id"]),
}


def handler(event: dict, context) -> dict | None:
    try:
        return ACTIONS[event["action"]](services().pay_later, event)
    finally:
        flush()
