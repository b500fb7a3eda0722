"""``python -m tests.infra.prepare OUTDIR [--lint]``: the synthesis and cfn-lint the infrastructure tests read,
produced ahead of them in the background (``tests/infra/conftest.py`` starts it; a failure here is not
reported here: the tests' fixtures find the step undone and do it again themselves, failing with its
output)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.infra.conftest import lint, synthesise

if __name__ == "__main__":
    out = Path(sys.argv[1])
    synthesise(out)
    if "--lint" in sys.argv[2:]:
        lint(out)
