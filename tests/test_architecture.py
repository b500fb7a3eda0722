"""The floors hold: the domain, its services and the entry points import no adapter, no AWS SDK and no
DynamoDB mapper; only ``shared/adapters/`` and the composition root (``shared/bootstrap.py``) do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent / "shared"
FORBIDDEN = ("shared.adapters", "boto3", "botocore", "pynamodb", "moto")
ALLOWED = {SHARED / "bootstrap.py"}


def _domain_modules() -> list[Path]:
    return sorted(
        p for p in SHARED.rglob("*.py") if (SHARED / "adapters") not in p.parents and p not in ALLOWED
    )


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: str(p.relative_to(SHARED)))
def test_domain_modules_import_no_adapter_and_no_aws(path):
    bad = [n for n in _imports(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"{path.relative_to(SHARED.parent)} imports {bad}: take a port (shared/<domain>/ports.py) instead"


@pytest.mark.parametrize(
    "path", sorted((SHARED.parent / "functions").rglob("*.py")), ids=lambda p: str(p.relative_to(SHARED.parent))
)
def test_entry_points_reach_adapters_only_through_the_composition_root(path):
    bad = [n for n in _imports(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"{path.relative_to(SHARED.parent)} imports {bad}: use shared.bootstrap.services()"


def test_the_rule_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from shared.adapters.dynamo.money import MoneyStore\nimport boto3\n")
    assert _imports(bad) == ["shared.adapters.dynamo.money", "boto3"]


def test_every_port_module_defines_a_protocol_with_a_contract():
    ports = sorted(SHARED.rglob("ports.py"))
    assert len(ports) >= 10
    for path in ports:
        tree = ast.parse(path.read_text())
        protocols = [
            n for n in tree.body
            if isinstance(n, ast.ClassDef) and any("Protocol" in ast.unparse(b) for b in n.bases)
        ]  # fmt: skip
        assert protocols, f"{path} defines no Protocol"
        assert any(ast.get_docstring(p) for p in protocols), f"{path}: no port states its contract"


def test_the_services_run_on_memory_stores_without_moto():
    """The whole platform is built and an event goes through it with no embedded AWS loaded."""
    import subprocess
    import sys

    script = """
import sys
from shared import bootstrap
from shared.clock import ManualClock
from tests.support import build_city
services = bootstrap.configure(ManualClock(), bootstrap.memory_stores())
build_city(services.registry)
assert services.ledger.check() == []
leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('moto', 'pynamodb') or m.startswith('shared.adapters.dynamo'))
assert not leaked, leaked
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=SHARED.parent, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
