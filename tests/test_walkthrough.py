"""README's walk-through ("Paying on the local stack") is tools/walkthrough.sh; this runs it, as a newcomer
would, against ``make run`` started in a scratch directory on free ports."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests import running_stack

pytestmark = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="the walk-through needs bash and curl")


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    stack = running_stack.start(tmp_path_factory.mktemp("make-run"))
    yield stack
    stack.stop()


def test_readme_walkthrough_runs(local):
    out = subprocess.run(["bash", str(running_stack.REPO / "tools" / "walkthrough.sh")], cwd=local.workdir,
                         env={**local.env, "PY": sys.executable}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("bill bill_") and "due 600 fen for 苏B****5" in line for line in lines), out.stdout
    assert "payment " in out.stdout and " succeeded" in out.stdout
    assert "True" in lines  # the ledger is sound


def test_readme_quotes_the_walkthrough():
    readme = (running_stack.REPO / "README.md").read_text()
    assert "tools/walkthrough.sh" in readme and "entry-3h-ago.json" not in readme
