"""The gate decision on an exit: open the barrier, or ask to pay first.

A port, so the tariff engine and payments (a later capability) replace ``NoTariffGate`` without
touching the session rules.
"""

from __future__ import annotations

from typing import Protocol

from shared.protocol.events import GateDecision
from shared.registry.model import Lot
from shared.sessions.model import ParkingSession, SessionStatus


class GatePolicy(Protocol):
    def decide(self, session: ParkingSession, lot: Lot) -> GateDecision: ...


class NoTariffGate:
    """Until tariffs exist nothing is due; an exit without entry opens but is reviewed, never free."""

    def decide(self, session: ParkingSession, lot: Lot) -> GateDecision:
        if session.status is SessionStatus.AWAITING_ENTRY:
            return GateDecision(decision="open", amount_fen=0, reason="unmatched_exit_review")
        return GateDecision(decision="open", amount_fen=0, reason="no_tariff")
