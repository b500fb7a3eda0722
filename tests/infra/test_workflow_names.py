"""Workflow names and task actions are constants (``shared.workflows``) that match the ASL files, the
resources table and the task functions' dispatch tables."""

from __future__ import annotations

import json
from pathlib import Path

from functions.arrears_escalation import handler as arrears_handler
from functions.pay_later_billing import handler as pay_later_handler
from shared import resources, workflows

ASL = Path(__file__).resolve().parents[2] / "state_machines"
NAMES = (workflows.UNMATCHED_EXIT_REVIEW, workflows.PAY_LATER_BILLING, workflows.ARREARS_ESCALATION)


def _actions(machine: resources.StateMachine) -> set[str]:
    found: set[str] = set()

    def walk(states: dict) -> None:
        for state in states.values():
            payload = state.get("Parameters", {}).get("Payload", {})
            if state.get("Type") == "Task" and "action" in payload:
                found.add(payload["action"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(json.loads((ASL / machine.definition_file).read_text())["States"])
    return found


def test_every_workflow_name_is_a_state_machine_of_the_resources():
    assert sorted(NAMES) == sorted(m.logical for m in resources.STATE_MACHINES)


def test_the_asl_task_actions_are_the_declared_constants():
    for machine in resources.STATE_MACHINES:
        declared = workflows.TASK_ACTIONS.get(machine.logical)
        assert _actions(machine) == ({a.value for a in declared} if declared else set()), machine.logical


def test_the_task_functions_dispatch_exactly_the_declared_actions():
    assert set(pay_later_handler.ACTIONS) == set(workflows.PayLaterTask)
    assert set(arrears_handler.ACTIONS) == set(workflows.ArrearsTask)


def test_a_handler_finds_its_action_by_the_plain_string_the_asl_sends():
    assert pay_later_handler.ACTIONS["charge"] is pay_later_handler.ACTIONS[workflows.PayLaterTask.CHARGE]
