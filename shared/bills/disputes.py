"""Disputes (S12): a citizen disputes a bill of their own vehicle (a misread plate, a missed exit, a
phantom session); staff of the district decide on the evidence of the entry and the exit. While a dispute
runs nothing is collected (the arrears ladder pauses); an upheld dispute posts the reduction to the ledger
and, if the bill was paid, refunds the difference through the provider.
"""

from __future__ import annotations

from collections.abc import Callable

from shared import access
from shared.auth import Principal, Role
from shared.bills.dispute_model import Dispute, DisputeReason
from shared.bills.model import Bill
from shared.bills.ports import DisputeStore
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.ledger.model import Posting
from shared.registry.model import DISTRICTS
from shared.payments.applier import PaymentApplier
from shared.payments.model import RefundReason
from shared.payments.ports import Change, MoneyStore

ATTEMPTS = 6


class DisputeService:
    def __init__(self, store: DisputeStore, money: MoneyStore, applier: PaymentApplier, owns: Callable[[Principal, Bill], bool],
                 evidence: Callable[[str], dict], paused: Callable[[str, bool, str], None], clock: Clock) -> None:
        self._store, self._money, self._applier, self._owns, self._evidence = store, money, applier, owns, evidence
        self._paused, self._clock = paused, clock

    def _bill(self, bill_id: str) -> Bill:
        bill = self._money.bill(bill_id)
        if bill is None:
            raise NotFound(f"bill {bill_id} does not exist", code="unknown_bill")
        return bill

    def get(self, bill_id: str) -> Dispute | None:
        return self._store.get(bill_id)

    def _save(self, dispute: Dispute) -> bool:
        return self._store.save(dispute)

    def open(self, principal: Principal, bill_id: str, data: dict) -> Dispute:
        """A bill of someone else's plate answers as one that does not exist: ids cannot be probed."""
        access.require_role(principal, Role.CITIZEN, what="disputes of the service window")
        bill = self._money.bill(bill_id)
        access.require_visible(bill is not None and self._owns(principal, bill), "bill", bill_id, "unknown_bill")
        try:
            reason = DisputeReason(data.get("reason"))
        except ValueError:
            raise InvalidInput("reason: misread_plate, missed_exit, phantom_session or other", code="bad_reason") from None
        existing = self.get(bill_id)
        if existing is not None and existing.decision is None:
            return existing
        if existing is not None:
            raise Conflict("this bill's dispute was decided already", code="dispute_decided")
        dispute = Dispute(
            bill_id=bill_id, district_code=bill.district_code, operator_id=bill.operator_id, account_id=principal.subject,
            reason=reason, detail=str(data.get("detail", ""))[:1000], opened_at=self._clock.now(),
            evidence=self._evidence(bill.session_id),
        )  # fmt: skip
        self._save(dispute)
        self._set_disputed(bill_id, True)
        self._paused(bill_id, True, f"dispute: {reason.value}")
        return self.get(bill_id)

    def _set_disputed(self, bill_id: str, disputed: bool, reduction: int = 0, posting: Posting | None = None) -> Bill:
        for _ in range(ATTEMPTS):
            bill = self._bill(bill_id)
            if bill.disputed == disputed and not reduction:
                return bill
            new = bill.bumped(disputed=disputed, adjusted_fen=bill.adjusted_fen + reduction)
            if self._money.commit(Change(bills=[new], postings=[posting] if posting else [])):
                return new
        raise Conflict(f"bill {bill_id} keeps changing; retry", code="contention")

    def queue(self, principal: Principal, district_code: str | None = None) -> list[Dispute]:
        if principal.role in (Role.OPERATOR, Role.CITIZEN):
            raise Forbidden("the dispute queue is for district and city staff", code="role_forbidden")
        scope = access.district_scope(principal, district_code)
        districts = [scope] if scope else sorted(DISTRICTS)
        disputes = [d for code in districts for d in self._store.of_district(code)]
        return sorted((d for d in disputes if access.may_read_dispute(principal, d)), key=lambda d: (d.opened_at, d.bill_id))

    def view(self, principal: Principal, bill_id: str) -> Dispute:
        dispute = self.get(bill_id)
        access.require_visible(dispute is not None and access.may_read_dispute(principal, dispute), "dispute of bill", bill_id, "unknown_dispute")
        return dispute

    def resolve(self, principal: Principal, bill_id: str, data: dict) -> Dispute:
        dispute = self.view(principal, bill_id)
        if not (principal.role is Role.CITY_ADMIN or (principal.role is Role.DISTRICT_ADMIN and principal.district_code == dispute.district_code)):
            raise Forbidden("staff of the bill's district decide disputes", code="district_forbidden")
        if dispute.decision is None:
            dispute = self._decide(principal, dispute, data)
        return self._apply(dispute)

    def _decide(self, principal: Principal, dispute: Dispute, data: dict) -> Dispute:
        decision = data.get("decision")
        if decision not in ("upheld", "rejected"):
            raise InvalidInput("decision: upheld or rejected", code="bad_decision")
        bill = self._bill(dispute.bill_id)
        charged = bill.amount_fen - bill.discount_fen - bill.adjusted_fen
        fair = data.get("fair_amount_fen", 0 if decision == "upheld" else charged)
        if type(fair) is not int or not 0 <= fair <= charged:
            raise InvalidInput(f"fair_amount_fen is integer fen between 0 and {charged}", code="bad_amount")
        decided = dispute.model_copy(update={
            "decision": decision, "fair_amount_fen": fair if decision == "upheld" else charged,
            "note": str(data.get("note", ""))[:1000], "decided_by": principal.subject,
            "decided_at": self._clock.now(), "version": dispute.version + 1,
        })  # fmt: skip
        self._save(decided)
        return self.get(dispute.bill_id)  # ours, or a concurrent decision

    def _apply(self, dispute: Dispute) -> Dispute:
        """Idempotent: a bill still marked disputed gets the decision (a crash may have cut it short)."""
        bill = self._bill(dispute.bill_id)
        if bill.disputed:
            reduction = max(0, bill.amount_fen - bill.discount_fen - bill.adjusted_fen - dispute.fair_amount_fen)
            posting = Posting.adjustment(
                f"adjust:{bill.bill_id}", bill.plate, bill.operator_id, reduction, self._clock.now(),
                refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "decided_by": dispute.decided_by or ""},
                memo=dispute.note[:200],
            ) if reduction else None  # fmt: skip
            bill = self._set_disputed(bill.bill_id, False, reduction, posting)
        self._paused(bill.bill_id, False, f"dispute {dispute.decision}")
        if bill.overpaid_fen:
            self._applier.refund_excess(bill, RefundReason.DISPUTE)
        self._applier.follow_up(self._bill(bill.bill_id))
        return dispute
