"""The one payment code (通停通付): find the car's bill, start a payment on any channel, take the
provider's callbacks, and report payments made through a lot's legacy pay code.

A payment is recorded before the provider is asked, with an id derived from the bill's version, the
channel and the amount: a driver who taps "pay" twice gets the same payment (and the same provider
intent) back, never a second charge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.bills.model import Bill
from shared.bills.service import BillingService
from shared.clock import Clock
from shared.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable
from shared.observability import logger
from shared.payments.applier import ATTEMPTS, PaymentApplier, PaymentContention
from shared.payments.model import Payment, PaymentSource, PaymentState, RefundReason, payment_id_for
from shared.payments.ports import Change, MoneyStore
from shared.payments.provider import (
    CallbackKind,
    Channel,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    ProviderPayment,
)
from shared.registry.model import Lot

# Channels on which the payer still has to approve the payment after it is created (a QR code to scan):
# the provider moves no money before the driver has the answer.
PAYER_PRESENT = frozenset({Channel.WECHAT_PAY, Channel.ALIPAY, Channel.UNIONPAY})


MAX_TOGETHER = 10  # bills in one payment: one transaction writes each bill and its posting (DynamoDB: 100 items)


@dataclass(frozen=True)
class Routing:
    """Which provider serves which channel: Stripe in production, the sandbox locally; ETC its issuer."""

    by_channel: Mapping[Channel, str]

    def provider_for(self, channel: Channel) -> str:
        if channel not in self.by_channel:
            raise InvalidInput(f"channel {channel.value} is not offered", code="channel_not_offered")
        return self.by_channel[channel]


class PaymentService:
    def __init__(
        self, money: MoneyStore, billing: BillingService, applier: PaymentApplier,
        providers: dict[str, PaymentProvider], routing: Routing, payout_account, clock: Clock,
        on_setup: Sequence[Callable[..., None]] = (),
    ) -> None:  # fmt: skip
        self._money, self._billing, self.applier = money, billing, applier
        self._providers, self._routing, self._payout, self._clock = providers, routing, payout_account, clock
        self.on_setup: list = list(on_setup)  # pay-later registration: a saved method is confirmed

    # Starting payments
    def pay(self, bill: Bill, channel: Channel, source: PaymentSource, attempt: int = 0, **off_session) -> Payment:
        """Collect what the bill says is due now, through ``channel``. Idempotent for the same bill state
        (and, for off-session charges, the same attempt)."""
        if bill.disputed:
            raise Conflict("the bill is disputed; staff decide before it can be paid", code="bill_disputed")
        due = bill.due_fen
        if due <= 0:
            raise Conflict("nothing is due on this bill", code="nothing_due", bill_id=bill.bill_id)
        payment = Payment(
            payment_id=payment_id_for(bill.bill_id, bill.version, channel.value, due, source.value, attempt),
            bill_id=bill.bill_id, provider=self._routing.provider_for(channel), channel=channel, source=source,
            amount_fen=due, created_at=self._clock.now(),
        )  # fmt: skip
        return self._start(payment, PaymentRequest(
            payment_id=payment.payment_id, bill_id=bill.bill_id, amount_fen=due, channel=channel,
            destination=self._payout(bill.operator_id), description=f"停车费 {bill.lot_id}",
            metadata={"session_id": bill.session_id, "lot_id": bill.lot_id, "source": source.value},
            plate=bill.plate if channel is Channel.ETC else None, **off_session,
        ))  # fmt: skip

    def pay_together(self, bills: Sequence[Bill], channel: Channel, source: PaymentSource) -> Payment:
        """One payment for several bills that have left and are due (a citizen's arrears), each getting what
        it says is due now. The money settles into one operator's account (S9: destination charges), so the
        bills must share their operator. Idempotent for the same bills in the same state: the id derives
        from each bill's id, version and due amount."""
        if not 1 <= len(bills) <= MAX_TOGETHER or len({b.bill_id for b in bills}) != len(bills):
            raise InvalidInput(f"choose 1 to {MAX_TOGETHER} different bills", code="bad_bill_selection")
        for bill in bills:
            if bill.disputed:
                raise Conflict("a chosen bill is disputed; staff decide before it can be paid", code="bill_disputed", bill_id=bill.bill_id)
            if bill.is_open:
                raise Conflict("a chosen car is still parked: pay that bill at the lot", code="bill_open", bill_id=bill.bill_id)
            if bill.due_fen <= 0:
                raise Conflict("nothing is due on a chosen bill", code="nothing_due", bill_id=bill.bill_id)
        if len({b.operator_id for b in bills}) > 1:
            raise Conflict("bills of different operators settle into different accounts: pay them per operator",
                           code="mixed_operators", operators=sorted({b.operator_id for b in bills}))
        ordered = sorted(bills, key=lambda b: b.bill_id)
        allocations = {b.bill_id: b.due_fen for b in ordered}
        total, first = sum(allocations.values()), ordered[0]
        payment = Payment(
            payment_id=payment_id_for("together", *(f"{b.bill_id}:{b.version}:{b.due_fen}" for b in ordered), channel.value, source.value),
            bill_id=first.bill_id, provider=self._routing.provider_for(channel), channel=channel, source=source,
            amount_fen=total, allocations=allocations, created_at=self._clock.now(),
        )  # fmt: skip
        return self._start(payment, PaymentRequest(
            payment_id=payment.payment_id, bill_id=first.bill_id, amount_fen=total, channel=channel,
            destination=self._payout(first.operator_id), description=f"停车费 {len(ordered)} 笔",
            metadata={"bills": ",".join(allocations), "source": source.value},
        ))  # fmt: skip

    def _start(self, payment: Payment, request: PaymentRequest) -> Payment:
        """Store the payment once (its id derives from what it pays, so a retried request finds it), ask its
        provider to collect, and keep the answer. A retry whose payment already went to the provider gets it back.

        A payer-present payment (a QR code the driver still has to approve) is asked for first and stored
        once, with the provider's answer (issue 10: one write instead of two, no re-read). Safe because no
        money can move before the driver has the answer, which they get only after it is stored; a crash in
        between leaves an intent nobody can approve, and the retry gets the same intent back (the payment id
        is the provider's idempotency key). Off-session charges and ETC deductions can move money at once:
        they are recorded before the provider is asked."""
        if payment.channel in PAYER_PRESENT and not request.off_session:
            return self._ask_then_store(payment, request)
        known: Payment | None = payment
        if not self._money.create_payment(payment):
            known = self._money.payment(payment.payment_id)
            if known.state is not PaymentState.CREATED:
                return known  # a retried request: the provider already has it
        answer = self._ask(payment, request)
        return self._record_answer(payment.payment_id, answer, known)

    def _ask(self, payment: Payment, request: PaymentRequest) -> ProviderPayment:
        try:
            return self._providers[payment.provider].create_payment(request)
        except ProviderError as exc:
            raise Unavailable(f"{payment.provider} is unavailable; try again", code="provider_unavailable") from exc

    def _ask_then_store(self, payment: Payment, request: PaymentRequest) -> Payment:
        try:
            answer = self._ask(payment, request)
        except Unavailable:
            stored = self._money.payment(payment.payment_id)  # a retry in an outage: the answer kept before
            if stored is None or stored.state is PaymentState.CREATED:
                raise
            return stored
        asked = payment.model_copy(update={
            "provider_ref": answer.provider_ref, "next_action_url": answer.next_action_url, "state": PaymentState.PENDING,
        })  # fmt: skip
        if answer.status is PaymentStatus.PENDING and self._money.create_payment(asked):
            return asked
        if self._money.payment(payment.payment_id) is None:
            self._money.create_payment(asked)  # a synchronous result: stored first, then applied below
        return self._record_answer(payment.payment_id, answer)  # a retried request, or a synchronous result

    def _record_answer(self, payment_id: str, answer: ProviderPayment, known: Payment | None = None) -> Payment:
        """Keep the provider's reference; apply a synchronous success (off-session charges) at once.
        ``known``: the payment as just stored, so a plain answer needs no re-read."""
        if answer.status is PaymentStatus.SUCCEEDED:
            self.applier.succeeded(payment_id, answer.amount_fen, answer.provider_ref, self._clock.now())
            known = None
        elif answer.status is PaymentStatus.FAILED:
            self.applier.failed(payment_id, answer.decline_code)
            known = None
        for _ in range(ATTEMPTS):
            payment, known = known or self._money.payment(payment_id), None
            if payment.provider_ref == answer.provider_ref and payment.state is not PaymentState.CREATED:
                return payment
            state = payment.state if payment.state is not PaymentState.CREATED else PaymentState.PENDING
            updated = payment.bumped(
                provider_ref=answer.provider_ref, next_action_url=answer.next_action_url, state=state
            )
            if self._money.commit(Change(payments=[updated])):
                return updated
        raise PaymentContention(f"payment {payment_id} keeps changing")

    def bill_for_pay_code(self, lot: Lot, *, lane: str | None, plate: str | None, open_session) -> Bill:
        """The bill the lot's (or lane's) pay code shows: the car that just left this lane, or the car
        with this plate, parked (prepay: priced to now) or gone with something still due."""
        if plate:
            if open_session is not None:
                bill = self._billing.ensure(open_session, lot)
            else:
                bill = self._billing.latest_unsettled(plate, lot.lot_id)
        elif lane:
            bill = self._billing.at_lane(lot.lot_id, lane)
        else:
            raise InvalidInput("give the exit lane or the plate", code="lane_or_plate_required")
        if bill is None:
            raise NotFound("no bill for this car here", code="no_bill")
        return bill

    # Provider callbacks
    def callback(self, provider_name: str, headers: Mapping[str, str], body: bytes) -> dict:
        """Verify, record and apply one delivery. Unknown event types are acknowledged and ignored.

        Every delivery answered is recorded: a payment success applied here is recorded by the payment itself
        (``Payment.succeeded_event``, in the transaction that applies it: issue 10, one write and one round
        trip fewer); any other delivery by a receipt (put if absent). The answer follows the record, so a crash
        before it leaves the provider resending: the resend applies the payment (a clean redo) or finds it
        applied (a duplicate, receipted then). ``tests/payments/test_callback_receipts.py``."""
        provider = self._providers.get(provider_name)
        if provider is None:
            raise NotFound(f"no provider {provider_name}", code="unknown_provider")
        event = _checked(provider_name, lambda: provider.parse_callback(headers, body))  # InvalidInput: nothing changes
        payment_id = event.payment_id or self._payment_id_by_ref(event.provider_ref)
        if event.kind is CallbackKind.PAYMENT_SUCCEEDED and payment_id:
            outcome = self.applier.succeeded(payment_id, event.amount_fen, event.provider_ref, event.occurred_at,
                                             event_id=event.event_id)
            first = outcome == "applied" or self._receipt(provider_name, event)
            return {"received": True, "first_delivery": first, "outcome": outcome, "event_id": event.event_id}
        first = self._receipt(provider_name, event)
        if event.kind is CallbackKind.PAYMENT_FAILED and payment_id:
            outcome = self.applier.failed(payment_id, event.decline_code)
        elif event.kind is CallbackKind.REFUND_SUCCEEDED:
            outcome = self.applier.refund_callback(payment_id, event.provider_ref, event.amount_fen, event.occurred_at)
        elif event.kind is CallbackKind.SETUP_SUCCEEDED:
            for listener in self.on_setup:
                listener(event)
            outcome = "setup"
        else:
            outcome = "ignored" if event.kind is CallbackKind.IGNORED else "unknown"
        if outcome == "unknown":
            logger.warning("callback for a payment the platform does not know", extra={"provider": provider_name, "event": event.event_id})
        return {"received": True, "first_delivery": first, "outcome": outcome, "event_id": event.event_id}

    def _receipt(self, provider_name: str, event: CallbackEvent) -> bool:
        return self._money.record_receipt(provider_name, event.event_id, event.model_dump(mode="json"), self._clock.now())

    def _payment_id_by_ref(self, provider_ref: str | None) -> str | None:
        found = self._money.payment_by_ref(provider_ref) if provider_ref else None
        return found.payment_id if found else None

    # Legacy pay codes (S9): the lot system reports a payment it took itself
    def legacy_paid(self, bill: Bill, report_id: str, amount_fen: int, at: datetime) -> str:
        payment = Payment(
            payment_id=payment_id_for("legacy", bill.lot_id, report_id), bill_id=bill.bill_id, provider="legacy",
            channel=Channel.LEGACY, source=PaymentSource.LEGACY, amount_fen=amount_fen, state=PaymentState.PENDING,
            provider_ref=f"legacy:{bill.lot_id}:{report_id}", created_at=at,
        )  # fmt: skip
        self._money.create_payment(payment)
        return self.applier.succeeded(payment.payment_id, amount_fen, payment.provider_ref, at)

    def payment(self, payment_id: str) -> Payment:
        payment = self._money.payment(payment_id)
        if payment is None:
            raise NotFound(f"payment {payment_id} does not exist", code="unknown_payment")
        return payment

    def price_lowered(self, bill: Bill) -> None:
        """After ``BillingService.lower_stays``: refund what the lowered bill leaves paid too much through the
        refund path (the refund id is the provider's idempotency key, so a repeat never refunds twice), and
        tell listeners a bill now settled. Idempotent."""
        if bill.overpaid_fen:
            self.applier.refund_excess(bill, RefundReason.PRICE_CORRECTED)
        self.applier.follow_up(self._money.bill(bill.bill_id))

    def refunds_of(self, bill: Bill) -> list[dict]:
        """The bill's refunds as its payer sees them: how much, why, through which channel, and whether the
        provider confirmed it (a refund must be visible, not only a figure on the bill)."""
        if bill.refunded_fen == 0 and bill.balance_fen >= 0:
            # A refund is created only for an overpaid bill (balance below zero) and adds to refunded_fen once
            # it succeeds: neither, no refund. Spares a read per payment for every bill of a citizen's list.
            return []
        out = []
        for payment in self._money.payments_of(bill):
            for refund_id in payment.refunds:
                refund = self._money.refund(refund_id)
                if refund is not None and refund.bill_id == bill.bill_id:  # a payment of several bills: this one's
                    out.append({**refund.model_dump(mode="json", include={
                        "refund_id", "amount_fen", "reason", "state", "created_at", "succeeded_at"}, exclude_none=True),
                        "channel": payment.channel.value})  # fmt: skip
        return sorted(out, key=lambda r: r["created_at"])

    def legacy_report(self, lot: Lot, plate: str, report_id: str, amount_fen: int, at: datetime, open_session) -> dict:
        """A lot system reports a payment taken by its own code: apply it to the car's bill (the parked
        car's, priced to now, or the latest one still due in this lot)."""
        known = self._money.payment(payment_id_for("legacy", lot.lot_id, report_id))
        if known is not None and known.state is PaymentState.SUCCEEDED:
            return {"bill_id": known.bill_id, "outcome": "duplicate"}
        bill = self._money.bill(known.bill_id) if known else None
        if bill is None and open_session is not None:
            bill = self._billing.ensure(open_session, lot)
        bill = bill or self._billing.latest_unsettled(plate, lot.lot_id)
        if bill is None:
            raise NotFound(f"no bill for this plate in lot {lot.lot_id}", code="no_bill_for_payment")
        outcome = self.legacy_paid(bill, report_id, amount_fen, at)
        return {"bill_id": bill.bill_id, "outcome": "duplicate" if outcome == "duplicate" else "applied"}


# A signed body can still be malformed (a provider's bug, a replayed test event): what a provider's parser
# trips over is the caller's 400, and an event that would move money carries what moving it needs.
_PARSE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError, OSError, RecursionError)
_MONEY_KINDS = (CallbackKind.PAYMENT_SUCCEEDED, CallbackKind.REFUND_SUCCEEDED)


def _checked(provider_name: str, parse) -> CallbackEvent:
    try:
        event = parse()
    except DomainError:
        raise
    except _PARSE_ERRORS as exc:
        raise InvalidInput(f"the {provider_name} callback body is malformed: {type(exc).__name__}", code="bad_payload") from None
    if not (0 < len(event.event_id) <= 255) or not 2000 <= event.occurred_at.year <= 2100:
        raise InvalidInput("a callback names its event id and a plausible time", code="bad_payload")
    if event.kind in _MONEY_KINDS and (type(event.amount_fen) is not int or not 0 <= event.amount_fen <= 10**10):
        raise InvalidInput(f"a {event.raw_type or event.kind.value} callback carries its amount in integer fen", code="bad_payload")
    for ref in (event.provider_ref, event.payment_id):
        if ref is not None and not (isinstance(ref, str) and 0 < len(ref) <= 255):
            raise InvalidInput("a callback's references are short strings", code="bad_payload")
    return event
