"""Applies entry/exit/berth events to sessions and runs the review of unmatched exits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from shared.errors import Conflict, NotFound
from shared.ingest.ports import AckRecord
from shared.protocol.events import (
    Ack,
    AckStatus,
    BerthEndEvent,
    BerthStartEvent,
    BookingAck,
    EntryEvent,
    ExitEvent,
    GateDecision,
    VehicleEvent,
)
from shared.registry.model import Lot
from shared.sessions import planner
from shared.sessions.gate import GatePolicy
from shared.sessions.model import Flag, ParkingSession, SessionStatus
from shared.sessions.ports import Riders, SessionStore
from shared.workflows import UNMATCHED_EXIT_REVIEW, Workflows

REVIEW_WORKFLOW = UNMATCHED_EXIT_REVIEW
ATTEMPTS = 4


class Contention(Conflict):
    """Concurrent events kept changing the same sessions; the device retries with the same event_id."""

    code = "contention"


class Arrivals(Protocol):
    """Bookings that hold a space for a plate (hospital appointment parking, issue 13)."""

    def expected(self, lot: Lot, plate: str, at: datetime) -> BookingAck | None:
        """Read-only: the booking an entry uses; runs before the session transaction."""
        ...

    def arrived(self, booking_id: str, session_id: str, at: datetime) -> None:
        """After the transaction, and again for a resent entry: idempotent."""
        ...


class SessionService:
    def __init__(self, store: SessionStore, workflows: Workflows, gate: GatePolicy, review_after_s: int) -> None:
        self._store, self._workflows, self._gate, self._review_after_s = store, workflows, gate, review_after_s
        self.arrivals: Arrivals | None = None  # issue 13: set by the composition root

    def apply(
        self, event: VehicleEvent, lot: Lot, accepted_at: datetime, ack_record: Callable[[Ack], AckRecord],
    ) -> Ack | None:
        """Plan and write in one transaction with the ack (which carries the request's nonce) and the exit's
        bill and notice. None: the ack was stored concurrently."""
        for _ in range(ATTEMPTS):
            plan = self._plan(event, lot)
            gate, billed = self._gate.decide_with_bill(plan.closed, lot, event) if plan.closed is not None else (None, None)
            booking = self._booking(event, lot, plan)  # issue 13: hospital appointment bookings
            if booking is not None:
                gate, billed = GateDecision(decision="open", amount_fen=0, reason="booking"), None
            ack = Ack(
                event_id=event.event_id,
                status=AckStatus.ACCEPTED,
                session_id=plan.session_id,
                match=plan.match,
                flags=[f.value for f in plan.flags],
                gate=gate,
                accepted_at=accepted_at,
                booking=booking,
            )
            money, notice = (billed[1], billed[2]) if billed is not None else (None, None)
            outcome = self._store.write(lot.lot_id, plan, ack_record(ack), Riders(money=money, notice=notice))
            if outcome.written:
                if plan.start_review:
                    self.start_review(lot.lot_id, plan.session_id)
                if plan.closed is not None and gate is not None:
                    self._gate.after_close(plan.closed, lot, event, gate, billed[0] if billed is not None else None)
                if booking is not None and self.arrivals is not None:
                    self.arrivals.arrived(booking.booking_id, plan.session_id, event.occurred_at)
                return ack
            if outcome.ack_exists:
                return None
        raise Contention(f"lot {lot.lot_id} is busy; resend event {event.event_id}")

    def _booking(self, event: VehicleEvent, lot: Lot, plan: planner.Plan) -> BookingAck | None:
        """Issue 13: an entry that opens a session may use the plate's hospital booking."""
        if self.arrivals is None or not isinstance(event, EntryEvent) or not lot.scenario_policies:
            return None
        if not any(s.status is SessionStatus.OPEN for s in plan.creates):
            return None
        return self.arrivals.expected(lot, event.plate, event.occurred_at)

    def _plan(self, event: VehicleEvent, lot: Lot) -> planner.Plan:
        current = self._store.open_for(lot.lot_id, planner.subject_of(event))
        if isinstance(event, (EntryEvent, BerthStartEvent)):
            snap = planner.Snapshot(open_for_subject=current, unmatched_in_lot=self._store.unmatched_in_lot(lot.lot_id))
            return planner.plan_entry(event, lot.district_code, snap)
        candidates = () if current is not None or isinstance(event, BerthEndEvent) else self._store.open_in_lot(lot.lot_id)
        snap = planner.Snapshot(open_for_subject=current, open_in_lot=candidates)
        assert isinstance(event, (ExitEvent, BerthEndEvent))
        return planner.plan_exit(event, lot.district_code, snap)

    def start_review(self, lot_id: str, session_id: str) -> None:
        """Idempotent: the execution is named after the session."""
        self._workflows.start(
            REVIEW_WORKFLOW,
            name=session_id,
            payload={"session_id": session_id, "lot_id": lot_id, "review_after_s": self._review_after_s},
        )

    def resume_after_duplicate(self, lot: Lot, event: VehicleEvent, ack: Ack) -> None:
        """A resent exit may follow a crash between the write and what follows it (the review workflow,
        the bill): do those again; each is idempotent."""
        if not ack.session_id:
            return
        if ack.booking is not None and self.arrivals is not None:  # issue 13
            self.arrivals.arrived(ack.booking.booking_id, ack.session_id, event.occurred_at)
        session = self._store.get(ack.session_id)
        if session is None:
            return
        if Flag.EXIT_WITHOUT_ENTRY.value in ack.flags and session.status is SessionStatus.AWAITING_ENTRY:
            self.start_review(lot.lot_id, ack.session_id)
        if ack.gate is not None and session.status is SessionStatus.CLOSED:
            self._gate.after_close(session, lot, event, ack.gate)

    def review(self, session_id: str) -> ParkingSession:
        """The workflow's task: still no entry after the window → needs staff review."""
        for _ in range(ATTEMPTS):
            session = self._store.get(session_id)
            if session is None:
                raise NotFound(f"session {session_id} does not exist", code="unknown_session")
            flagged = planner.review_unmatched(session)
            if flagged is None or self._store.replace(flagged):
                return flagged or session
        raise Contention(f"session {session_id} keeps changing")

    def get(self, session_id: str) -> ParkingSession | None:
        return self._store.get(session_id)

    def parked(self, lot_id: str, plate: str) -> ParkingSession | None:
        return self._store.parked(lot_id, plate)

    def view(self, principal, session_id: str) -> ParkingSession:
        """Staff read a session of their own district (auditors and city staff any)."""
        from shared import access  # the domain's one rule for who reads a session

        access.require_staff(principal, "sessions")
        session = self._store.get(session_id)
        access.require_visible(session is not None and access.may_read_session(principal, session), "session", session_id, "unknown_session")
        return session
