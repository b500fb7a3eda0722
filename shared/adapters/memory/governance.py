"""The governance loop's last two ports in memory, so settlement and the city push run on
``memory_stores()`` too: a PostingReader over the in-memory ledger the services post to, and a Transport
that keeps what it was given to send instead of sending it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from shared.adapters.memory.db import LOCK
from shared.adapters.memory.ledger import Ledger
from shared.ledger.model import Line, Posting


class LedgerReader:
    """The PostingReader port over ``adapters/memory/ledger.Ledger`` (its lines by account, then the
    postings by id: the same two reads as the DynamoDB reader). ``reads`` counts items read."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.reads = 0

    def lines(self, account: str, start: datetime, end: datetime) -> list[Line]:
        out = [line for line in self._ledger.lines(account, since=start) if line.occurred_at < end]
        self.reads += len(out)
        return out

    def postings(self, accounts: Iterable[str], start: datetime, end: datetime) -> list[Posting]:
        ids = sorted({line.posting_id for account in set(accounts) for line in self.lines(account, start, end)})
        self.reads += len(ids)
        return [p for p in map(self._ledger.get, ids) if p is not None]

    def balance(self, account: str) -> int:
        return self._ledger.balance(account)

    def post(self, posting: Posting) -> bool:
        return self._ledger.post(posting)


@dataclass
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class RecordingTransport:
    """The Transport port without a network: every request is kept in ``sent``; ``answers`` scripts the
    next replies (an HTTP status, or None for an unreachable platform), then every request gets 200.
    Statuses of 400 and above come back with an error text, as the HTTP transport's do."""

    sent: list[Sent] = field(default_factory=list)
    answers: list[int | None] = field(default_factory=list)

    def send(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int | None, str | None]:
        with LOCK:
            self.sent.append(Sent(url, body, dict(headers)))
            status = self.answers.pop(0) if self.answers else 200
        if status is None:
            return None, "unreachable: scripted"
        return status, (f"HTTP {status}" if status >= 400 else None)
