"""Bills, payments and refunds, and the one transaction that changes them together with the ledger.

Every money movement is ``MoneyStore.commit``: new versions of bills, payments and refunds (each
conditional on the version it was based on, or on not existing yet) and the ledger postings (each
conditional on its id being new), all or nothing. A lost race returns False and the service re-decides
from fresh reads; a posting that already exists means the movement already happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import failed_conditions, save_if, versioned
from shared.adapters.dynamo.ledger import LedgerStore, transaction_conflict
from shared.adapters.dynamo.models import BillItem, PaymentItem, SessionItem, read_by_keys, transaction_connection
from shared.bills.model import Bill
from shared.bills.paging import BillCursor
from shared.clock import SHANGHAI
from shared.payments.model import Payment, Refund
from shared.payments.ports import Change


def _day(provider: str, at: datetime) -> str:
    return f"{provider}#{at.astimezone(SHANGHAI).date().isoformat()}"


GRACE_QUEUE = "PAYLATER"  # the one partition of the sparse by_grace_end index


def _bill_item(bill: Bill) -> BillItem:
    awaiting = bill.awaiting_grace_end  # in the index only until paid or its billing starts
    return BillItem(
        pk=bill.bill_id,
        version=bill.version,
        doc=bill.model_dump(mode="json"),
        plate=bill.plate,  # no lot_id: nothing lists a lot's bills, so by_lot costs a bill no write (issue 10)
        created_at=bill.created_at.isoformat(),
        lane_key=f"{bill.lot_id}#{bill.lane}" if bill.lane and bill.exited_at else None,
        exited_at=bill.exited_at.isoformat() if bill.exited_at else None,
        grace_queue=GRACE_QUEUE if awaiting else None,
        grace_due=bill.grace_ends.astimezone(UTC).isoformat() if awaiting else None,
    )


def _payment_item(payment: Payment) -> PaymentItem:
    return PaymentItem(
        pk=payment.payment_id,
        version=payment.version,
        doc=payment.model_dump(mode="json"),
        provider_ref=payment.provider_ref,
        provider_day=_day(payment.provider, payment.created_at),
        created_at=payment.created_at.isoformat(),
    )


def _refund_item(refund: Refund) -> PaymentItem:
    return PaymentItem(pk=refund.refund_id, version=refund.version, doc=refund.model_dump(mode="json"))


class MoneyStore:
    """The ``MoneyStore`` port on DynamoDB (``shared.payments.ports``)."""

    def __init__(self, ledger: LedgerStore) -> None:
        self.ledger = ledger

    # Reads (strongly consistent: every decision is followed by a conditional write)
    def bill(self, bill_id: str) -> Bill | None:
        ahead = read_ahead.take(BillItem, bill_id)  # issue 10: the exit's guess, proven by its transaction
        if ahead is not read_ahead.MISS:
            return Bill.model_validate(ahead.doc) if ahead is not None else None
        try:
            return Bill.model_validate(BillItem.get(bill_id, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def payment(self, payment_id: str) -> Payment | None:
        try:
            item = PaymentItem.get(payment_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Payment.model_validate(item.doc) if item.doc else None

    def refund(self, refund_id: str) -> Refund | None:
        try:
            return Refund.model_validate(PaymentItem.get(refund_id, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def payment_by_ref(self, provider_ref: str) -> Payment | None:
        for item in PaymentItem.by_provider_ref.query(provider_ref):
            found = self.payment(item.pk)  # the index is eventually consistent: re-read the item
            if found is not None:
                return found
        return None

    def payments_of(self, bill: Bill) -> list[Payment]:
        return [p for p in (self.payment(pid) for pid in bill.payments) if p is not None]

    def payments_on(self, provider: str, day: str) -> Iterator[Payment]:
        """Payments created on a local day at a provider (for reconciliation). The index holds keys only:
        the payments are read by key in batches, strongly consistent."""
        keys = [i.pk for i in PaymentItem.by_provider_day.query(f"{provider}#{day}") if i.pk.startswith("pay_")]
        for item in read_by_keys(PaymentItem, keys):  # in the index's order (created_at)
            if item.doc:
                yield Payment.model_validate(item.doc)

    def bill_at_lane(self, lot_id: str, lane: str, since: datetime) -> Bill | None:
        """The latest bill of a car that left through this lane since ``since``."""
        items = BillItem.by_lane.query(
            f"{lot_id}#{lane}", BillItem.exited_at >= since.isoformat(), scan_index_forward=False, limit=1
        )
        return next((self.bill(i.pk) for i in items), None)

    def bill_keys_of_plate(self, plate: str, limit: int = 50, after: BillCursor | None = None) -> list[BillCursor]:
        """The index holds keys only (issue 10: a paid bill's update writes nothing to it), newest first by
        created_at alone: the query is read on, a page of keys at a time, until ``limit`` keys after the
        cursor are found and the instant of the last is complete (bills sharing an instant are ordered by id
        here, not by the index)."""
        since = None if after is None else BillItem.created_at <= after.created_at.isoformat()
        keys: list[BillCursor] = []
        for item in BillItem.by_plate.query(plate, since, scan_index_forward=False, page_size=limit + 2):
            key = BillCursor(datetime.fromisoformat(item.created_at), item.pk)
            if len(keys) >= limit and key.created_at < keys[-1].created_at:
                break
            if after is None or key < after:
                keys.append(key)
        return sorted(keys, reverse=True)[:limit]

    def bills_by_id(self, bill_ids: Sequence[str]) -> list[Bill]:
        """One eventually consistent batch read (half the units of a strong one) per 100 ids."""
        return [Bill.model_validate(i.doc) for i in read_by_keys(BillItem, list(bill_ids), consistent_read=False)]

    def bills_at_grace_end(self, until: datetime, limit: int = 500) -> list[str]:
        """One query of the sparse index (keys only, eventually consistent: read each bill by id)."""
        items = BillItem.by_grace_end.query(
            GRACE_QUEUE, BillItem.grace_due <= until.astimezone(UTC).isoformat(), limit=limit)
        return [i.pk for i in items]

    # Writes
    def create_payment(self, payment: Payment) -> bool:
        """Record a payment before asking the provider; False if it exists (a retried request)."""
        return save_if(_payment_item(payment), PaymentItem.pk.does_not_exist())

    def commit(self, change: Change, copy_to_pointer: bool = True) -> bool:
        """All of ``change`` or nothing; False if a condition failed (someone else moved first)."""
        records = list(_versioned(change))
        marks = _pointer_marks(change, copy_to_pointer)
        if len(records) == 1 and not change.postings and not marks:
            (item, version), = records  # one record: a conditional put, at half a transaction's write units
            return save_if(item, versioned(type(item), version))
        tx = TransactWrite(connection=transaction_connection())
        try:
            with tx:
                self._stage(tx, change, marks)
        except TransactWriteError as exc:
            if change.open_session is None and copy_to_pointer and _only_pointers_failed(tx, exc):
                # The plate's pointer no longer names the bill's session (it left, or an on-street stay with
                # a berth's pointer): the copy is only a shortcut for the exit, so store the change without it.
                return self.commit(change, copy_to_pointer=False)
            if failed_conditions(exc) or transaction_conflict(exc):
                return False  # someone moved first (or concurrently): re-read and re-decide
            raise
        return True

    def stage(self, tx: TransactWrite, change: Change, copy_to_pointer: bool = True) -> None:
        """Add ``change`` to the caller's transaction (the exit's session transaction carries its bill)."""
        self._stage(tx, change, _pointer_marks(change, copy_to_pointer))

    def _stage(self, tx: TransactWrite, change: Change, marks: dict[str, tuple[str, list]]) -> None:
        for item, version in _versioned(change):
            tx.save(item, condition=versioned(type(item), version))
        if change.postings:
            self.ledger.stage(tx, *change.postings)  # one item per two-entry posting, no balance items
        for key, (session_id, actions) in marks.items():
            tx.update(SessionItem(pk=key), actions=actions, condition=SessionItem.session_id == session_id)

    # Callback receipts: the audit trail of every verified delivery, and a cheap duplicate check
    def record_receipt(self, provider: str, event_id: str, body: dict, at: datetime) -> bool:
        item = PaymentItem(pk=f"CALLBACK#{provider}#{event_id}", doc={**body, "received_at": at.isoformat()})
        return save_if(item, PaymentItem.pk.does_not_exist())

    def record_finding(self, key: str, finding: dict) -> bool:
        """A reconciliation finding for staff; keyed so that a re-run records nothing new."""
        return save_if(PaymentItem(pk=f"FINDING#{key}", doc=finding), PaymentItem.pk.does_not_exist())

    def findings(self) -> list[dict]:
        return [i.doc for i in PaymentItem.scan(PaymentItem.pk.startswith("FINDING#"))]


def _pointer_marks(change: Change, copy_to_pointer: bool) -> dict[str, tuple[str, list]]:
    """The open-session pointers a change updates, each only if it still names the bill's session: a bill
    created while its car is parked (prepaid in the lot) marks the pointer, and every write of a bill whose
    car has not left, once something is paid on it, keeps a copy of it there (issue 10, fourth part): the
    exit's batched read then has the bill without a dependent read (its transaction stores the bill over the
    copy's version, so a stale copy fails that write and the retry reads the bill). Not before the payment:
    a pointer over 1 KB costs twice the units, and a driver who opened the pay page without paying is asked
    to pay at the exit anyway (the exit reads the bill then)."""
    from shared.adapters.dynamo.sessions import pointer_key

    marks: dict[str, tuple[str, list]] = {}
    subjects = {}
    if change.open_session is not None:
        lot_id, subject, session_id = change.open_session
        marks[pointer_key(lot_id, subject)] = (session_id, [SessionItem.billed.set(1)])
        subjects[session_id] = pointer_key(lot_id, subject)
    for bill in change.bills if copy_to_pointer else ():
        if bill.exited_at is None and bill.entered_at is not None and bill.paid_fen:
            key = subjects.get(bill.session_id) or pointer_key(bill.lot_id, f"P#{bill.plate}")
            marks[key] = (bill.session_id, [SessionItem.billed.set(1), SessionItem.bill_copy.set(bill.model_dump(mode="json"))])
    return marks


def _only_pointers_failed(tx: TransactWrite, exc: TransactWriteError) -> bool:
    """True if the transaction failed only on conditions of open-session pointers (pynamodb sends condition
    checks, deletes, puts, then updates, whatever the order they were staged in)."""
    sent = [*tx._condition_check_items, *tx._delete_items, *tx._put_items, *tx._update_items]
    failed = [op for op, reason in zip(sent, exc.cancellation_reasons or [], strict=False)
              if reason is not None and reason.code == "ConditionalCheckFailed"]
    other = [r for r in exc.cancellation_reasons or [] if r is not None and r.code not in (None, "None", "ConditionalCheckFailed")]
    return bool(failed) and not other and all(op["TableName"] == SessionItem.Meta.table_name for op in failed)


def _versioned(change: Change) -> Iterable[tuple[object, int]]:
    for bill in change.bills:
        yield _bill_item(bill), bill.version
    for payment in change.payments:
        yield _payment_item(payment), payment.version
    for refund in change.refunds:
        yield _refund_item(refund), refund.version
