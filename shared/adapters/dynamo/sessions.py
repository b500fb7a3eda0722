"""Parking sessions and their open-session pointers; a plan is written in one transaction."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.citizens import notice_item
from shared.adapters.dynamo.conditions import save_if
from shared.adapters.dynamo.events import ack_item
from shared.adapters.dynamo.models import (
    AckItem, BillItem, LotStatusItem, SessionItem, transaction_connection,
)  # fmt: skip
from shared.bills.model import bill_id_for
from shared.ingest.ports import AckRecord
from shared.sessions.model import ParkingSession
from shared.sessions.planner import Plan
from shared.sessions.ports import Riders, WriteOutcome


def pointer_key(lot_id: str, subject: str) -> str:
    return f"OPEN#{lot_id}#{subject}"


def _item(session: ParkingSession) -> SessionItem:
    return SessionItem(
        pk=session.session_id,
        version=session.version,
        doc=session.model_dump(mode="json"),
        open_lot_id=session.lot_id if session.is_open else None,
        unmatched_lot_id=session.lot_id if session.is_unmatched else None,
        # by_plate serves parked() for berth sessions only (a plate's session at a gate has its pointer,
        # OPEN#lot#P#plate): a gate session carries no key, one index write fewer per entry (issue 10)
        plate=session.plate if session.berth else None,
        entered_at=session.entered_at.isoformat() if session.entered_at else None,
    )


def _session(item: SessionItem) -> ParkingSession:
    return ParkingSession.model_validate(item.doc)


def _with_open_delta(item: AckItem, delta: int) -> AckItem:
    if delta:
        item.open_delta = delta
    return item


def _failed_items(tx: TransactWrite, exc: TransactWriteError) -> set[str]:
    """Which of the transaction's items failed their condition: ``ack`` or ``other``
    (pynamodb sends condition checks, deletes, puts, then updates, whatever the order they were staged in)."""
    sent = [*tx._condition_check_items, *tx._delete_items, *tx._put_items, *tx._update_items]
    failed = set()
    for op, reason in zip(sent, exc.cancellation_reasons or [], strict=False):
        if reason is None or reason.code != "ConditionalCheckFailed":
            continue
        failed.add("ack" if op["TableName"] == AckItem.Meta.table_name else "other")
    return failed


class SessionStore:
    def get(self, session_id: str) -> ParkingSession | None:
        try:
            return _session(SessionItem.get(session_id, consistent_read=True))
        except DoesNotExist:
            return None

    def __init__(self, money=None) -> None:
        self._money = money  # the MoneyStore adapter whose changes ride in an exit's transaction

    def open_for(self, lot_id: str, subject: str) -> ParkingSession | None:
        pointer = read_ahead.take(SessionItem, pointer_key(lot_id, subject))
        if pointer is None:
            return None
        if pointer is not read_ahead.MISS and pointer.doc and pointer.doc.get("session_id") == pointer.session_id:
            # Read ahead: the pointer carries its session as written with it (no second, dependent read);
            # a stale copy fails the version condition of the write and the retry reads the session itself.
            if not pointer.billed:  # no bill while open (the usual case): the exit reads none
                read_ahead.assume_absent(BillItem, bill_id_for(pointer.session_id))
            elif pointer.bill_copy and pointer.bill_copy.get("session_id") == pointer.session_id:
                # prepaid in the lot: the bill as last written (the exit stores it only over this version)
                bill_id = bill_id_for(pointer.session_id)
                read_ahead.serve(BillItem, bill_id, BillItem(pk=bill_id, version=pointer.bill_copy["version"], doc=pointer.bill_copy))
            return _session(pointer)
        if pointer is read_ahead.MISS:
            try:
                pointer = SessionItem.get(pointer_key(lot_id, subject), consistent_read=True)
            except DoesNotExist:
                return None
        return self.get(pointer.session_id)

    def parked(self, lot_id: str, plate: str) -> ParkingSession | None:
        """The open session of a plate in a lot: through the gate pointer, else (on-street, where
        sessions are unique per berth) the plate's newest session."""
        found = self.open_for(lot_id, f"P#{plate}")
        if found is not None:
            return found
        for item in SessionItem.by_plate.query(plate, scan_index_forward=False, limit=5):
            session = self.get(item.pk)
            if session is not None and session.lot_id == lot_id and session.is_open:
                return session
        return None

    def open_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]:
        return tuple(_session(i) for i in SessionItem.open_by_lot.query(lot_id))

    def unmatched_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]:
        """Exits waiting for their entry. The count, kept in the same transactions, spares the index
        query on the common path where none wait."""
        status = read_ahead.take(LotStatusItem, lot_id, "LOT")
        if status is None:
            return ()
        if status is read_ahead.MISS:
            try:
                status = LotStatusItem.get(lot_id, "LOT", consistent_read=True, attributes_to_get=["unmatched_count"])
            except DoesNotExist:
                return ()
        if not status.unmatched_count:
            return ()
        return tuple(_session(i) for i in SessionItem.unmatched_by_lot.query(lot_id))

    def write(self, lot_id: str, plan: Plan, ack: AckRecord, riders: Riders | None = None) -> WriteOutcome:
        """Write the plan's sessions, pointers and unmatched count with the ack (carrying the open count's
        change, counted from the acks stream) and the riders, all or nothing."""
        riders = riders or Riders()
        tx = TransactWrite(connection=transaction_connection())
        try:
            with tx:
                streamed = plan.open_delta if ack.lot_id == lot_id else 0  # issue 10: the acks stream counts it
                tx.save(_with_open_delta(ack_item(ack), streamed), condition=AckItem.pk.does_not_exist())
                self._stage(tx, lot_id, plan, open_delta=plan.open_delta - streamed)
                self._stage_riders(tx, riders)
        except TransactWriteError as exc:
            failed = _failed_items(tx, exc)
            if not failed:
                from shared.adapters.dynamo.ledger import transaction_conflict

                if transaction_conflict(exc):
                    return WriteOutcome(written=False)  # a concurrent transaction on an item: re-read, retry
                raise
            return WriteOutcome(written=False, ack_exists="ack" in failed)
        return WriteOutcome(written=True)

    def _stage_riders(self, tx: TransactWrite, riders: Riders) -> None:
        if riders.money is not None:
            self._money.stage(tx, riders.money)
        if riders.notice is not None:  # no condition: the same notice id is the same notice
            tx.save(notice_item(riders.notice.account_id, riders.notice.notice))

    def replace(self, session: ParkingSession) -> bool:
        """Store a new version of one session (the workflow's review step); False if it moved on."""
        return save_if(_item(session), SessionItem.version == session.version - 1)

    @staticmethod
    def _stage(tx: TransactWrite, lot_id: str, plan: Plan, open_delta: int = 0) -> None:
        for session in plan.creates:
            tx.save(_item(session), condition=SessionItem.pk.does_not_exist())
        for session in plan.updates:
            tx.save(_item(session), condition=SessionItem.version == session.version - 1)
        written = {s.session_id: s for s in (*plan.creates, *plan.updates)}
        for p in plan.pointers:
            key = pointer_key(lot_id, p.subject)
            cond = SessionItem.pk.does_not_exist() if p.expected is None else SessionItem.session_id == p.expected
            if p.session_id is None:
                tx.delete(SessionItem(pk=key), condition=cond)
            else:
                session = written.get(p.session_id)  # the pointer carries its session: one read at the exit
                copy = {"version": session.version, "doc": session.model_dump(mode="json")} if session else {}
                tx.save(SessionItem(pk=key, session_id=p.session_id, **copy), condition=cond)
        # The open count rides on the ack (issue 10: the acks stream adds it, shared/availability/open_counts.py),
        # so the lot's item is in the transaction only for the unmatched count, which the exit reads exactly.
        counts = [
            attr.add(delta)
            for attr, delta in ((LotStatusItem.open_count, open_delta), (LotStatusItem.unmatched_count, plan.unmatched_delta))
            if delta
        ]
        if counts:
            tx.update(LotStatusItem(lot_id=lot_id, item="LOT"), actions=counts)
