"""``python -m tests.infra.prepare OUTDIR [--lint] [--packages]``: the synthesis, the dependencies layer's packages
(``test_assets``) and cfn-lint the infrastructure tests read,
produced ahead of them in the background (``tests/infra/conftest.py`` starts it; a failure here is not
reported here: the tests' fixtures find the step undone and do it again themselves, failing with its
output)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.infra.conftest import layer_packages, lint, synthesise

if __name__ == "__main__":
    out = Path(sys.argv[1])
    synthesise(out)
    if "--packages" in sys.argv[2:]:  # before cfn-lint: test_assets is handed out before test_cfn_lint
        layer_packages(out)
    if "--lint" in sys.argv[2:]:
        lint(out)
