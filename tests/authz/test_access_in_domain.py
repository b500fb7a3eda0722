"""Authorization lives in the domain (shared/access.py, one rule per resource), never in a route: the
tariff register and the district list refuse a citizen in their services, whoever calls them."""

from __future__ import annotations

import ast
import pathlib

import pytest

from shared.auth import Principal, Role
from shared.errors import Forbidden

CITIZEN = Principal(subject="c", role=Role.CITIZEN)
AUDITOR = Principal(subject="a", role=Role.AUDITOR)
ROUTES = pathlib.Path(__file__).resolve().parents[2] / "functions" / "api" / "routes"


@pytest.mark.parametrize("read", [
    lambda s, who: s.tariffs.list(who), lambda s, who: s.tariffs.get(who, "zhumadian-class1"),
    lambda s, who: s.registry.districts(who),
])  # fmt: skip
def test_reference_reads_are_refused_to_citizens_by_the_service(services, read):
    with pytest.raises(Forbidden) as refused:
        read(services, CITIZEN)
    assert refused.value.code == "role_forbidden"
    try:
        read(services, AUDITOR)  # staff pass the rule (an unknown tariff is then a plain 404)
    except Forbidden:
        pytest.fail("staff refused")
    except Exception as exc:
        assert getattr(exc, "code", "") == "unknown_tariff"


def test_no_route_module_decides_access_itself():
    for module in ROUTES.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert "shared.access" not in imported, f"{module.name} checks access itself: move the rule into shared/access.py"
