"""``make run`` as a subprocess for tests that need the real servers (the README walk-through, the
browser tests): free ports, its own working directory for .local/, stopped with SIGTERM at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


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

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pay_app(self) -> str:
        return f"http://127.0.0.1:{self.pay_port}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO), "TONGTING_API_PORT": str(self.api_port),
                "TONGTING_PAY_APP_PORT": str(self.pay_port), "TONGTING_AWS_PORT": str(self.aws_port),
                "TONGTING_CITY_PUSH_PORT": str(self.city_port)}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(workdir: Path, timeout_s: float = 180, clean: bool = True) -> RunningStack:
    stack = RunningStack(workdir, free_port(), free_port(), free_port(), free_port(), None)  # type: ignore[arg-type]
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
                return stack
        except OSError:
            pass
        time.sleep(0.5)
    stack.stop()
    raise RuntimeError(f"make run did not come up in {timeout_s} s: {(workdir / 'run.log').read_text()[-3000:]}")
