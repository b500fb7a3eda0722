"""Parking sessions and their open-session pointers; a plan is written in one transaction."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo.conditions import failed_conditions, save_if
from shared.adapters.dynamo.events import ack_item
from shared.adapters.dynamo.models import AckItem, LotStatusItem, SessionItem, transaction_connection
from shared.ingest.ports import AckRecord
from shared.sessions.model import ParkingSession
from shared.sessions.planner import Plan
from shared.sessions.ports import WriteOutcome


def pointer_key(lot_id: str, subject: str) -> str:
    return f"OPEN#{lot_id}#{subject}"


def _item(session: ParkingSession) -> SessionItem:
    return SessionItem(
        pk=session.session_id,
        version=session.version,
        doc=session.model_dump(mode="json"),
        open_lot_id=session.lot_id if session.is_open else None,
        unmatched_lot_id=session.lot_id if session.is_unmatched else None,
        plate=session.plate,
        entered_at=session.entered_at.isoformat() if session.entered_at else None,
    )


def _session(item: SessionItem) -> ParkingSession:
    return ParkingSession.model_validate(item.doc)


class SessionStore:
    def get(self, session_id: str) -> ParkingSession | None:
        try:
            return _session(SessionItem.get(session_id, consistent_read=True))
        except DoesNotExist:
            return None

    def open_for(self, lot_id: str, subject: str) -> ParkingSession | None:
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
        try:
            status = LotStatusItem.get(lot_id, "LOT", consistent_read=True, attributes_to_get=["unmatched_count"])
        except DoesNotExist:
            return ()
        if not status.unmatched_count:
            return ()
        return tuple(_session(i) for i in SessionItem.unmatched_by_lot.query(lot_id))

    def write(self, lot_id: str, plan: Plan, ack: AckRecord) -> WriteOutcome:
        """Write the plan's sessions, pointers and open count with the ack, all or nothing."""
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(ack_item(ack), condition=AckItem.pk.does_not_exist())
                self._stage(tx, lot_id, plan)
        except TransactWriteError as exc:
            failed = failed_conditions(exc)
            if not failed:
                raise
            return WriteOutcome(written=False, ack_exists=0 in failed)  # the ack is item 0
        return WriteOutcome(written=True)

    def replace(self, session: ParkingSession) -> bool:
        """Store a new version of one session (the workflow's review step); False if it moved on."""
        return save_if(_item(session), SessionItem.version == session.version - 1)

    @staticmethod
    def _stage(tx: TransactWrite, lot_id: str, plan: Plan) -> None:
        for session in plan.creates:
            tx.save(_item(session), condition=SessionItem.pk.does_not_exist())
        for session in plan.updates:
            tx.save(_item(session), condition=SessionItem.version == session.version - 1)
        for p in plan.pointers:
            key = pointer_key(lot_id, p.subject)
            cond = SessionItem.pk.does_not_exist() if p.expected is None else SessionItem.session_id == p.expected
            if p.session_id is None:
                tx.delete(SessionItem(pk=key), condition=cond)
            else:
                tx.save(SessionItem(pk=key, session_id=p.session_id), condition=cond)
        counts = [
            attr.add(delta)
            for attr, delta in ((LotStatusItem.open_count, plan.open_delta), (LotStatusItem.unmatched_count, plan.unmatched_delta))
            if delta
        ]
        if counts:
            tx.update(LotStatusItem(lot_id=lot_id, item="LOT"), actions=counts)
