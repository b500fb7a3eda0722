"""``make run`` as a subprocess for tests that need the real servers (the README walk-through, the
browser tests, the chaos over HTTP): free ports, its own working directory for .local/, stopped with
SIGTERM at the end.

Starting one costs about 9 s of CPU (provisioning, the demo city), so the test session starts ONE
(``make_run`` in tests/conftest.py) for every module in ``MODULES``, and the xdist scheduler keeps those
modules on one worker (``conftest.pytest_xdist_make_scheduler``), one test at a time. The tests keep to
themselves by their own plates, phones and devices."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The modules that use the session's ``make_run`` stack (tests/test_suite_plumbing.py checks the list).
MODULES = ("tests/chaos/test_chaos_http.py", "tests/test_walkthrough.py", "tests/web/test_citizen_pages.py",
           "tests/web/test_more_journeys.py")


def scope(module_scope: str) -> str:
    """The xdist scope of a module under ``--dist loadfile``: the modules on the session's stack share one."""
    return "make-run" if module_scope in MODULES else module_scope


# The modules that read the synthesised templates: they wait for the synthesis (which tests/infra/conftest.py
# starts in the background when the session has collected them), so they are handed out last.
AFTER_SYNTHESIS = "tests/infra/test_template_", "tests/infra/test_cfn_lint.py", "tests/infra/test_assets.py", \
    "tests/infra/test_single_definition.py", "tests/infra/test_gateway_responses.py"


def rank(scope: str) -> int:
    """The order the xdist scheduler hands out scopes in (a stable sort, so ties keep xdist's order: the
    scopes with most tests first). The ``make run`` group first: it is the longest in wall time (servers,
    Chromium, the chaos's settling: mostly waiting, so the other worker and the background synthesis fill
    the cores meanwhile) and would otherwise end the session alone; the modules that need templates last, the
    longest of them (``test_assets``: it installs the layer's packages, ~10 s) first, so that it does not end
    the session on one worker while the other is idle."""
    if scope == "make-run":
        return 0
    if scope.startswith("tests/infra/test_assets.py"):
        return 2
    return 3 if scope.startswith(AFTER_SYNTHESIS) else 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningStack:
    workdir: Path
    api_port: int
    pay_port: int
    aws_port: int
    city_port: int  # the local receiver of the city push: fixed ports collide between parallel stacks
    process: subprocess.Popen
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. the sandbox's delivery faults

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pay_app(self) -> str:
        return f"http://127.0.0.1:{self.pay_port}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.extra_env, "PYTHONPATH": str(REPO), "TONGTING_API_PORT": str(self.api_port),
                "TONGTING_PAY_APP_PORT": str(self.pay_port), "TONGTING_AWS_PORT": str(self.aws_port),
                "TONGTING_CITY_PUSH_PORT": str(self.city_port)}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def discard(self) -> None:
        """End it without keeping its state (SIGKILL): for the session's end, when no test reads the state
        again. ``stop`` is ``make run``'s own Ctrl-C, which writes the snapshot (~1-3 s) a restart reads."""
        self.process.kill()
        self.process.wait(timeout=30)

    def relaunch(self) -> None:
        """Start again after ``stop`` in the same directory (.local/ kept), on the same ports if still free."""
        try:
            _launch(self, clean=False, timeout_s=180)
        except RuntimeError:  # a port was taken meanwhile: fresh ones (whoever reads .api afterwards follows)
            self.api_port, self.pay_port, self.aws_port, self.city_port = free_port(), free_port(), free_port(), free_port()
            _launch(self, clean=False, timeout_s=180)


def start(workdir: Path, timeout_s: float = 180, clean: bool = True, extra_env: dict[str, str] | None = None) -> RunningStack:
    stack = RunningStack(workdir, free_port(), free_port(), free_port(), free_port(), None, dict(extra_env or {}))  # type: ignore[arg-type]
    _launch(stack, clean, timeout_s)
    return stack


def _launch(stack: RunningStack, clean: bool, timeout_s: float) -> None:
    workdir = stack.workdir
    log = open(workdir / "run.log", "a")
    stack.process = subprocess.Popen([sys.executable, "-m", "infra.local.run", *(["--clean"] if clean else [])], cwd=workdir, env=stack.env,
                                     stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"make run exited: {(workdir / 'run.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{stack.api}/health", timeout=2).read()
            if (workdir / ".local" / "admin-token").exists():
                return
        except OSError:
            pass
        time.sleep(0.1)  # a deadline, not a wait: the tests start as soon as the servers answer
    stack.stop()
    raise RuntimeError(f"make run did not come up in {timeout_s} s: {(workdir / 'run.log').read_text()[-3000:]}")
