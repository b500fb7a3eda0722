"""The workflows port, and the names that tie the code to the ASL files in ``state_machines/``.

A workflow's name is its logical name in ``shared.resources.STATE_MACHINES``; a task's ``action`` is the
value an ASL Task state passes in its payload, dispatched by the task function's ``ACTIONS`` table.
``tests/infra/test_workflow_names.py`` checks both against the ASL files and the handlers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

UNMATCHED_EXIT_REVIEW = "unmatched-exit-review"
PAY_LATER_BILLING = "pay-later-billing"
ARREARS_ESCALATION = "arrears-escalation"


class PayLaterTask(StrEnum):
    """The ``action`` of each Task state of ``pay_later_billing.asl.json``."""

    AWAIT_PAYMENT = "await_payment"
    CHARGE = "charge"
    OPEN_ARREARS = "open_arrears"


class ArrearsTask(StrEnum):
    """The ``action`` of each Task state of ``arrears_escalation.asl.json``."""

    ADVANCE = "advance"
    AWAIT_CHANGE = "await_change"


# Workflows whose single task function dispatches on ``action`` (the review workflow's task has one job).
TASK_ACTIONS: dict[str, type[StrEnum]] = {PAY_LATER_BILLING: PayLaterTask, ARREARS_ESCALATION: ArrearsTask}


class Workflows(Protocol):
    """Contract (``tests/contracts/test_workflows.py``):

    - ``start`` is idempotent per (workflow, name): the execution name is the business key, and starting a
      name that already ran or runs is a no-op.
    - ``wake`` completes a waiting ``.waitForTaskToken`` task with ``output``; False if the token is spent
      (answered, timed out, or its execution ended): the workflow moved on and reads the new state itself.
    """

    def start(self, logical: str, name: str, payload: dict) -> None: ...

    def wake(self, token: str, output: dict) -> bool: ...
