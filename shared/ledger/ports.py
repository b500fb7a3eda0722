"""The ledger's port: where postings are stored, exactly once, with their lines; balances derived from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from shared.ledger.model import Line, Posting


class Ledger(Protocol):
    """Contract (``tests/contracts/test_ledger.py`` runs it on every implementation):

    - ``post`` stores a posting and its lines together or not at all; a posting id is stored once: posting
      it again returns False and writes nothing, and raises ``Conflict`` (``posting_id_reused``) if the
      stored posting moves different money. No balance is stored (issue 10): nothing but the posting is
      written, so postings to one account never contend.
    - ``balance`` is derived: the sum of the account's lines, exact to the fen (0 for an account never
      posted to). It reads every line of the account, so it is for accounts that stay small (the fee and
      return accounts, read by reports); and it may lag a posting stored a moment ago where lines are read
      from an eventually consistent index (DynamoDB: usually under a second), missing that posting whole.
    - ``lines`` lists an account's lines in time order, from ``since`` if given (the same lag).
    - ``check`` returns no problem while every posting is balanced, its lines are its entries and the
      balances the lines add up to are the sums of the postings' entries. It reads the store itself,
      strongly consistent: the exact proof, where ``balance`` may lag.
    """

    def post(self, posting: Posting) -> bool: ...

    def get(self, posting_id: str) -> Posting | None: ...

    def balance(self, account: str) -> int: ...

    def lines(self, account: str, since: datetime | None = None) -> list[Line]: ...

    def scan_postings(self) -> Iterator[Posting]: ...

    def check(self) -> list[str]: ...
