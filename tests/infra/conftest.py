"""Fixtures for the infrastructure tests: one synthesis per set of inputs, shared by every worker.

The synthesis (``tests.infra.synth_all``) and cfn-lint over its templates run in ONE background
process, started as soon as a session has collected a test that needs them (``pytest_collection_finish``),
so the workers run other modules meanwhile instead of waiting on it (the scheduler hands out the modules
that need templates last: ``tests/conftest.py``). Each step takes a file lock; a fixture that arrives
first does the step itself, one that arrives while the background holds the lock waits for it. The
output is kept in ``cdk.out/.cache/tests-<hash of the inputs>`` so other xdist workers (and later runs
with unchanged code) read the same templates and lint answer instead of producing them again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from infra.cdk.bundle import CACHE, ROOT, install_dependencies, prune, tree_hash
from infra.cdk.stages import STAGES, stack_name

TOOLS = ROOT / "infra" / "cdk" / "tools"
SYNTH_TIMEOUT_S = 600


def _inputs() -> list[Path]:
    """Everything a template depends on (node_modules and caches excluded)."""
    paths = [ROOT / "pyproject.toml", ROOT / "shared", ROOT / "functions", ROOT / "state_machines"]
    paths += sorted((ROOT / "infra" / "cdk").glob("*.py"))
    paths += [Path(__file__).with_name("synth_all.py"), ROOT / "infra" / "local" / "provision.py"]
    return [p for p in paths if p.exists()]


def _key() -> str:
    versions = "-".join(metadata.version(p) for p in ("aws-cdk-lib", "chalice"))
    return f"{tree_hash(*_inputs())}-{versions}"


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def output_dir() -> Path:
    return CACHE / f"tests-{_key()}"


def synthesise(out: Path) -> None:
    """The templates in ``out``, synthesised unless they are there (whoever holds the lock does it)."""
    with _lock(CACHE / ".tests-synth.lock"):
        if not (out / "done").exists():
            prune("tests-*", keep=out)  # earlier versions of the code
            env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
            run = subprocess.run(
                [sys.executable, "-m", "tests.infra.synth_all", str(out)],
                check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SYNTH_TIMEOUT_S,
            )  # fmt: skip
            assert run.returncode == 0, f"synthesis failed:\n{run.stdout[-5000:]}\n{run.stderr[-10000:]}"
            (out / "done").write_text("")


def layer_packages(out: Path) -> Path:
    """The dependencies layer's packages (``python/<packages>``) in ``out/deps-layer``, installed by the layer's
    recipe without bytecode (``bundle.install_dependencies``), once per set of inputs (the pins are one)."""
    layer = out / "deps-layer"
    with _lock(CACHE / ".tests-deps.lock"):
        if not (out / "deps-layer.done").exists():
            shutil.rmtree(layer, ignore_errors=True)
            install_dependencies(layer / "python", compile_bytecode=False)
            (out / "deps-layer.done").write_text("")
    return layer


# W3005: CDK adds DependsOn next to a Ref/GetAtt that already orders the resources. Harmless, and not
# ours to remove.
LINT_IGNORED = ["W3005"]


def lint(out: Path) -> dict:
    """cfn-lint over every template in ``out`` (the stages and the variant), run once per synthesis and
    cfn-lint version: ``{"command", "returncode", "output"}``, kept in ``out/cfn-lint.json``."""
    from infra.cdk.stages import STAGES

    paths = [template_path(out, s) for s in STAGES] + [template_path(out, "dev", variant=True)]
    command = [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", *LINT_IGNORED, "--", *map(str, paths)]
    answer = out / f"cfn-lint-{metadata.version('cfn-lint')}.json"
    with _lock(CACHE / ".tests-lint.lock"):
        if answer.exists():
            kept = json.loads(answer.read_text())
            if kept["command"] == command:
                return kept
        run = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
        kept = {"command": command, "returncode": run.returncode, "output": run.stdout + run.stderr}
        answer.write_text(json.dumps(kept))
    return kept


@pytest.fixture(scope="session")
def synth_dir() -> Path:
    out = output_dir()
    synthesise(out)
    return out


@pytest.fixture(scope="session")
def cfn_lint(synth_dir) -> dict:
    """cfn-lint's answer on this session's templates (``lint``)."""
    return lint(synth_dir)


_BACKGROUND: list[subprocess.Popen] = []


def pytest_collection_finish(session):
    """Start the synthesis (and cfn-lint, if ``cfn_lint`` is asked for; the layer's packages, if
    ``dependencies`` is) in the background, from one xdist worker, when a collected test needs templates and
    they are not there yet."""
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0" or _BACKGROUND or session.config.option.collectonly:
        return  # (--collect-only runs no test: nothing to prepare, nothing to wait for at its end)
    needed = set().union(*(getattr(item, "fixturenames", ()) for item in session.items))
    if "synth_dir" not in needed:
        return
    out, linting, packages = output_dir(), "cfn_lint" in needed, "dependencies" in needed
    if ((out / "done").exists() and (not linting or list(out.glob("cfn-lint-*.json")))
            and (not packages or (out / "deps-layer.done").exists())):
        return
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    _BACKGROUND.append(subprocess.Popen([sys.executable, "-m", "tests.infra.prepare", str(out), *(["--lint"] if linting else []),
                                         *(["--packages"] if packages else [])],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True))  # its own group: stopped whole (below)


def pytest_sessionfinish(session, exitstatus):
    """Waited for, not left behind (its CPU is the session's); a session stopped early (``-x``, Ctrl-C)
    stops it with its synthesis subprocess, leaving no step marked done."""
    stopped = exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop or session.shouldfail)
    for process in _BACKGROUND:
        try:
            process.wait(timeout=5 if stopped else SYNTH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    _BACKGROUND.clear()


def template_path(synth_dir: Path, stage: str, variant: bool = False) -> Path:
    if variant:
        from tests.infra.synth_all import VARIANT_APP

        return synth_dir / "variant" / f"{VARIANT_APP}-{stage}.template.json"
    return synth_dir / "assembly" / f"{stack_name(stage)}.template.json"


@pytest.fixture(scope="session")
def raw_templates(synth_dir) -> dict[str, dict]:
    """The synthesised templates as dicts, by stage, plus ``variant``."""
    out = {stage: json.loads(template_path(synth_dir, stage).read_text()) for stage in STAGES}
    out["variant"] = json.loads(template_path(synth_dir, "dev", variant=True).read_text())
    return out


@pytest.fixture(scope="session")
def templates(raw_templates):
    """A ``Template`` per stage (and ``variant``) with CDK's assertions in plain Python (``template.py``:
    jsii's ``Template.from_json`` cost a worker ~15 s)."""
    from tests.infra.template import Template

    return {name: Template.from_json(body) for name, body in raw_templates.items()}


@pytest.fixture(scope="session")
def asl_validator() -> Path:
    """The npm ``asl-validator`` CLI, installed from infra/cdk/tools/package-lock.json when missing."""
    binary = TOOLS / "node_modules" / ".bin" / "asl-validator"
    with _lock(CACHE / ".npm-tools.lock"):
        if not binary.exists():
            run = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                check=False, cwd=TOOLS, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert run.returncode == 0, f"npm ci in {TOOLS} failed:\n{run.stdout}\n{run.stderr}"
    return binary
