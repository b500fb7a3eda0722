"""A citizen pays several of their own due bills (arrears) with one payment, from the service window.

Which bills are the citizen's is the service window's rule (the plate was theirs when the bill was made);
a bill that is not theirs answers exactly like one that does not exist, so ids cannot be probed. The payment
itself is ``PaymentService.pay_together``: one provider payment, applied to every bill in one all-or-nothing
change when the provider confirms it.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.auth import Principal
from shared.bills.model import Bill
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.payments.model import Payment, PaymentSource
from shared.payments.provider import Channel
from shared.payments.service import MAX_TOGETHER, PaymentService

PAYER_CHANNELS = ("wechat_pay", "alipay", "unionpay")


class CitizenPayments:
    def __init__(self, bill: Callable[[str], Bill | None], owns: Callable[[Principal, Bill], bool], payments: PaymentService) -> None:
        self._bill, self._owns, self._payments = bill, owns, payments

    def pay(self, principal: Principal, bill_ids: object, channel: object) -> Payment:
        if not principal.is_citizen:
            raise Forbidden("only a citizen pays their own bills here", code="citizen_only")
        if channel not in PAYER_CHANNELS:
            raise InvalidInput("channel must be wechat_pay, alipay or unionpay", code="bad_channel")
        if not isinstance(bill_ids, list) or not all(isinstance(b, str) and 0 < len(b) <= 128 for b in bill_ids):
            raise InvalidInput("bill_ids: a list of bill ids", code="bad_bill_selection")
        if not 1 <= len(bill_ids) <= MAX_TOGETHER:
            raise InvalidInput(f"choose 1 to {MAX_TOGETHER} bills", code="bad_bill_selection")
        bills = []
        for bill_id in bill_ids:
            bill = self._bill(bill_id)
            if bill is None or not self._owns(principal, bill):
                raise NotFound(f"bill {bill_id} is not one of yours", code="unknown_bill")
            bills.append(bill)
        return self._payments.pay_together(bills, Channel(channel), PaymentSource.PAY_CODE)
