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


def validate(validator, *paths) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(validator), *(a for p in paths for a in ("--json-path", str(p)))],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _verdicts(result: subprocess.CompletedProcess, paths) -> dict[str, tuple[bool, str]]:
    """Each file's verdict from one run of the CLI over several files: ``✓ ... "<path>" is valid`` on stdout,
    or ``✕ ... "<path>" is invalid:`` on stderr followed by its errors (up to the next file's line)."""
    out: dict[str, tuple[bool, str]] = {}
    for path in map(str, paths):
        if f'"{path}" is valid' in result.stdout:
            out[path] = (True, "")
        elif (mark := f'"{path}" is invalid:') in result.stderr:
            text = result.stderr.split(mark, 1)[1].split("\u2715 State machine definition", 1)[0]
            out[path] = (False, text)
    return out


@pytest.fixture(scope="module")
def verdicts(asl_validator, tmp_path_factory):
    """One validator process (node starts once, ~0.4 s of CPU each) over every definition and a broken copy
    of the first; each test reads its file's verdict."""
    definition = json.loads(ASL_FILES[0].read_text())
    state = next(s for s in definition["States"].values() if "Next" in s)
    state["Next"] = "NoSuchState"
    broken = tmp_path_factory.mktemp("asl") / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    result = validate(asl_validator, *ASL_FILES, broken)
    assert result.returncode == 1, result.stdout + result.stderr  # a validation error (2: the program failed)
    return _verdicts(result, [*ASL_FILES, broken]), broken, result


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_definition_is_valid_states_language(verdicts, path):
    by_path, _, result = verdicts
    assert by_path.get(str(path)) == (True, ""), result.stdout + result.stderr


def test_validator_rejects_a_missing_transition(verdicts):
    by_path, broken, result = verdicts
    valid, errors = by_path.get(str(broken), (True, ""))
    assert not valid and "NoSuchState" in errors, result.stdout + result.stderr


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
