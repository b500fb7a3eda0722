"""Parking sessions, their open-session pointers and the lot's counts, written a plan at a time, in memory."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK, dump, fits
from shared.adapters.memory.events import AckStore
from shared.adapters.memory.lot_status import LotStatusStore
from shared.ingest.ports import AckRecord
from shared.sessions.model import ParkingSession
from shared.sessions.planner import Plan
from shared.sessions.ports import Riders, WriteOutcome


def pointer_key(lot_id: str, subject: str) -> str:
    return f"OPEN#{lot_id}#{subject}"


class SessionStore:
    def __init__(self, acks: AckStore, status: LotStatusStore, money=None, accounts=None) -> None:
        self._acks, self._status = acks, status
        self._money, self._accounts = money, accounts  # for the riders of a write (issue 10)
        self.sessions: dict[str, dict] = {}
        self.pointers: dict[str, str] = {}

    def get(self, session_id: str) -> ParkingSession | None:
        doc = self.sessions.get(session_id)
        return ParkingSession.model_validate(doc) if doc is not None else None

    def open_for(self, lot_id: str, subject: str) -> ParkingSession | None:
        session_id = self.pointers.get(pointer_key(lot_id, subject))
        return self.get(session_id) if session_id else None

    def parked(self, lot_id: str, plate: str) -> ParkingSession | None:
        found = self.open_for(lot_id, f"P#{plate}")
        if found is not None:
            return found
        of_plate = [s for s in self._all() if s.plate == plate and s.entered_at is not None]
        for session in sorted(of_plate, key=lambda s: s.entered_at, reverse=True)[:5]:
            if session.lot_id == lot_id and session.is_open:
                return session
        return None

    def open_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]:
        return tuple(s for s in self._all() if s.lot_id == lot_id and s.is_open)

    def unmatched_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]:
        return tuple(s for s in self._all() if s.lot_id == lot_id and s.is_unmatched)

    def write(self, lot_id: str, plan: Plan, ack: AckRecord, riders: Riders | None = None) -> WriteOutcome:
        riders = riders or Riders()
        with LOCK:
            ack_free = self._acks.absent(ack)
            sessions_fit = all(s.session_id not in self.sessions for s in plan.creates) and all(
                fits(self.sessions, s.session_id, s.version) for s in plan.updates
            )
            pointers_fit = all(self.pointers.get(pointer_key(lot_id, p.subject)) == p.expected for p in plan.pointers)
            money_fits = riders.money is None or self._money.fits(riders.money)
            if not (ack_free and sessions_fit and pointers_fit and money_fits):
                return WriteOutcome(written=False, ack_exists=not ack_free)
            if riders.money is not None:
                self._money.apply(riders.money)
            if riders.notice is not None:
                self._accounts.add_notice(riders.notice.account_id, riders.notice.notice)
            self._acks.put(ack)
            for session in (*plan.creates, *plan.updates):
                self.sessions[session.session_id] = dump(session)
            for p in plan.pointers:
                key = pointer_key(lot_id, p.subject)
                if p.session_id is None:
                    self.pointers.pop(key, None)
                else:
                    self.pointers[key] = p.session_id
            if plan.open_delta or plan.unmatched_delta:
                self._status.add(lot_id, plan.open_delta, plan.unmatched_delta)
        return WriteOutcome(written=True)

    def replace(self, session: ParkingSession) -> bool:
        with LOCK:
            stored = self.sessions.get(session.session_id)
            if stored is None or stored["version"] != session.version - 1:
                return False
            self.sessions[session.session_id] = dump(session)
        return True

    def _all(self) -> list[ParkingSession]:
        return [ParkingSession.model_validate(self.sessions[k]) for k in sorted(self.sessions)]
