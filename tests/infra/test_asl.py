"""Every state machine definition passes the States Language validator (npm asl-validator) and uses
exactly the task placeholders its entry in shared.resources substitutes."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from infra.cdk.bundle import ROOT
from shared import resources

ASL_DIR = ROOT / "state_machines"
ASL_FILES = sorted(ASL_DIR.glob("*.asl.json"))


def validate(validator, path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(validator), "--json-path", str(path)], check=False, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_definition_is_valid_states_language(asl_validator, path):
    result = validate(asl_validator, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_missing_transition(asl_validator, tmp_path):
    definition = json.loads(ASL_FILES[0].read_text())
    state = next(s for s in definition["States"].values() if "Next" in s)
    state["Next"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    result = validate(asl_validator, broken)
    assert result.returncode != 0 and "NoSuchState" in result.stdout + result.stderr


def test_every_file_belongs_to_exactly_one_state_machine():
    assert sorted(m.definition_file for m in resources.STATE_MACHINES) == [p.name for p in ASL_FILES]


@pytest.mark.parametrize("machine", resources.STATE_MACHINES, ids=lambda m: m.logical)
def test_placeholders_are_the_tasks_functions(machine):
    text = (ASL_DIR / machine.definition_file).read_text()
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    assert used == {resources.task_placeholder(t) for t in machine.tasks}
    assert all(t in {f.logical for f in resources.FUNCTIONS} for t in machine.tasks)


LAMBDA_INTEGRATIONS = ("arn:aws:states:::lambda:invoke", "arn:aws:states:::lambda:invoke.waitForTaskToken")


def _task_states(states: dict) -> list[tuple[str, dict]]:
    """Every Task state, also inside Parallel branches and Map iterators."""
    out = []
    for name, state in states.items():
        if state["Type"] == "Task":
            out.append((name, state))
        for branch in state.get("Branches", []):
            out += _task_states(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                out += _task_states(state[key]["States"])
    return out


@pytest.mark.parametrize("machine", resources.STATE_MACHINES, ids=lambda m: m.logical)
def test_tasks_invoke_their_functions_through_the_lambda_integration(machine):
    """The state machine's role may invoke its task functions (``lambda:InvokeFunction``, test_template_iam),
    which is what both Lambda integrations need; any other resource would be denied at run time. A callback
    task passes its token and has a timeout: a lost callback fails the execution (and its alarm fires)
    instead of waiting a year."""
    definition = json.loads((ASL_DIR / machine.definition_file).read_text())
    placeholders = {"${" + resources.task_placeholder(t) + "}" for t in machine.tasks}
    tasks = _task_states(definition["States"])
    assert tasks
    for name, state in tasks:
        assert state["Resource"] in LAMBDA_INTEGRATIONS, name
        assert state["Parameters"]["FunctionName"] in placeholders, name
        if state["Resource"].endswith(".waitForTaskToken"):
            assert "$$.Task.Token" in json.dumps(state["Parameters"]["Payload"]), name
            assert {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"} & set(state), (
                name
            )
