"""The sessions' port: sessions, their open-session pointers and a lot's counts, written a plan at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.ingest.ports import AckRecord
from shared.sessions.model import ParkingSession
from shared.sessions.planner import Plan


@dataclass(frozen=True)
class WriteOutcome:
    """``written``: the plan and its ack are stored. Otherwise ``ack_exists`` tells a concurrent
    duplicate (someone stored this event's ack first) from a lost race on the sessions (retry)."""

    written: bool
    ack_exists: bool = False


class SessionStore(Protocol):
    """Contract (``tests/contracts/test_sessions.py``):

    - ``write`` stores the event's ack, the plan's new sessions (only if absent), updated sessions (only over
      version - 1), pointer moves (only from the expected session, or from none) and the lot's open and
      unmatched count deltas, all or nothing. A failed condition writes nothing; ``ack_exists`` says whether
      the ack's own condition was among the failures.
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

    def write(self, lot_id: str, plan: Plan, ack: AckRecord) -> WriteOutcome: ...

    def replace(self, session: ParkingSession) -> bool: ...
