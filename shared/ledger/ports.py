"""The ledger's port: where postings are stored, exactly once, with their lines and balances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from shared.ledger.model import Line, Posting


class Ledger(Protocol):
    """Contract (``tests/contracts/test_ledger.py`` runs it on every implementation):

    - ``post`` stores a posting, its lines and its balance moves all together or not at all; a posting id is
      stored once: posting it again returns False and writes nothing, and raises ``Conflict``
      (``posting_id_reused``) if the stored posting moves different money.
    - ``balance`` is the sum of every stored entry of an account (0 for an account never posted to).
    - ``lines`` lists an account's lines in time order, from ``since`` if given.
    - ``check`` returns no problem while every posting is balanced and every balance is the sum of its lines.
    """

    def post(self, posting: Posting) -> bool: ...

    def get(self, posting_id: str) -> Posting | None: ...

    def balance(self, account: str) -> int: ...

    def balances(self, prefix: str | None = None) -> dict[str, int]: ...

    def lines(self, account: str, since: datetime | None = None) -> list[Line]: ...

    def scan_postings(self) -> Iterator[Posting]: ...

    def check(self) -> list[str]: ...
