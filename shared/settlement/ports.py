"""What settlement reads and writes, as ports. Adapters: ``shared/adapters/memory/settlement.py`` and
``shared/adapters/dynamo/settlement.py``; the composition root wires them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from shared.ledger.model import Line, Posting
from shared.settlement.model import FeeStatement, Statement


class PostingReader(Protocol):
    """Read-only view of the ledger.

    ``postings(accounts, start, end)``: every posting with an entry on one of ``accounts`` whose
    ``occurred_at`` lies in [start, end), each once, in any order. ``lines(account, start, end)``: that
    account's lines in the window, read independently of the posting documents (the check compares both).
    ``balance(account)``: the sum of the account's lines (``Ledger.balance``: eventually consistent, and its
    cost grows with the account's lines, so only for accounts that stay small: the fee and return accounts)."""

    def postings(self, accounts: Iterable[str], start: datetime, end: datetime) -> list[Posting]: ...

    def lines(self, account: str, start: datetime, end: datetime) -> list[Line]: ...

    def balance(self, account: str) -> int: ...

    def post(self, posting: Posting) -> bool:
        """Store a posting once (False: that id is stored already)."""
        ...


class Owners(Protocol):
    """Who owns what: the registry and bills, as settlement needs them."""

    def operators(self) -> list[tuple[str, str, str]]:
        """(operator_id, district_code, ownership) of every registered operator."""
        ...

    def lot(self, lot_id: str) -> tuple[str, str] | None:
        """(operator_id, district_code) of a lot, None if unknown."""
        ...

    def bill_lot(self, bill_id: str) -> str | None: ...


class StatementStore(Protocol):
    """Issued statements. ``issue`` stores a statement with the ids of the postings it covers only if
    no statement with its id exists (False: one does; nothing written): issued statements never change."""

    def issue(self, statement: Statement, covered: list[str]) -> bool: ...

    def get(self, operator_id: str, day: str) -> Statement | None: ...

    def covered(self, statement: Statement) -> set[str]: ...

    def list(self, operator_id: str, first_day: str, last_day: str) -> list[Statement]: ...

    def issue_fee(self, fee: FeeStatement) -> bool: ...

    def get_fee(self, operator_id: str, half: str) -> FeeStatement | None: ...

    def list_fees(self, operator_id: str | None = None) -> list[FeeStatement]: ...
