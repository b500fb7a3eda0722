"""cfn-lint passes on every synthesised template (SAM resources included: cfn-lint checks them
against SAM's own schemas). It runs once per synthesis (``tests/infra/conftest.py``: ``cfn_lint``), usually in the
background before this test asks for its answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cdk


def test_cfn_lint_passes_on_every_template(cfn_lint):
    assert cfn_lint["returncode"] == 0, cfn_lint["output"]
