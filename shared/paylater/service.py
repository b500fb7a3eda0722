"""Pay-later: who may leave without paying, and the tasks of the billing workflow.

One workflow execution per bill, named after it, so a retried exit never starts a second. The workflow
waits on a task token kept beside the bill; any payment that settles the bill (a QR payment, ETC, the
off-session charge itself) wakes it at once. Charges are off-session with an idempotency key per attempt,
so a task retried after a crash asks the provider for the same charge, never a second one; a charge that
lands after the citizen paid by themselves is refunded by the payment applier like any double payment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from shared.arrears.service import ArrearsService, evidence_of
from shared.bills.model import Bill
from shared.citizens.service import CitizenService
from shared.clock import Clock
from shared.errors import NotFound, Unavailable
from shared.paylater.ports import PayLaterTokens
from shared.payments.model import PaymentSource, PaymentState
from shared.payments.ports import Change, MoneyStore
from shared.payments.provider import Channel
from shared.payments.service import PaymentService
from shared.workflows import PAY_LATER_BILLING, Workflows

WORKFLOW = PAY_LATER_BILLING
GRACE = timedelta(hours=24)  # the citizen may pay by themselves this long after leaving
RETRY_WAITS = (timedelta(hours=1), timedelta(hours=24), timedelta(hours=72))  # after each declined charge
ATTEMPTS = 6


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

    # At the exit (the gate's PayLater port)
    def eligible(self, plate: str) -> bool:
        owner = self._citizens.plate_owner(plate)
        return owner is not None and owner.pay_later_ready and not self._arrears.open_cases(plate)

    def eligible_without_open_arrears(self, plate: str) -> bool:
        owner = self._citizens.plate_owner(plate)
        return owner is not None and owner.pay_later_ready

    def eligible_ignoring_arrears(self, plate: str) -> bool:
        owner = self._citizens.plate_owner(plate)
        return owner is not None and owner.pay_later_registered

    def start(self, bill: Bill) -> None:
        for _ in range(ATTEMPTS):
            current = bill if bill.pay_later else self._money.bill(bill.bill_id)  # the exit stored the mark
            if current.pay_later or self._money.commit(Change(bills=[current.bumped(pay_later=True)])):
                break
        self._workflows.start(WORKFLOW, name=bill.bill_id, payload={"bill_id": bill.bill_id})

    # Workflow tasks
    def price_and_notify(self, bill_id: str) -> dict:
        bill = self._bill(bill_id)
        owner = self._citizens.owner(bill.plate)
        if owner is not None and bill.due_fen:
            text = (f"【无锡通停通付】先离场后付费：{self._lot_name(bill.lot_id)} 停车费 {bill.due_fen // 100}.{bill.due_fen % 100:02d} 元。"
                    f"{int(GRACE.total_seconds() // 3600)} 小时内可在官方服务窗口自行支付，逾期将从您授权的支付方式扣款。")
            self._citizens.notify(owner.account_id, f"{bill_id}:bill", "pay_later_bill", text, {"bill_id": bill_id},
                                 account=owner)
        return {"bill_id": bill_id, "due_fen": bill.due_fen, "wait_s": int(GRACE.total_seconds()), "attempt": 0}

    def await_payment(self, bill_id: str, token: str) -> None:
        """Keep the token beside the bill; if the bill was settled before it was kept, wake at once."""
        self._tokens.keep(bill_id, token, self._clock.now().isoformat())
        if self._bill(bill_id).balance_fen <= 0:
            self._workflows.wake(token, {"paid": True})

    def charge(self, bill_id: str, attempt: int) -> dict:
        """One off-session attempt. retry: wait and try again; exhausted: open arrears; paid: done."""
        self._tokens.forget(bill_id)  # the wait is over: a payment from now on need not wake anyone
        bill = self._bill(bill_id)
        result = {"bill_id": bill_id, "attempt": attempt + 1, "due_fen": bill.due_fen, "wait_s": 0}
        if bill.due_fen <= 0 or bill.disputed:
            return {**result, "outcome": "paid" if bill.due_fen <= 0 else "disputed"}
        owner = self._citizens.owner(bill.plate)
        method = owner.method if owner is not None and owner.method and owner.method.ready else None
        state = PaymentState.FAILED
        if method is not None:
            payment = self._payments.pay(
                bill, Channel.UNIONPAY, PaymentSource.OFF_SESSION, attempt=attempt,
                customer_ref=method.customer_ref, payment_method_ref=method.payment_method_ref, off_session=True,
            )  # ProviderError -> Unavailable: the task fails and the ASL retries it with the same key
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
        if not bill.pay_later:
            return
        token = self._tokens.get(bill.bill_id)
        if token is not None:  # else the workflow has not reached its wait yet: it reads the settled bill itself
            self._workflows.wake(token, {"paid": True})

    def _bill(self, bill_id: str) -> Bill:
        bill = self._money.bill(bill_id)
        if bill is None:
            raise NotFound(f"bill {bill_id} does not exist", code="unknown_bill")
        return bill


__all__ = ["PayLaterService", "Unavailable"]
