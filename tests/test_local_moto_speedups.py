"""infra/local/moto_speedups.py's deferral of a package's ``__init__`` (moto's Batch, which would import all
of moto's EC2 for a Step Functions integration Tongting's workflows never use)."""

from __future__ import annotations

import sys
from pathlib import Path

from infra.local.moto_speedups import deferred_init

REPO = Path(__file__).resolve().parents[1]


def test_no_workflow_has_a_batch_task():
    definitions = list((REPO / "state_machines").glob("*.json"))
    assert definitions and not [d.name for d in definitions if "states:::batch" in d.read_text()]


def test_a_deferred_package_runs_its_init_on_first_use_only(tmp_path, monkeypatch):
    pkg = tmp_path / "heavy_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import sys\nsys.heavy_inits = getattr(sys, 'heavy_inits', 0) + 1\n"
                                     "from .models import backends\n")
    (pkg / "models.py").write_text("backends = {'us-east-1': 'the backend'}\n")
    (pkg / "utils.py").write_text("STATUS = 'SUCCEEDED'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "heavy_inits", 0, raising=False)
    try:
        deferred_init("heavy_pkg")
        from heavy_pkg.utils import STATUS  # a submodule alone: the package's __init__ has not run

        assert STATUS == "SUCCEEDED" and sys.heavy_inits == 0 and "heavy_pkg.models" not in sys.modules
        import heavy_pkg

        assert heavy_pkg.backends == {"us-east-1": "the backend"} and sys.heavy_inits == 1  # first use: it runs
        assert sys.modules["heavy_pkg"].utils.STATUS == "SUCCEEDED" and sys.heavy_inits == 1
        real = sys.modules["heavy_pkg"]
        deferred_init("heavy_pkg")  # already imported: nothing happens
        assert sys.modules["heavy_pkg"] is real and sys.heavy_inits == 1
    finally:
        for name in [n for n in sys.modules if n == "heavy_pkg" or n.startswith("heavy_pkg.")]:
            del sys.modules[name]
