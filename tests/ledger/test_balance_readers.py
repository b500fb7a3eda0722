"""Who reads a derived balance (issue 10, ledger part).

``Ledger.balance`` sums every line of the account (``shared/adapters/dynamo/ledger.py``: no balance is
stored), so outside the adapters it may only be read for the accounts that stay small: the fee and return
accounts, which only the half-yearly fee and district-return postings touch. A new caller on an account
that grows with traffic fails here: it needs a window read (``PostingReader.lines``) or a checkpoint."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"platform_fee", "operator_fee_receivable", "district_returns"}  # Account.<builder> of the small accounts


def _balance_reads():
    for top in ("shared", "functions", "tools", "bench"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("shared/adapters/"):
                continue  # the stores themselves, and the settlement readers passing the call on
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "balance":
                    yield rel, node


def _builder(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and isinstance(arg.func.value, ast.Name):
        return arg.func.attr if arg.func.value.id == "Account" else None
    return None


def test_balances_are_read_only_for_the_accounts_that_stay_small():
    reads = list(_balance_reads())
    assert len(reads) >= 3  # the fee report (platform and operators) and the district returns report
    wrong = [f"{rel}:{node.lineno}" for rel, node in reads if not node.args or _builder(node.args[0]) not in SMALL]
    assert wrong == []
