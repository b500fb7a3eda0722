"""The exit gate decision with tariffs and payments: open when nothing is due (free, prepaid within the
grace period), when the ETC issuer will deduct, or when the plate is registered for pay-later; otherwise
ask to pay, with the amount and the lane's pay code.

``decide`` runs before the session transaction and only reads; ``after_close`` runs after it and is
idempotent (a resent exit runs it again): it starts the ETC deduction or announces the pay-later exit. A
pay-later exit's bill (marked with the end of its grace period) and the citizen's notice ride in the
session transaction (issue 10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from shared.bills.model import Bill, bill_id_for, price_until
from shared.bills.service import BillingService, Pricer
from shared.citizens.ports import AccountNotice, PlateOwner
from shared.errors import Conflict
from shared.payments.model import PaymentSource
from shared.payments.ports import MoneyStore
from shared.payments.provider import Channel
from shared.payments.service import PaymentService
from shared.protocol.events import ExitEvent, GateDecision, VehicleEvent
from shared.registry.model import Lot, PayCode
from shared.sessions.model import ParkingSession, SessionStatus


class PayLater(Protocol):
    """Pay-later registration (S6): who may leave without paying (the plate's owner, or None). What happens
    then is a reaction (``shared.reactions.LEFT_ON_PAY_LATER``), announced through ``on_pay_later_exit``."""

    def eligible(self, plate: str) -> PlateOwner | None: ...

    def eligible_ignoring_arrears(self, plate: str) -> PlateOwner | None: ...

    def eligible_without_open_arrears(self, plate: str) -> PlateOwner | None:
        """``eligible`` for a plate the caller has just seen to owe no arrears (skips that query)."""
        ...

    def exit_notice(self, bill: Bill, lot_name: str, owner: PlateOwner) -> AccountNotice:
        """The notice of a bill the car left on pay-later (no reads: stored in the exit's transaction)."""
        ...


class Arrears(Protocol):
    def owed(self, plate: str) -> tuple[int, int]:
        """(what flagged cases owe, what all open cases owe)."""
        ...


class NoPayLater:
    def eligible(self, plate: str) -> PlateOwner | None:
        return None

    def eligible_ignoring_arrears(self, plate: str) -> PlateOwner | None:
        return None

    def eligible_without_open_arrears(self, plate: str) -> PlateOwner | None:
        return None

    def await_grace_end(self, bill: Bill) -> None:
        return None


class BillingGate:
    def __init__(
        self, money: MoneyStore, billing: BillingService, payments: PaymentService, pricer: Pricer,
        pay_base_url: str, pay_later: PayLater | None = None, arrears: Arrears | None = None,
        on_pay_later_exit: Sequence[Callable[[Bill], None]] = (),
    ) -> None:  # fmt: skip
        self._money, self._billing, self._payments, self._price = money, billing, payments, pricer
        self._base, self.pay_later, self.arrears = pay_base_url.rstrip("/"), pay_later or NoPayLater(), arrears
        self.on_pay_later_exit = list(on_pay_later_exit)  # the car left on pay-later with this bill due

    def decide(self, session: ParkingSession, lot: Lot, event: VehicleEvent) -> GateDecision:
        return self.decide_with_bill(session, lot, event)[0]

    def decide_with_bill(self, session: ParkingSession, lot: Lot, event: VehicleEvent):
        """The decision and the bill as this exit leaves it, from one read of the bill (issue 10: the bill
        and its posting are stored in the session's transaction, and so is a pay-later exit's notice: the
        third item, None otherwise)."""
        if session.status is SessionStatus.AWAITING_ENTRY:
            return GateDecision(decision="open", amount_fen=0, reason="unmatched_exit_review"), None
        prepaid = self._money.bill(bill_id_for(session.session_id))
        quote = self._price(lot, session.entered_at, price_until(prepaid, session.exited_at), session)
        gate, owner = self._decision(session, lot, event, prepaid, quote)
        if quote is None or session.entered_at is None:
            return gate, None
        lane = getattr(event, "lane", None)
        bill, change = self._billing.reprice(prepaid, session, lot, lane, quote, pay_later=owner is not None)
        newly_pay_later = owner is not None and change is not None and not (prepaid and prepaid.pay_later)
        return gate, (bill, change, self.pay_later.exit_notice(bill, lot.name, owner) if newly_pay_later else None)

    def _decision(self, session, lot, event, prepaid, quote) -> tuple[GateDecision, PlateOwner | None]:
        """The decision, and the plate's owner when the car leaves on pay-later."""
        if quote is None:
            return GateDecision(decision="open", amount_fen=0, reason="no_tariff"), None
        credits = prepaid.amount_fen - prepaid.balance_fen if prepaid else 0
        due = max(0, quote.amount_fen - credits)
        arrears = self._arrears_due(session.plate)
        if arrears is not None:
            return GateDecision(decision="pay", amount_fen=due + arrears[1], reason=arrears[0],
                                pay_url=self._pay_url(lot, event), arrears_fen=arrears[1]), None
        if due == 0:
            return GateDecision(decision="open", amount_fen=0, reason="paid" if prepaid and prepaid.paid_fen else "free"), None
        if isinstance(event, ExitEvent) and event.etc_obu:
            return GateDecision(decision="open", amount_fen=due, reason="etc"), None
        # _arrears_due already queried the plate's open cases: none owes anything, so don't query again
        eligible = self.pay_later.eligible_without_open_arrears if self.arrears else self.pay_later.eligible
        owner = eligible(session.plate)
        if owner is not None:
            return GateDecision(decision="open", amount_fen=due, reason="pay_later"), owner
        return GateDecision(decision="pay", amount_fen=due, reason="pay", pay_url=self._pay_url(lot, event)), None

    def _arrears_due(self, plate: str) -> tuple[str, int] | None:
        """Flagged arrears stop the car at every networked exit; open ones only withhold pay-later (the
        registered driver pays now, arrears shown with the bill)."""
        if self.arrears is None:
            return None
        flagged, owed = self.arrears.owed(plate)
        if flagged:
            return "arrears", flagged
        if owed and self.pay_later.eligible_ignoring_arrears(plate):
            return "arrears_block_pay_later", owed
        return None

    def _pay_url(self, lot: Lot, event: VehicleEvent) -> str | None:
        return self.pay_code_url(lot, getattr(event, "lane", None))

    def pay_code_url(self, lot: Lot, lane: str | None = None) -> str | None:
        """What the printed QR code of the lot (or of one exit lane) encodes; None where only the lot's
        own (legacy) code collects, reporting its payments to the platform."""
        if PayCode.UNIFIED not in lot.pay_codes:
            return None
        return f"{self._base}/{lot.lot_id}" + (f"?lane={lane}" if lane else "")

    def after_close(
        self, session: ParkingSession, lot: Lot, event: VehicleEvent, gate: GateDecision, bill: Bill | None = None
    ) -> None:
        if gate.reason in ("unmatched_exit_review", "no_tariff"):
            return
        if bill is None:  # a resent exit: the bill is read again (and priced, if the first try never stored it)
            bill = self._billing.ensure(session, lot, lane=getattr(event, "lane", None))
        if bill is None or bill.due_fen <= 0:
            return
        if gate.reason == "etc":
            try:
                self._payments.pay(bill, Channel.ETC, PaymentSource.ETC)
            except Conflict:
                pass  # paid meanwhile through another channel
        elif gate.reason == "pay_later":
            for react in self.on_pay_later_exit:
                react(bill)
