"""cfn-lint passes on every synthesised template (SAM resources included: cfn-lint checks them
against SAM's own schemas)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.cdk.stages import STAGES
from tests.infra.conftest import template_path

pytestmark = pytest.mark.cdk
# W3005: CDK adds DependsOn next to a Ref/GetAtt that already orders the resources. Harmless, and not
# ours to remove.
IGNORED = ["W3005"]


def test_cfn_lint_passes_on_every_template(synth_dir):
    paths = [template_path(synth_dir, s) for s in STAGES] + [template_path(synth_dir, "dev", variant=True)]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", *IGNORED, "--", *map(str, paths)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
