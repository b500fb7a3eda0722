"""Applying provider results to bills and the ledger, exactly once, whatever the provider re-sends.

Each result is one ``MoneyStore.commit``: the payment's new state, the bill's new figures and the ledger
posting (``pay:<payment id>``), conditional on the versions read. A duplicate finds the payment already
succeeded and changes nothing; a late ``failed`` after ``succeeded`` is ignored. After every result the
bill is brought back to consistency: money paid twice (a QR payment, then an ETC deduction) is refunded
automatically, newest payment first, and listeners (the pay-later workflow) hear that the bill is paid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from shared.bills.model import Bill
from shared.clock import Clock
from shared.errors import Conflict
from shared.ledger.model import Posting
from shared.observability import count, logger
from shared.payments.model import Payment, PaymentState, Refund, RefundReason, RefundState, refund_id_for
from shared.payments.ports import Change, MoneyStore
from shared.payments.provider import PaymentProvider, ProviderError

ATTEMPTS = 6
REFUNDED_BY_THE_LOT = ("legacy",)  # the platform cannot refund money taken by a lot's own pay code

BillListener = Callable[[Bill], None]


class PaymentContention(Conflict):
    code = "contention"


def _refs(bill: Bill, **more: str) -> dict[str, str]:
    return {"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id, **more}


def _payment_posting(paid: Payment, bill: Bill) -> Posting:
    """The ledger posting of a succeeded payment for one of its bills (a payment of several bills posts one per
    bill, ``pay:<payment>:<bill>``): the same bytes whenever it is built again."""
    return Posting.payment(
        f"pay:{paid.payment_id}" + (f":{bill.bill_id}" if paid.allocations else ""), bill.plate, paid.provider,
        paid.shares().get(bill.bill_id, 0), paid.succeeded_at,
        refs=_refs(bill, payment_id=paid.payment_id, channel=paid.channel.value),
    )  # fmt: skip


class PaymentApplier:
    def __init__(
        self, money: MoneyStore, providers: dict[str, PaymentProvider], clock: Clock,
        on_settled: Sequence[BillListener] = (),
    ) -> None:  # fmt: skip
        self._money, self._providers, self._clock = money, providers, clock
        # called when a bill has nothing left to pay (the composition root passes the reactions table's)
        self.on_settled: list[BillListener] = list(on_settled)
        # issue 12: archives a posting again (idempotent); a repeated callback re-records its payment, in case
        # the process that applied it stopped before its archive record was written
        self.rerecord: Callable[[list[Posting]], object] | None = None

    def succeeded(self, payment_id: str, amount_fen: int, provider_ref: str | None, at: datetime,
                  event_id: str | None = None) -> str:
        """Apply a successful payment once: to its bill, or to each bill it pays together, in one change
        (every bill's new figures, a balanced posting per bill and the payment's new state, all or nothing).
        ``event_id``: the provider's callback event, kept on the payment (its receipt). Returns applied /
        duplicate / unknown."""
        for _ in range(ATTEMPTS):
            payment = self._money.payment(payment_id)
            if payment is None:
                return "unknown"
            bills = [self._money.bill(bill_id) for bill_id in (payment.allocations or [payment.bill_id])]
            if payment.state is PaymentState.SUCCEEDED:
                if self.rerecord is not None and payment.succeeded_at is not None:
                    self.rerecord([_payment_posting(payment, b) for b in bills if payment.shares().get(b.bill_id, 0) > 0])
                for bill in bills:
                    self.follow_up(bill)  # a crash may have cut the follow-up short the first time
                return "duplicate"
            if amount_fen != payment.amount_fen:
                logger.warning("provider amount differs", extra={"payment_id": payment_id, "provider_fen": amount_fen})
            shares = payment.shares(amount_fen)
            paid = payment.bumped(
                state=PaymentState.SUCCEEDED, succeeded_at=at, amount_fen=amount_fen,
                provider_ref=provider_ref or payment.provider_ref, decline_code=None,
                allocations=shares if payment.allocations else {}, succeeded_event=event_id,
            )  # fmt: skip
            new_bills, postings = [], []
            for bill in bills:
                share = shares.get(bill.bill_id, 0)
                if share <= 0:
                    continue
                new_bills.append(bill.bumped(paid_fen=bill.paid_fen + share, last_paid_at=at, payments=[*bill.payments, payment_id]))
                postings.append(_payment_posting(paid, bill))
            if self._money.commit(Change(bills=new_bills, payments=[paid], postings=postings)):
                count("PaymentApplied")
                for bill in new_bills:
                    self.follow_up(bill)
                return "applied"
        raise PaymentContention(f"payment {payment_id} could not be applied; the provider will resend")

    def failed(self, payment_id: str, decline_code: str | None) -> str:
        for _ in range(ATTEMPTS):
            payment = self._money.payment(payment_id)
            if payment is None:
                return "unknown"
            if payment.state in (PaymentState.SUCCEEDED, PaymentState.FAILED):
                return "duplicate"  # out of order: a success is never undone by a late failure
            if self._money.commit(Change(payments=[payment.bumped(state=PaymentState.FAILED, decline_code=decline_code)])):
                return "applied"
        raise PaymentContention(f"payment {payment_id} keeps changing")

    def follow_up(self, bill: Bill | None) -> None:
        """Refund what was paid twice; tell listeners a bill is settled. Idempotent."""
        if bill is None:
            return
        if bill.overpaid_fen:
            self.refund_excess(bill, RefundReason.DUPLICATE)
            bill = self._money.bill(bill.bill_id) or bill
        if not bill.is_open and bill.balance_fen <= 0:
            for listener in self.on_settled:
                listener(bill)

    def refund_excess(self, bill: Bill, reason: RefundReason) -> None:
        """Refund the bill's overpayment from its newest refundable payments (money taken by a lot's legacy
        pay code is left to the lot to refund). Refunds recorded earlier but
        not confirmed (a crash before the provider was asked, a provider outage) are sent again first: the
        refund id is the provider's idempotency key, so a resend never refunds twice."""
        for payment in self._money.payments_of(bill):
            for pending in self._pending(payment):
                self._send(pending, payment)
        bill = self._money.bill(bill.bill_id) or bill
        payments = self._money.payments_of(bill)
        pending = {p.payment_id: sum(r.amount_fen for r in self._pending(p)) for p in payments}
        # a payment of several bills may have refunds pending for its other bills: only this bill's count here
        excess = bill.overpaid_fen - sum(r.amount_fen for p in payments for r in self._pending(p) if r.bill_id == bill.bill_id)
        for payment in sorted(payments, key=lambda p: bill.payments.index(p.payment_id), reverse=True):
            if excess <= 0:
                break
            amount = min(excess, payment.refundable_fen - pending[payment.payment_id], self._share_left(payment, bill))
            if amount <= 0 or payment.provider in REFUNDED_BY_THE_LOT:
                continue
            self.refund(payment.payment_id, amount, reason, bill_id=bill.bill_id)
            excess -= amount
        if excess > 0:
            logger.warning("overpayment needs a refund by the lot", extra={"bill_id": bill.bill_id, "fen": excess})

    def _share_left(self, payment: Payment, bill: Bill) -> int:
        """What of a payment may still go back for this bill: all of it, or for a payment of several bills,
        this bill's share less the refunds already asked for it (never another bill's money)."""
        if not payment.allocations:
            return payment.refundable_fen
        asked = sum(r.amount_fen for r in (self._money.refund(rid) for rid in payment.refunds) if r and r.bill_id == bill.bill_id)
        return payment.allocations.get(bill.bill_id, 0) - asked

    def _pending(self, payment: Payment) -> list[Refund]:
        return [r for r in (self._money.refund(rid) for rid in payment.refunds) if r and r.state is RefundState.REQUESTED]

    def refund(self, payment_id: str, amount_fen: int, reason: RefundReason, bill_id: str | None = None) -> Refund:
        """Record the refund, then ask the provider with the refund's id as idempotency key. ``bill_id``: the
        bill the money goes back for (a payment of several bills); default the payment's own."""
        refund = self._record_refund(payment_id, amount_fen, reason, bill_id)
        if refund.state is RefundState.SUCCEEDED:
            return refund
        self._send(refund, self._money.payment(payment_id))
        return self._money.refund(refund.refund_id) or refund

    def _send(self, refund: Refund, payment: Payment) -> None:
        provider = self._providers[payment.provider]
        try:
            answer = provider.refund(payment.provider_ref, refund.amount_fen, refund_id=refund.refund_id, reason=refund.reason.value)
        except ProviderError:
            logger.warning("refund not accepted yet; it is sent again on the next follow-up", extra={"refund_id": refund.refund_id})
            return
        if answer.status == "succeeded":
            self.refund_succeeded(refund.refund_id, answer.provider_ref, self._clock.now())

    def _record_refund(self, payment_id: str, amount_fen: int, reason: RefundReason, bill_id: str | None = None) -> Refund:
        for _ in range(ATTEMPTS):
            payment = self._money.payment(payment_id)
            sequence = sum(1 for rid in payment.refunds if f"_{reason.value[:3]}" in rid)
            refund_id = refund_id_for(payment_id, reason, sequence)
            refund = Refund(
                refund_id=refund_id, payment_id=payment_id, bill_id=bill_id or payment.bill_id, provider=payment.provider,
                amount_fen=amount_fen, reason=reason, created_at=self._clock.now(),
            )  # fmt: skip
            linked = payment.bumped(refunds=[*payment.refunds, refund_id])
            if self._money.commit(Change(payments=[linked], refunds=[refund])):
                return refund
        raise PaymentContention(f"payment {payment_id} keeps changing")

    def refund_succeeded(self, refund_id: str, provider_ref: str | None, at: datetime) -> str:
        for _ in range(ATTEMPTS):
            refund = self._money.refund(refund_id)
            if refund is None:
                return "unknown"
            if refund.state is RefundState.SUCCEEDED:
                return "duplicate"
            payment = self._money.payment(refund.payment_id)
            bill = self._money.bill(refund.bill_id)
            done = refund.bumped(state=RefundState.SUCCEEDED, succeeded_at=at, provider_ref=provider_ref)
            posting = Posting.refund(
                f"refund:{refund_id}", bill.plate, refund.provider, refund.amount_fen, at,
                refs=_refs(bill, payment_id=payment.payment_id, refund_id=refund_id, reason=refund.reason.value),
            )  # fmt: skip
            change = Change(
                bills=[bill.bumped(refunded_fen=bill.refunded_fen + refund.amount_fen)],
                payments=[payment.bumped(refunded_fen=payment.refunded_fen + refund.amount_fen)],
                refunds=[done], postings=[posting],
            )  # fmt: skip
            if self._money.commit(change):
                count("RefundApplied")
                return "applied"
        raise PaymentContention(f"refund {refund_id} could not be applied; it is retried")

    def refund_callback(self, payment_id: str | None, provider_ref: str | None, amount_fen: int | None, at: datetime) -> str:
        """A provider confirms a refund of a payment: settle the requested refund of that amount."""
        payment = self._money.payment(payment_id) if payment_id else None
        if payment is None and provider_ref:
            payment = self._money.payment_by_ref(provider_ref)
        if payment is None:
            return "unknown"
        for refund in self._pending(payment):
            if amount_fen is None or refund.amount_fen == amount_fen:
                return self.refund_succeeded(refund.refund_id, None, at)
        return "duplicate"
