"""The gate decision on an exit: open the barrier, or ask to pay first.

A port, so the session rules know nothing of tariffs and payments: ``shared.payments.gate.BillingGate``
is the platform's policy; ``NoTariffGate`` serves tests of the session rules alone.
"""

from __future__ import annotations

from typing import Protocol

from shared.protocol.events import GateDecision, VehicleEvent
from shared.registry.model import Lot
from shared.sessions.model import ParkingSession, SessionStatus


class GatePolicy(Protocol):
    def decide(self, session: ParkingSession, lot: Lot, event: VehicleEvent) -> GateDecision:
        """Read-only: runs before the session transaction; its answer goes into the ack."""
        ...

    def after_close(self, session: ParkingSession, lot: Lot, event: VehicleEvent, gate: GateDecision) -> None:
        """Runs after the transaction, and again for a resent exit: must be idempotent."""
        ...


class NoTariffGate:
    """Until tariffs exist nothing is due; an exit without entry opens but is reviewed, never free."""

    def decide(self, session: ParkingSession, lot: Lot, event: VehicleEvent) -> GateDecision:
        if session.status is SessionStatus.AWAITING_ENTRY:
            return GateDecision(decision="open", amount_fen=0, reason="unmatched_exit_review")
        return GateDecision(decision="open", amount_fen=0, reason="no_tariff")

    def after_close(self, session: ParkingSession, lot: Lot, event: VehicleEvent, gate: GateDecision) -> None:
        return None
