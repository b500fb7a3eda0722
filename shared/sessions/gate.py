"""The gate decision on an exit: open the barrier, or ask to pay first.

A port, so the session rules know nothing of tariffs and payments: ``shared.payments.gate.BillingGate``
is the platform's policy; ``NoTariffGate`` serves tests of the session rules alone.
"""

from __future__ import annotations

from typing import Protocol

from shared.bills.model import Bill
from shared.citizens.ports import AccountNotice
from shared.payments.ports import Change
from shared.protocol.events import GateDecision, VehicleEvent
from shared.registry.model import Lot
from shared.sessions.model import ParkingSession, SessionStatus


class GatePolicy(Protocol):
    def decide(self, session: ParkingSession, lot: Lot, event: VehicleEvent) -> GateDecision:
        """Read-only: runs before the session transaction; its answer goes into the ack."""
        ...

    def decide_with_bill(
        self, session: ParkingSession, lot: Lot, event: VehicleEvent
    ) -> tuple[GateDecision, tuple[Bill, Change | None, AccountNotice | None] | None]:
        """``decide`` and, from the same reads, the session's bill as the exit leaves it with the change
        that stores it (None: no bill) and the notice a pay-later exit sends. Both ride in the session
        transaction (issue 10)."""
        ...

    def after_close(
        self, session: ParkingSession, lot: Lot, event: VehicleEvent, gate: GateDecision, bill: Bill | None = None
    ) -> None:
        """Runs after the transaction, and again for a resent exit: must be idempotent. ``bill``: the bill the
        transaction stored (a resent exit passes none: it is read again)."""
        ...


class NoTariffGate:
    """Until tariffs exist nothing is due; an exit without entry opens but is reviewed, never free."""

    def decide(self, session: ParkingSession, lot: Lot, event: VehicleEvent) -> GateDecision:
        if session.status is SessionStatus.AWAITING_ENTRY:
            return GateDecision(decision="open", amount_fen=0, reason="unmatched_exit_review")
        return GateDecision(decision="open", amount_fen=0, reason="no_tariff")

    def decide_with_bill(self, session: ParkingSession, lot: Lot, event: VehicleEvent):
        return self.decide(session, lot, event), None

    def after_close(self, session, lot, event, gate, bill=None) -> None:
        return None
