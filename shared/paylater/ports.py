"""The pay-later port: the task token of a billing workflow waiting for its bill to be paid."""

from __future__ import annotations

from typing import Protocol


class PayLaterTokens(Protocol):
    """Contract (``tests/contracts/test_pay_later_tokens.py``): one token per bill; ``keep`` replaces it,
    ``forget`` removes it (forgetting none is fine)."""

    def keep(self, bill_id: str, token: str, at: str) -> None: ...

    def get(self, bill_id: str) -> str | None: ...

    def forget(self, bill_id: str) -> None: ...
