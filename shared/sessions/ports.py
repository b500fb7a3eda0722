"""The sessions' port: sessions, their open-session pointers and a lot's counts, written a plan at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.citizens.ports import AccountNotice
from shared.ingest.ports import AckRecord
from shared.payments.ports import Change
from shared.sessions.model import ParkingSession
from shared.sessions.planner import Plan


@dataclass(frozen=True)
class WriteOutcome:
    """``written``: the plan and its ack are stored. Otherwise ``ack_exists`` tells a concurrent
    duplicate (someone stored this event's ack first) from a lost race on the sessions (retry)."""

    written: bool
    ack_exists: bool = False


@dataclass(frozen=True)
class Riders:
    """Writes that ride in the session transaction, so that an exit is one transaction (issue 10): the money
    the exit moves (the bill and its posting, with ``MoneyStore.commit``'s conditions) and the notice a
    pay-later exit sends the citizen (no condition: its id is the bill's, so a second put is the same notice).
    The request's nonce rides on the ack (``AckRecord.nonce``); the device's last-seen is recorded from the
    acks stream by the archive writer, off the transaction."""

    money: Change | None = None
    notice: AccountNotice | None = None


class SessionStore(Protocol):
    """Contract (``tests/contracts/test_sessions.py``):

    - ``write`` stores the event's ack, the plan's new sessions (only if absent), updated sessions (only over
      version - 1), pointer moves (only from the expected session, or from none) and the lot's open and
      unmatched count deltas, all or nothing. A failed condition writes nothing; ``ack_exists`` says whether
      the ack's own condition was among the failures. ``riders`` are part of the same all-or-nothing write:
      a bill or posting fails it as ``MoneyStore.commit`` would (a lost race: re-read, re-plan).
      A stored open-session pointer carries its session as written with it.
    - ``replace`` stores one session's next version only over version - 1.
    - ``open_for`` follows a subject's pointer; ``open_in_lot`` and ``unmatched_in_lot`` list open sessions and
      exits waiting for their entry; ``parked`` finds a plate's open session in a lot (gate pointer, else the
      plate's newest open session there).
    """

    def get(self, session_id: str) -> ParkingSession | None: ...

    def open_for(self, lot_id: str, subject: str) -> ParkingSession | None: ...

    def parked(self, lot_id: str, plate: str) -> ParkingSession | None: ...

    def open_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]: ...

    def unmatched_in_lot(self, lot_id: str) -> tuple[ParkingSession, ...]: ...

    def write(self, lot_id: str, plan: Plan, ack: AckRecord, riders: Riders | None = None) -> WriteOutcome: ...

    def replace(self, session: ParkingSession) -> bool: ...
