"""The money port: bills, payments and refunds, and the one all-or-nothing change that moves money.

``Change`` is the unit of work of every money movement; the services decide it from fresh reads and hand it
to ``MoneyStore.commit``, which stores it whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.bills.model import Bill
from shared.ledger.model import Posting
from shared.ledger.ports import Ledger
from shared.payments.model import Payment, Refund


@dataclass
class Change:
    """What one money movement writes. Records with version 1 are created; others replace version - 1."""

    bills: list[Bill] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    # A bill created while its session is open (prepaid in the lot): (lot, subject, session id). The
    # session's open-session pointer records that the bill exists, in the same write, only if it still
    # names that session (issue 10: the exit then knows to read the bill; otherwise it reads none).
    open_session: tuple[str, str, str] | None = None


class MoneyStore(Protocol):
    """Contract (``tests/contracts/test_money.py``):

    - Reads are strongly consistent: every decision is followed by a conditional write.
    - ``commit(change)`` writes every record of ``change`` and its postings, or nothing. A record at version 1
      is created only if absent; a record at version n replaces only version n - 1. A posting id already
      stored fails the whole change. False: a condition failed (someone moved first): re-read, re-decide.
    - ``create_payment`` is put-if-absent (False: a retried request); so are ``record_receipt`` (False: a
      delivery seen before; a success callback that applies its payment is recorded by the payment instead,
      ``Payment.succeeded_event``) and ``record_finding`` (False: a re-run).
    - ``bill_at_lane`` is the newest bill that left through the lane at or after ``since``;
      ``bill_keys_of_plate`` newest first (nothing lists a lot's bills: stays per lot come from the archived
      events, ``SignalService.archived``); ``payments_on`` a provider's payments created on a
      local (Asia/Shanghai) day.
    - ``ledger`` is the ledger the postings go to.
    """

    ledger: Ledger

    def bill(self, bill_id: str) -> Bill | None: ...

    def payment(self, payment_id: str) -> Payment | None: ...

    def refund(self, refund_id: str) -> Refund | None: ...

    def payment_by_ref(self, provider_ref: str) -> Payment | None: ...

    def payments_of(self, bill: Bill) -> list[Payment]: ...

    def payments_on(self, provider: str, day: str) -> Iterator[Payment]: ...

    def bill_at_lane(self, lot_id: str, lane: str, since: datetime) -> Bill | None: ...

    def bill_keys_of_plate(self, plate: str, limit: int = 50, after: BillCursor | None = None) -> list[BillCursor]:
        """Where a plate's newest ``limit`` bills stand (created_at, bill id), newest first (both descending);
        with ``after``, only those after that bill in this order (the next page). No bill is read: the
        reader fetches the ones it shows (``bills_by_id``), and a page learns that another follows from
        one more key, not one more bill. From an index that may lag a write."""
        ...

    def bills_by_id(self, bill_ids: Sequence[str]) -> list[Bill]:
        """The bills of ``bill_ids`` in the order given, those not found left out; eventually consistent
        like the listing they come from: whoever changes a bill reads it again by id (``bill``)."""
        ...

    def bills_at_grace_end(self, until: datetime, limit: int = 500) -> list[str]:
        """Ids of pay-later bills whose grace period ended by ``until`` (earliest first), unpaid and with no
        billing workflow started (``Bill.awaiting_grace_end``). From an index that may lag a write: the
        caller reads each bill by id before it acts."""
        ...

    def create_payment(self, payment: Payment) -> bool: ...

    def commit(self, change: Change) -> bool: ...

    def record_receipt(self, provider: str, event_id: str, body: dict, at: datetime) -> bool: ...

    def record_finding(self, key: str, finding: dict) -> bool: ...

    def findings(self) -> list[dict]: ...
