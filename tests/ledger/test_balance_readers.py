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


def test_the_accounts_read_by_account_are_indexed():
    """Issue 10: the DynamoDB ledger indexes only the accounts read by account (``Account.read_by_account``);
    settlement's windows and the reports' balances must all be among them."""
    from shared.ledger.accounts import NOT_READ_BY_ACCOUNT, Account, AccountKind

    read = {AccountKind.OPERATOR_REVENUE, AccountKind.OPERATOR_DISCOUNTS, AccountKind.PROVIDER_CLEARING,
            AccountKind.WRITE_OFF, *(AccountKind(k) for k in SMALL)}
    assert not read & NOT_READ_BY_ACCOUNT
    assert Account.read_by_account(Account.operator_revenue("op")) and not Account.read_by_account(Account.receivable("苏B1"))
    settlement = (ROOT / "shared/settlement/service.py").read_text(encoding="utf-8")
    used = {k for k in AccountKind if f"Account.{k.value}(" in settlement}
    assert used and used <= read  # a new account settlement reads by window must be indexed: add it to ``read``
