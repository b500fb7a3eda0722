"""In-memory adapters for settlement: a ledger reader over a list of postings, owners, statements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.ledger.model import Line, Posting
from shared.settlement.model import FeeStatement, Statement


class MemoryLedger:
    """A PostingReader over postings kept in a dict (posting id -> posting)."""

    def __init__(self, postings: Iterable[Posting] = ()) -> None:
        self.postings_by_id: dict[str, Posting] = {p.posting_id: p for p in postings}
        self.reads = 0

    def post(self, posting: Posting) -> bool:
        if posting.posting_id in self.postings_by_id:
            return False
        self.postings_by_id[posting.posting_id] = posting
        return True

    def postings(self, accounts: Iterable[str], start: datetime, end: datetime) -> list[Posting]:
        wanted = set(accounts)
        self.reads += 1
        return [
            p for p in self.postings_by_id.values()
            if start <= p.occurred_at < end and any(e.account in wanted for e in p.entries)
        ]

    def lines(self, account: str, start: datetime, end: datetime) -> list[Line]:
        return [
            Line(p.posting_id, p.kind, e.account, e.amount_fen, p.occurred_at)
            for p in self.postings_by_id.values() if start <= p.occurred_at < end
            for e in p.entries if e.account == account
        ]

    def balance(self, account: str) -> int:
        return sum(e.amount_fen for p in self.postings_by_id.values() for e in p.entries if e.account == account)


class MemoryOwners:
    def __init__(self, operators: dict[str, tuple[str, str]], lots: dict[str, str], bills: dict[str, str] | None = None):
        """``operators``: id -> (district, ownership); ``lots``: lot -> operator; ``bills``: bill -> lot."""
        self._operators, self._lots, self._bills = operators, lots, bills or {}

    def operators(self) -> list[tuple[str, str, str]]:
        return [(op, d, own) for op, (d, own) in sorted(self._operators.items())]

    def lot(self, lot_id: str) -> tuple[str, str] | None:
        op = self._lots.get(lot_id)
        return (op, self._operators[op][0]) if op else None

    def bill_lot(self, bill_id: str) -> str | None:
        return self._bills.get(bill_id)


class MemoryStatements:
    def __init__(self) -> None:
        self._statements: dict[tuple[str, str], tuple[Statement, frozenset[str]]] = {}
        self._fees: dict[tuple[str, str], FeeStatement] = {}

    def issue(self, statement: Statement, covered: list[str]) -> bool:
        key = (statement.operator_id, statement.day)
        if key in self._statements:
            return False
        self._statements[key] = (statement, frozenset(covered))
        return True

    def get(self, operator_id: str, day: str) -> Statement | None:
        found = self._statements.get((operator_id, day))
        return found[0] if found else None

    def covered(self, statement: Statement) -> set[str]:
        return set(self._statements[(statement.operator_id, statement.day)][1])

    def list(self, operator_id: str, first_day: str, last_day: str) -> list[Statement]:
        return [st for (op, day), (st, _) in sorted(self._statements.items()) if op == operator_id and first_day <= day <= last_day]

    def issue_fee(self, fee: FeeStatement) -> bool:
        return self._fees.setdefault((fee.operator_id, fee.half), fee) is fee

    def get_fee(self, operator_id: str, half: str) -> FeeStatement | None:
        return self._fees.get((operator_id, half))

    def list_fees(self, operator_id: str | None = None) -> list[FeeStatement]:
        return [f for (op, _), f in sorted(self._fees.items()) if operator_id in (None, op)]


class LedgerView:
    """The PostingReader port over the platform's in-memory ledger (``memory_stores()``), so settlement,
    the platform fee and the city push run on memory stores too."""

    def __init__(self, ledger) -> None:
        self._ledger = ledger
        self.reads = 0

    def postings(self, accounts: Iterable[str], start: datetime, end: datetime) -> list[Posting]:
        ids = {line.posting_id for account in accounts for line in self.lines(account, start, end)}
        self.reads += len(ids)
        return [self._ledger.get(pid) for pid in sorted(ids)]

    def lines(self, account: str, start: datetime, end: datetime) -> list[Line]:
        return [line for line in self._ledger.lines(account, start) if line.occurred_at < end]

    def balance(self, account: str) -> int:
        return self._ledger.balance(account)

    def post(self, posting: Posting) -> bool:
        return self._ledger.post(posting)
