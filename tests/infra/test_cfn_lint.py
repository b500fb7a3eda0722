"""cfn-lint passes on every synthesised template (SAM resources included: cfn-lint checks them
against SAM's own schemas). It runs once per synthesis (``tests/infra/conftest.py``: ``lint``), usually in the
background before this test asks for its answer."""

from __future__ import annotations

import pytest

from tests.infra.conftest import lint

pytestmark = pytest.mark.cdk


def test_cfn_lint_passes_on_every_template(synth_dir):
    result = lint(synth_dir)
    assert result["returncode"] == 0, result["output"]
