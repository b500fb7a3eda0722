"""Pay-later and arrears rules on the in-memory stores: the workflow tasks called as the ASL would call them,
the fake Workflows recording starts and wakes, the reactions table wiring settlement to both services.
(The same journeys under moto's ASL interpreter are in ``tests/workflows``.)"""

from __future__ import annotations


import pytest

from shared.payments.model import PaymentSource
from shared.payments.provider import Channel
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from shared.workflows import ARREARS_ESCALATION, PAY_LATER_BILLING
from tests.support import gate_event, pay_later_citizen

LOT, PLATE = "lx-nanchang-st-01", "苏B12345"


@pytest.fixture
def citizen(memory, api, city, clock):
    """A registered citizen: consent, 苏B12345 verified, a saved method (sandbox mandate)."""
    return pay_later_citizen(memory.services, api, clock, PLATE, LOT, ZHUMADIAN_CLASS1)


def _leave(device, clock, hours=2.5) -> dict:
    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    clock.advance(hours * 3600)
    return device("lx-out1").post(gate_event("exit", PLATE, clock.now()))[1]["acks"][0]


def _bill_id(memory) -> str:
    [bill] = memory.services.billing.of_plate(PLATE)
    return bill.bill_id


def test_the_gate_opens_on_pay_later_and_starts_one_billing_workflow(memory, citizen, device, clock):
    ack = _leave(device, clock)
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "pay_later"
    bill_id = _bill_id(memory)
    assert [(r.name, r.payload) for r in memory.workflows.runs(PAY_LATER_BILLING)] == [(bill_id, {"bill_id": bill_id})]
    memory.services.pay_later.start(memory.services.billing.get(bill_id))  # a retried exit: no second run
    assert len(memory.workflows.runs(PAY_LATER_BILLING)) == 1 and memory.services.billing.get(bill_id).pay_later


def test_paying_by_oneself_wakes_the_waiting_workflow_through_the_reactions_table(memory, citizen, device, clock):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    assert svc.pay_later.price_and_notify(bill_id)["due_fen"] == 600
    token = memory.workflows.token(bill_id)
    svc.pay_later.await_payment(bill_id, token)
    assert memory.workflows.woken == []  # still due: the workflow waits
    payment = svc.payments.pay(svc.billing.get(bill_id), Channel.WECHAT_PAY, PaymentSource.PAY_CODE)
    assert svc.payments.applier.succeeded(payment.payment_id, 600, "ref-1", clock.now()) == "applied"
    assert memory.workflows.woken == [(token, {"paid": True})]  # bill_settled -> pay_later.bill_settled
    assert svc.pay_later.charge(bill_id, 0)["outcome"] == "paid" and svc.ledger.check() == []


def test_declined_charges_retry_then_open_one_arrears_case(memory, citizen, device, clock):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    svc.providers["sandbox"].configure(fail_next_off_session=10)
    outcomes = [svc.pay_later.charge(bill_id, attempt)["outcome"] for attempt in range(4)]
    assert outcomes == ["retry", "retry", "retry", "exhausted"]
    case_id = svc.pay_later.open_arrears(bill_id)["case_id"]
    assert svc.pay_later.open_arrears(bill_id)["case_id"] == case_id  # the task retried: one case
    assert [r.name for r in memory.workflows.runs(ARREARS_ESCALATION)] == [case_id]
    assert svc.billing.get(bill_id).in_arrears and svc.gate.arrears.owed(PLATE)[1] == 600
