"""Pay-later workflow task tokens, one per bill, in memory."""

from __future__ import annotations


class PayLaterTokens:
    def __init__(self) -> None:
        self.tokens: dict[str, tuple[str, str]] = {}

    def keep(self, bill_id: str, token: str, at: str) -> None:
        self.tokens[bill_id] = (token, at)

    def get(self, bill_id: str) -> str | None:
        kept = self.tokens.get(bill_id)
        return kept[0] if kept else None

    def forget(self, bill_id: str) -> None:
        self.tokens.pop(bill_id, None)
