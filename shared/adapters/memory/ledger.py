"""The double-entry ledger in memory: postings stored once, with their lines; a balance is the sum of its
account's lines, as in DynamoDB (no balance is kept apart)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from shared.adapters.memory.db import LOCK
from shared.errors import Conflict, InvalidInput
from shared.ledger import model
from shared.ledger.model import Line, Posting


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Ledger:
    def __init__(self) -> None:
        self.postings: dict[str, dict] = {}
        self._lines: dict[str, list[tuple[str, Line]]] = {}  # account -> (sort key, line)

    # For the stores whose transactions include postings (money, coupons): check, then apply under LOCK
    def absent(self, postings: Iterable[Posting]) -> bool:
        ids = [p.posting_id for p in postings]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a posting id is staged twice in one transaction", code="duplicate_posting")
        return not any(i in self.postings for i in ids)

    def apply(self, postings: Iterable[Posting]) -> None:
        for p in postings:
            self.postings[p.posting_id] = p.model_dump(mode="json")
            for e in p.entries:
                line = Line(p.posting_id, p.kind, e.account, e.amount_fen, p.occurred_at)
                self._lines.setdefault(e.account, []).append((f"{_utc(p.occurred_at)}#{p.posting_id}", line))

    def post(self, posting: Posting) -> bool:
        with LOCK:
            if not self.absent([posting]):
                stored = self.get(posting.posting_id)
                if (stored.kind, set(stored.entries)) != (posting.kind, set(posting.entries)):
                    raise Conflict(
                        f"posting id {posting.posting_id} is stored with other entries", code="posting_id_reused"
                    )
                return False
            self.apply([posting])
        return True

    def get(self, posting_id: str) -> Posting | None:
        doc = self.postings.get(posting_id)
        return Posting.model_validate(doc) if doc is not None else None

    def balance(self, account: str) -> int:
        with LOCK:
            return sum(line.amount_fen for _, line in self._lines.get(account, []))

    def lines(self, account: str, since: datetime | None = None) -> list[Line]:
        floor = _utc(since) if since else ""
        return [line for key, line in sorted(self._lines.get(account, []), key=lambda kl: kl[0]) if key >= floor]

    def scan_postings(self) -> Iterator[Posting]:
        for doc in list(self.postings.values()):
            yield Posting.model_validate(doc)

    def check(self) -> list[str]:
        with LOCK:  # one snapshot of postings and lines, as the DynamoDB check's one consistent scan
            postings = list(self.scan_postings())
            derived = {a: sum(line.amount_fen for _, line in lines) for a, lines in self._lines.items()}
        return model.check(postings, derived)
