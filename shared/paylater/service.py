"""Pay-later: who may leave without paying, the sweep at the end of the grace period, and the tasks of the
billing workflow.

At the exit the bill is marked pay-later with the end of its grace period, and the citizen's notice is
written, both in the exit's transaction (issue 10): a bill paid in the grace period costs no workflow at
all. A scheduled sweep (``sweep``, every few minutes) starts the billing workflow of each bill whose grace
period ended unpaid: one execution per bill, named after it, so a sweep retried after a crash (started, not
yet marked) starts nothing new. The workflow charges the saved method off-session, waits and retries on a
decline, and opens arrears at the end; it waits on a task token kept beside the bill, and any payment that
settles the bill (a QR payment, ETC) wakes it at once. Charges are off-session with an idempotency key per
attempt, so a task retried after a crash asks the provider for the same charge, never a second one; a charge
that lands after the citizen paid by themselves is refunded by the payment applier like any double payment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from shared.arrears.service import ArrearsService, evidence_of
from shared.bills.model import PAY_LATER_GRACE, Bill
from shared.citizens.model import Notice
from shared.citizens.ports import AccountNotice, PlateOwner
from shared.citizens.service import CitizenService
from shared.clock import Clock
from shared.errors import Conflict, NotFound, Unavailable
from shared.paylater.ports import PayLaterTokens
from shared.payments.model import PaymentSource, PaymentState
from shared.payments.ports import Change, MoneyStore
from shared.payments.provider import Channel
from shared.payments.service import PaymentService
from shared.workflows import PAY_LATER_BILLING, Workflows

WORKFLOW = PAY_LATER_BILLING
GRACE = PAY_LATER_GRACE  # the citizen may pay by themselves this long after leaving
RETRY_WAITS = (timedelta(hours=1), timedelta(hours=24), timedelta(hours=72))  # after each declined charge
ATTEMPTS = 6
SWEEP_LIMIT = 500  # bills started per sweep run; the rest wait for the next run


class PayLaterService:
    def __init__(
        self, money: MoneyStore, payments: PaymentService, citizens: CitizenService, arrears: ArrearsService,
        workflows: Workflows, sessions, clock: Clock, tokens: PayLaterTokens,
        lot_name: Callable[[str], str] | None = None,
    ) -> None:  # fmt: skip
        self._money, self._payments, self._citizens, self._arrears = money, payments, citizens, arrears
        self._tokens = tokens
        self._lot_name = lot_name or (lambda lot_id: lot_id)  # the notice names the lot as drivers know it
        self._workflows, self._sessions, self._clock = workflows, sessions, clock
        self._charging: str | None = None  # the bill whose Charge task runs here: its workflow waits on nothing

    # At the exit (the gate's PayLater port): the plate's owner if the car may leave on pay-later
    def eligible(self, plate: str) -> PlateOwner | None:
        owner = self._citizens.plate_owner(plate)
        ok = owner is not None and owner.pay_later_ready and not self._arrears.open_cases(plate)
        return owner if ok else None

    def eligible_without_open_arrears(self, plate: str) -> PlateOwner | None:
        owner = self._citizens.plate_owner(plate)
        return owner if owner is not None and owner.pay_later_ready else None

    def eligible_ignoring_arrears(self, plate: str) -> PlateOwner | None:
        owner = self._citizens.plate_owner(plate)
        return owner if owner is not None and owner.pay_later_registered else None

    def exit_notice(self, bill: Bill, lot_name: str, owner: PlateOwner) -> AccountNotice:
        """The citizen's notice of the bill, stored in the exit's transaction (no reads)."""
        text = (f"【无锡通停通付】先离场后付费：{lot_name} 停车费 {bill.due_fen // 100}.{bill.due_fen % 100:02d} 元。"
                f"{int(GRACE.total_seconds() // 3600)} 小时内可在官方服务窗口自行支付，逾期将从您授权的支付方式扣款。")
        notice = Notice(notice_id=f"{bill.bill_id}:bill", at=self._clock.now(), kind="pay_later_bill", text=text,
                        refs={"bill_id": bill.bill_id})
        return AccountNotice(owner.account_id, notice)

    def await_grace_end(self, bill: Bill) -> None:
        """After the exit (and again for a resent one): the exit stored the bill marked with the end of its
        grace period, so there is nothing left to do. A bill marked pay-later some other way gets its mark
        and its notice here."""
        for _ in range(ATTEMPTS):
            current = bill if bill.pay_later else self._money.bill(bill.bill_id)
            if current.pay_later:
                return
            grace_ends = (current.exited_at or self._clock.now()) + GRACE
            if self._money.commit(Change(bills=[current.bumped(pay_later=True, grace_ends=grace_ends)])):
                break
        else:
            raise Conflict(f"the bill {bill.bill_id} keeps changing; retry", code="contention")
        owner = self._citizens.owner(bill.plate)
        if owner is not None:
            note = self.exit_notice(current, self._lot_name(bill.lot_id), PlateOwner.of(owner)).notice
            self._citizens.notify(owner.account_id, note.notice_id, note.kind, note.text, note.refs, account=owner)

    # The schedule at the end of grace periods
    def sweep(self, limit: int = SWEEP_LIMIT) -> dict:
        """Start the billing workflow of every bill whose grace period ended unpaid, then mark it started.
        A crash between the two: the next run starts the same name again (a no-op) and marks it. A bill paid
        meanwhile is left alone (it has left the index; a payment racing the start is read by the
        workflow's first step, which charges only what is still due)."""
        started = settled = 0
        now = self._clock.now()
        for bill_id in self._money.bills_at_grace_end(now, limit):
            asked = False
            for _ in range(ATTEMPTS):
                bill = self._money.bill(bill_id)
                if bill is None or not bill.awaiting_grace_end or bill.grace_ends > now:
                    # the index lagged a payment, or the execution just started has charged the bill already
                    settled += int(not asked and bill is not None and bill.balance_fen <= 0)
                    break
                self._workflows.start(WORKFLOW, name=bill_id, payload={"bill_id": bill_id, "attempt": 0})
                asked = True
                if self._money.commit(Change(bills=[bill.bumped(grace_ends=None)])):
                    break
            started += int(asked)
        return {"started": started, "settled_meanwhile": settled}

    # Workflow tasks

    def await_payment(self, bill_id: str, token: str) -> None:
        """Keep the token beside the bill; if the bill was settled before it was kept, wake at once."""
        self._tokens.keep(bill_id, token, self._clock.now().isoformat())
        if self._bill(bill_id).balance_fen <= 0:
            self._workflows.wake(token, {"paid": True})

    def charge(self, bill_id: str, attempt: int) -> dict:
        """One off-session attempt. retry: wait and try again; exhausted: open arrears; paid: done."""
        if attempt:  # after a wait (the first attempt follows the sweep: no token was ever kept)
            self._tokens.forget(bill_id)  # the wait is over: a payment from now on need not wake anyone
        bill = self._bill(bill_id)
        result = {"bill_id": bill_id, "attempt": attempt + 1, "due_fen": bill.due_fen, "wait_s": 0}
        if bill.due_fen <= 0 or bill.disputed:
            return {**result, "outcome": "paid" if bill.due_fen <= 0 else "disputed"}
        owner = self._citizens.owner(bill.plate)
        method = owner.method if owner is not None and owner.method and owner.method.ready else None
        state = PaymentState.FAILED
        if method is not None:
            self._charging = bill_id
            try:
                payment = self._payments.pay(
                    bill, Channel.UNIONPAY, PaymentSource.OFF_SESSION, attempt=attempt,
                    customer_ref=method.customer_ref, payment_method_ref=method.payment_method_ref, off_session=True,
                )  # ProviderError -> Unavailable: the task fails and the ASL retries it with the same key
            finally:
                self._charging = None
            state = payment.state
        if state is PaymentState.SUCCEEDED:
            return {**result, "outcome": "paid", "due_fen": 0}
        if attempt < len(RETRY_WAITS):
            return {**result, "outcome": "retry", "wait_s": int(RETRY_WAITS[attempt].total_seconds())}
        return {**result, "outcome": "exhausted"}

    def open_arrears(self, bill_id: str) -> dict:
        bill = self._bill(bill_id)
        session = self._sessions.get(bill.session_id)
        case = self._arrears.open(bill, evidence_of(session) if session else {})
        return {"case_id": case.case_id}

    # Listener: a bill has nothing left to pay
    def bill_settled(self, bill: Bill) -> None:
        if not bill.pay_later or bill.grace_ends is not None or bill.bill_id == self._charging:
            return  # paid in the grace period (no workflow started), or by this workflow's own charge: none waits
        token = self._tokens.get(bill.bill_id)
        if token is not None:  # else the workflow has not reached its wait yet: it reads the settled bill itself
            self._workflows.wake(token, {"paid": True})

    def _bill(self, bill_id: str) -> Bill:
        bill = self._money.bill(bill_id)
        if bill is None:
            raise NotFound(f"bill {bill_id} does not exist", code="unknown_bill")
        return bill


__all__ = ["PayLaterService", "Unavailable"]
