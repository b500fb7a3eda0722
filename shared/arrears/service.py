"""Running arrears cases: opening (from the pay-later workflow), the ladder's tasks, what ends or pauses a
case (repayment through any channel, a dispute, a write-off), and the collection queues (S7, S11).

Every change is a versioned write of the case; every task is idempotent (a step already done is not done
again), and a change that matters to the waiting workflow wakes it through the stored task token.
"""

from __future__ import annotations

from collections.abc import Callable

from shared import access, versioned
from shared.arrears.ports import ArrearsStore
from shared.payments.ports import Change, MoneyStore
from shared.workflows import ARREARS_ESCALATION, Workflows
from shared.arrears.model import (
    ArrearsCase,
    CaseState,
    HistoryEntry,
    case_id_for,
    incentive_split,
    ladder_for,
    next_step,
    reminder_text,
)
from shared.auth import Principal, Role
from shared.bills.model import Bill
from shared.citizens.service import CitizenService
from shared.clock import Clock
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.ledger.model import Posting

WORKFLOW = ARREARS_ESCALATION
ATTEMPTS = 6


class ArrearsService:
    def __init__(
        self, cases: ArrearsStore, money: MoneyStore, citizens: CitizenService, workflows: Workflows,
        lot_name: Callable[[str], str], clock: Clock,
    ) -> None:  # fmt: skip
        self._cases, self._money, self._citizens = cases, money, citizens
        self._workflows, self._lot_name, self._clock = workflows, lot_name, clock

    # Opening
    def open(self, bill: Bill, evidence: dict[str, str | None]) -> ArrearsCase:
        case = ArrearsCase(
            case_id=case_id_for(bill.bill_id), bill_id=bill.bill_id, session_id=bill.session_id, plate=bill.plate,
            lot_id=bill.lot_id, operator_id=bill.operator_id, district_code=bill.district_code,
            amount_fen=bill.due_fen, opened_at=self._clock.now(), evidence=evidence,
            history=[HistoryEntry(at=self._clock.now(), kind="opened", note=f"{bill.due_fen} fen unpaid after pay-later retries")],
        )  # fmt: skip
        if not self._cases.save(case):
            case = self._cases.get(case.case_id)  # a retried task: the case exists
        for _ in range(ATTEMPTS):  # the bill shows "in arrears" (the flag does not change any amount)
            bill = self._money.bill(bill.bill_id)
            if bill.in_arrears or self._money.commit(Change(bills=[bill.bumped(in_arrears=True)])):
                break
        self._workflows.start(WORKFLOW, name=case.case_id, payload={"case_id": case.case_id})
        return case

    def _require(self, case_id: str) -> ArrearsCase:
        case = self._cases.get(case_id)
        if case is None:
            raise NotFound(f"arrears case {case_id} does not exist", code="unknown_case")
        return case

    def _change(self, case_id: str, changes: Callable[[ArrearsCase], dict | None], wake: bool = False) -> ArrearsCase:
        case, changed = versioned.change(lambda: self._require(case_id), changes, self._cases.save, f"case {case_id}")
        if changed and wake and case.token:
            self._workflows.wake(case.token, {"state": case.state.value})
        return case

    # The ladder's tasks
    def advance(self, case_id: str) -> dict:
        """Apply every rung that is due now, then say what the workflow does next: closed, handed_over, or
        wait ``wait_s`` (until the next rung, or for a paused case's dispute to end). One task per rung keeps
        Step Functions transitions (the billed unit) few."""
        while True:
            state, step, wait_s = next_step(self._require(case_id), self._clock.now())
            if state != "due":
                return {"case_id": case_id, "state": state, "wait_s": wait_s}
            self.apply_step(case_id, step)

    def await_change(self, case_id: str, token: str) -> None:
        """Keep the token so a repayment, dispute or write-off wakes the ladder; if the case changed before
        the token was stored, wake it now."""
        case = self._change(case_id, lambda c: {"token": token})
        if case.state is not CaseState.OPEN or next_step(case, self._clock.now())[0] == "due":  # changed meanwhile
            self._workflows.wake(token, {"state": case.state.value})

    def apply_step(self, case_id: str, step: int) -> dict:
        case = self._require(case_id)
        if step in case.steps_done or case.state is not CaseState.OPEN:
            return {"case_id": case_id}
        action = ladder_for(case.district_code)[step].action
        owner = self._citizens.owner(case.plate)
        if action == "remind" and owner is not None:
            self._citizens.notify(owner.account_id, f"{case_id}:step{step}", "arrears_reminder",
                                  reminder_text(case, self._lot_name(case.lot_id)), {"case_id": case_id, "session_id": case.session_id})
        if action == "suspend_pay_later" and owner is not None:
            self._citizens.suspend(owner.account_id, case_id, True)
        flags = {"suspend_pay_later": "suspended", "flag_exits": "flagged", "hand_over": "handed_over"}
        self._change(case_id, lambda c: None if step in c.steps_done else {
            "steps_done": [*c.steps_done, step], **({flags[action]: True} if action in flags else {}),
            "history": [*c.history, HistoryEntry(at=self._clock.now(), kind=action,
                                                 note="official channel, no payment link" if action == "remind" else "")],
        })  # fmt: skip
        return {"case_id": case_id}

    # What ends or pauses a case
    def bill_settled(self, bill: Bill) -> None:
        """Repayment (补缴) through any channel closes the case, lifts the suspension and, for a case handed
        to collection, posts the incentive on the recovered amount."""
        if not (bill.pay_later or bill.in_arrears):
            return  # a case opens only for a pay-later bill (PayLaterService.open_arrears): no read (issue 10)
        case = self._cases.get(case_id_for(bill.bill_id))
        if case is None or case.state is CaseState.CLOSED:
            return
        reason = "written_off" if bill.written_off_fen else "repaid"
        recovered = max(0, case.amount_fen - bill.written_off_fen - bill.adjusted_fen - bill.discount_fen)
        case = self._change(case.case_id, lambda c: None if c.state is CaseState.CLOSED else {
            "state": CaseState.CLOSED, "closed_reason": reason, "closed_at": self._clock.now(),
            "recovered_fen": recovered if reason == "repaid" else 0,
            "history": [*c.history, HistoryEntry(at=self._clock.now(), kind=reason, note=f"{recovered} fen")],
        }, wake=True)  # fmt: skip
        owner = self._citizens.owner(case.plate)
        if owner is not None:
            self._citizens.suspend(owner.account_id, case.case_id, False)
        if case.handed_over and reason == "repaid" and recovered:
            self._post_incentive(case, recovered)

    def _post_incentive(self, case: ArrearsCase, recovered: int) -> None:
        district_fen, city_fen = incentive_split(recovered)
        refs = {"case_id": case.case_id, "bill_id": case.bill_id, "lot_id": case.lot_id}
        at = self._clock.now()
        for party, amount in ((f"district-{case.district_code}", district_fen), ("city-platform", city_fen)):
            if amount:
                self._money.ledger.post(Posting.incentive(f"incentive:{case.case_id}:{party}", case.operator_id, party, amount, at, refs))

    def set_paused(self, bill_id: str, paused: bool, why: str) -> None:
        case = self._cases.get(case_id_for(bill_id))
        if case is None or case.state is CaseState.CLOSED:
            return
        target = CaseState.PAUSED if paused else CaseState.OPEN
        self._change(case.case_id, lambda c: None if c.state is target or c.state is CaseState.CLOSED else {
            "state": target, "history": [*c.history, HistoryEntry(at=self._clock.now(), kind="paused" if paused else "resumed", note=why)],
        }, wake=True)  # fmt: skip

    def write_off(self, principal: Principal, case_id: str, reason: str, approver: str) -> ArrearsCase:
        case = self.view(principal, case_id)
        _require_staff_write(principal, case)
        if not reason or not approver:
            raise InvalidInput("a write-off names its reason and its approver", code="write_off_incomplete")
        for _ in range(ATTEMPTS):
            bill = self._money.bill(case.bill_id)
            if bill.due_fen == 0:
                break
            posting = Posting.write_off(f"writeoff:{bill.bill_id}", bill.plate, bill.district_code, bill.due_fen,
                                        self._clock.now(), refs={"bill_id": bill.bill_id, "case_id": case_id, "approver": approver},
                                        memo=reason)  # fmt: skip
            if self._money.commit(Change(bills=[bill.bumped(written_off_fen=bill.written_off_fen + bill.due_fen)], postings=[posting])):
                break
        self._change(case_id, lambda c: {"history": [*c.history, HistoryEntry(at=self._clock.now(), kind="write_off_approved", note=reason, by=approver)]})
        self.bill_settled(self._money.bill(case.bill_id))
        return self._require(case_id)

    # Collection queues (S7): the district's and the operator's
    def queue(self, principal: Principal, district_code: str | None = None) -> list[ArrearsCase]:
        access.require_staff(principal, "a collection queue")
        if principal.role is Role.OPERATOR:
            cases = self._cases.of_operator(principal.operator_id)
        else:
            scope = access.district_scope(principal, district_code)
            cases = self._cases.of_district(scope) if scope else self._cases.all()
        return sorted((c for c in cases if access.may_read_case(principal, c)), key=lambda c: c.opened_at)

    def view(self, principal: Principal, case_id: str) -> ArrearsCase:
        """The queue's rule for one case; a case the caller may not see answers as one that does not exist."""
        access.require_staff(principal, "arrears cases")
        case = self._cases.get(case_id)
        access.require_visible(case is not None and access.may_read_case(principal, case), "arrears case", case_id, "unknown_case")
        return case

    def record_contact(self, principal: Principal, case_id: str, data: dict) -> ArrearsCase:
        case = self.view(principal, case_id)
        if principal.role is not Role.OPERATOR:  # an operator that sees the case is collecting it
            _require_staff_write(principal, case)
        channel, outcome = str(data.get("channel", "")), str(data.get("outcome", ""))
        if channel not in ("phone", "letter", "visit", "sms_official") or not outcome:
            raise InvalidInput("a contact has a channel (phone, letter, visit, sms_official) and an outcome", code="bad_contact")
        note = f"{channel}: {outcome}" + (f" ({data['note']})" if data.get("note") else "")
        return self._change(case_id, lambda c: {"history": [*c.history, HistoryEntry(at=self._clock.now(), kind="contact", note=note, by=principal.subject)]})

    # At the gate
    def open_cases(self, plate: str) -> list[ArrearsCase]:
        return self._cases.open_of_plate(plate)

    def owed(self, plate: str) -> tuple[int, int]:
        """What the plate's open cases still owe, from one query: (of flagged cases, of all open cases).
        Flagged arrears stop the car at every networked exit; the others only withhold pay-later."""
        flagged = owed = 0
        for case in self.open_cases(plate):
            bill = self._money.bill(case.bill_id)
            due = bill.due_fen if bill is not None else 0
            owed += due
            if case.flagged and case.state is CaseState.OPEN:
                flagged += due
        return flagged, owed


def _require_staff_write(principal: Principal, case: ArrearsCase) -> None:
    if not access.may_act_on_case(principal, case):
        raise Forbidden(f"{principal.role.value} may not act on arrears of district {case.district_code}", code="district_forbidden")


def evidence_of(session) -> dict[str, str | None]:
    return {
        "entered_at": session.entered_at.isoformat() if session.entered_at else None,
        "exited_at": session.exited_at.isoformat() if session.exited_at else None,
        "entry_evidence_ref": session.entry_evidence_ref,
        "exit_evidence_ref": session.exit_evidence_ref,
    }


