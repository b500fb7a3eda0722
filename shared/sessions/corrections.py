"""Correction and void messages (S16): the only way a lot changes a record it sent.

A ``correction`` moves the time of an entry or exit the lot sent; a ``void`` withdraws an entry whose session
never happened. Each is applied in two steps, both idempotent:

1. the session's next version (the new time, or closed as voided, its open pointer released) is written in
   one transaction with the message's ack, so the message is applied to the session exactly once;
2. the session's bill follows (``settle``): re-priced to the corrected stay, or to zero for a void. The
   difference is a balanced posting: a ``charge`` when the stay grew, an ``adjustment`` (as an upheld
   dispute) when it shrank; an overpaid bill is refunded. Nothing is rewritten: the old figures stay in the
   ledger and the session keeps the list of messages applied to it. A crash between the two steps is healed
   by the lot's resend (``duplicate``), which runs step 2 again.

Every accepted correction or void is in the event archive, where the daily supervision scan counts them per
lot (``shared.supervision.signals``). Tests: ``tests/governance/test_corrections.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.bills.model import Bill, bill_id_for
from shared.clock import Clock
from shared.errors import Conflict, InvalidInput
from shared.ingest.ports import AckRecord, AckStore
from shared.ledger.model import Posting
from shared.payments.model import RefundReason
from shared.payments.ports import Change, MoneyStore
from shared.protocol.events import Ack, AckStatus, CorrectionEvent, VoidEvent
from shared.registry.model import Lot
from shared.sessions.model import Flag, ParkingSession, SessionStatus
from shared.sessions.planner import Plan, PointerWrite
from shared.sessions.ports import SessionStore
from shared.tariffs.quote import Quote

ATTEMPTS = 6
Pricer = Callable[[Lot, datetime, datetime, ParkingSession], Quote | None]


class CorrectionService:
    def __init__(self, sessions: SessionStore, acks: AckStore, money: MoneyStore, price: Pricer, applier, clock: Clock) -> None:
        """``applier``: the payment applier (refunds an overpaid bill, announces a settled one)."""
        self._sessions, self._acks, self._money, self._price = sessions, acks, money, price
        self._applier, self._clock = applier, clock

    def apply(self, event: CorrectionEvent | VoidEvent, lot: Lot, accepted_at: datetime,
              ack_item: Callable[[Ack], AckRecord]) -> Ack | None:
        """The session change with the message's ack, then the bill. None: the ack was stored concurrently.
        Raises ``InvalidInput`` (the message is rejected, nothing written) when it cannot apply."""
        for _ in range(ATTEMPTS):
            session = self._original(event, lot)
            plan, flag = self._plan(event, session)
            ack = Ack(event_id=event.event_id, status=AckStatus.ACCEPTED, session_id=session.session_id,
                      flags=[flag], accepted_at=accepted_at)
            outcome = self._sessions.write(lot.lot_id, plan, ack_item(ack))
            if outcome.written:
                self.settle(plan.updates[0], lot)
                return ack
            if outcome.ack_exists:
                return None
        raise Conflict(f"session of {event.event_id} keeps changing; resend", code="contention")

    def resume(self, lot: Lot, ack: Ack) -> None:
        """A resent message after a crash: the bill's step again (idempotent)."""
        session = self._sessions.get(ack.session_id) if ack.session_id else None
        if session is not None:
            self.settle(session, lot)

    def _original(self, event, lot: Lot) -> ParkingSession:
        target = event.corrects if isinstance(event, CorrectionEvent) else event.voids
        original = self._acks.get(lot.lot_id, target)
        session = self._sessions.get(original.session_id) if original and original.session_id else None
        if session is None:
            raise InvalidInput(f"event {target} is not an accepted entry or exit of lot {lot.lot_id}", code="unknown_original")
        if Flag.VOIDED_BY_LOT in session.flags:
            raise InvalidInput(f"the session of event {target} was voided", code="already_void")
        return session

    def _plan(self, event, session: ParkingSession) -> tuple[Plan, str]:
        record = {"event_id": event.event_id, "type": event.type, "reason": event.reason,
                  "at": event.occurred_at.isoformat()}
        flags = list(session.flags)
        if isinstance(event, VoidEvent):
            if session.entry_event_id != event.voids:
                raise InvalidInput("a void names the entry (or berth start) of the session", code="not_voidable")
            closes = session.status is SessionStatus.OPEN
            new = session.model_copy(update={
                "status": SessionStatus.CLOSED if closes else session.status, "flags": [*flags, Flag.VOIDED_BY_LOT],
                "corrections": [*session.corrections, record], "version": session.version + 1})
            pointers = [PointerWrite(session.subject, None, session.session_id)] if closes else []
            return Plan(session.session_id, updates=[new], pointers=pointers, open_delta=-1 if closes else 0), "voided"
        if event.corrects == session.entry_event_id:
            field, entered, exited = "entered_at", event.corrected_time, session.exited_at
        elif event.corrects == session.exit_event_id:
            field, entered, exited = "exited_at", session.entered_at, event.corrected_time
        else:
            raise InvalidInput("a correction names the entry or exit of a session", code="not_correctable")
        if event.corrected_time > self._clock.now():
            raise InvalidInput("corrected_time is in the future", code="bad_corrected_time")
        if entered is not None and exited is not None and exited < entered:
            raise InvalidInput("the corrected stay would end before it starts", code="bad_corrected_time")
        record.update({"field": field, "from": _iso(getattr(session, field)), "to": event.corrected_time.isoformat()})
        new = session.model_copy(update={
            field: event.corrected_time, "flags": flags if Flag.CORRECTED_BY_LOT in flags else [*flags, Flag.CORRECTED_BY_LOT],
            "corrections": [*session.corrections, record], "version": session.version + 1})
        return Plan(session.session_id, updates=[new]), "corrected"

    def settle(self, session: ParkingSession, lot: Lot) -> Bill | None:
        """The session's bill re-priced to the session as it now stands (zero if void); idempotent."""
        for _ in range(ATTEMPTS):
            bill = self._money.bill(bill_id_for(session.session_id))
            if bill is None:
                return None  # never priced: the exit (or the pay page) prices it from the corrected session
            void = Flag.VOIDED_BY_LOT in session.flags
            end = session.exited_at or bill.priced_until
            if void:
                target = 0
            else:
                if session.entered_at is None or end is None:
                    return bill
                quote = self._price(lot, session.entered_at, end, session)
                if quote is None:
                    return bill
                target = quote.amount_fen
            charged = bill.amount_fen - bill.adjusted_fen
            times = {"entered_at": session.entered_at, "exited_at": session.exited_at}
            if target == charged and all(getattr(bill, k) == v for k, v in times.items()):
                break
            refs = {"bill_id": bill.bill_id, "session_id": session.session_id, "lot_id": bill.lot_id,
                    "correction": (session.corrections[-1]["event_id"] if session.corrections else "")}
            pid, at = f"correction:{bill.bill_id}:{bill.version}", self._clock.now()
            if target > charged:
                delta = target - charged
                new = bill.bumped(amount_fen=bill.amount_fen + delta, priced_until=end, **times)
                postings = [Posting.charge(pid, bill.plate, bill.operator_id, delta, at, refs=refs, memo="lot correction")]
            else:
                cut = min(charged - target, bill.amount_fen - bill.discount_fen - bill.adjusted_fen)
                new = bill.bumped(adjusted_fen=bill.adjusted_fen + cut, priced_until=end, **times)
                memo = "lot void" if void else "lot correction"
                postings = [Posting.adjustment(pid, bill.plate, bill.operator_id, cut, at, refs=refs, memo=memo)] if cut else []
            if self._money.commit(Change(bills=[new], postings=postings)):
                break
        else:
            raise Conflict(f"bill of session {session.session_id} keeps changing; resend", code="contention")
        bill = self._money.bill(bill_id_for(session.session_id))
        if bill.overpaid_fen:
            self._applier.refund_excess(bill, RefundReason.CORRECTION)
        self._applier.follow_up(self._money.bill(bill.bill_id))
        return self._money.bill(bill.bill_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
