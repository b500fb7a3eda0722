"""Pay-later and arrears rules on the in-memory stores: the workflow tasks called as the ASL would call them,
the fake Workflows recording starts and wakes, the reactions table wiring settlement to both services.
(The same journeys under moto's ASL interpreter are in ``tests/workflows``.)"""

from __future__ import annotations


import pytest

from shared.bills.model import PAY_LATER_GRACE as GRACE
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


def _pay_by_oneself(svc, clock, bill_id, ref="ref-1"):
    payment = svc.payments.pay(svc.billing.get(bill_id), Channel.WECHAT_PAY, PaymentSource.PAY_CODE)
    assert svc.payments.applier.succeeded(payment.payment_id, 600, ref, clock.now()) == "applied"


def test_the_exit_marks_the_grace_end_and_sends_the_notice_without_starting_a_workflow(memory, citizen, device, clock):
    ack = _leave(device, clock)
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "pay_later"
    bill = memory.services.billing.get(_bill_id(memory))
    assert bill.pay_later and bill.grace_ends == clock.now() + GRACE and bill.awaiting_grace_end
    notices = citizen("get", "/v1/me/account")[1]["notices"]  # written in the exit's own write
    assert [(n["notice_id"], n["kind"]) for n in notices] == [(f"{bill.bill_id}:bill", "pay_later_bill")]
    assert "南长街停车场" in notices[0]["text"] and "6.00 元" in notices[0]["text"]
    assert memory.workflows.runs(PAY_LATER_BILLING) == []  # nothing runs during the grace period
    memory.services.pay_later.await_grace_end(bill)  # the reaction, again for a resent exit: nothing changes
    assert memory.services.billing.get(bill.bill_id) == bill and memory.workflows.runs(PAY_LATER_BILLING) == []


def test_a_bill_paid_in_the_grace_period_never_starts_a_workflow(memory, citizen, device, clock):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    clock.advance(GRACE.total_seconds() - 60)
    _pay_by_oneself(svc, clock, bill_id)
    assert memory.workflows.woken == []  # nobody waits: bill_settled reads no token
    clock.advance(120)
    assert svc.stores.money.bills_at_grace_end(clock.now()) == []
    assert svc.pay_later.sweep() == {"started": 0, "settled_meanwhile": 0}
    assert memory.workflows.runs(PAY_LATER_BILLING) == [] and svc.ledger.check() == []


def test_the_sweep_starts_the_workflow_of_a_bill_unpaid_at_its_grace_end_once(memory, citizen, device, clock):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    clock.advance(GRACE.total_seconds() - 1)
    assert svc.pay_later.sweep()["started"] == 0  # not yet
    clock.advance(1)
    assert svc.pay_later.sweep()["started"] == 1
    assert [(r.name, r.payload) for r in memory.workflows.runs(PAY_LATER_BILLING)] == [(bill_id, {"bill_id": bill_id, "attempt": 0})]
    bill = svc.billing.get(bill_id)
    assert bill.grace_ends is None and not bill.awaiting_grace_end and bill.due_fen == 600
    assert svc.pay_later.sweep()["started"] == 0  # marked: the next run finds nothing
    assert svc.pay_later.charge(bill_id, 0)["outcome"] == "paid" and svc.billing.get(bill_id).balance_fen == 0


def test_a_sweep_that_crashed_after_the_start_is_retried_without_a_second_execution(memory, citizen, device, clock, monkeypatch):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    clock.advance(GRACE.total_seconds())
    real_commit, calls = svc.pay_later._money.commit, []

    def dies_once(change):
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("the function died after StartExecution")
        return real_commit(change)

    monkeypatch.setattr(svc.pay_later._money, "commit", dies_once)
    with pytest.raises(RuntimeError):
        svc.pay_later.sweep()
    assert len(memory.workflows.runs(PAY_LATER_BILLING)) == 1 and svc.billing.get(bill_id).awaiting_grace_end
    assert svc.pay_later.sweep()["started"] == 1  # the schedule's next run: same name (no-op), then marked
    assert len(memory.workflows.runs(PAY_LATER_BILLING)) == 1 and not svc.billing.get(bill_id).awaiting_grace_end


def test_a_payment_at_the_grace_end_is_not_charged_again(memory, citizen, device, clock):
    """The race the sweep cannot see: the index said unpaid, the citizen paid before the workflow's first step."""
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    clock.advance(GRACE.total_seconds())
    assert svc.pay_later.sweep()["started"] == 1
    _pay_by_oneself(svc, clock, bill_id)
    assert svc.pay_later.charge(bill_id, 0)["outcome"] == "paid"
    bill = svc.billing.get(bill_id)
    assert (bill.paid_fen, bill.balance_fen) == (600, 0) and svc.ledger.check() == []


def test_paying_during_a_retry_wait_wakes_the_workflow_through_the_reactions_table(memory, citizen, device, clock):
    _leave(device, clock)
    svc, bill_id = memory.services, _bill_id(memory)
    svc.providers["sandbox"].configure(fail_next_off_session=1)
    clock.advance(GRACE.total_seconds())
    svc.pay_later.sweep()
    assert svc.pay_later.charge(bill_id, 0)["outcome"] == "retry"
    token = memory.workflows.token(bill_id)
    svc.pay_later.await_payment(bill_id, token)
    assert memory.workflows.woken == []  # still due: the workflow waits
    _pay_by_oneself(svc, clock, bill_id)
    assert memory.workflows.woken == [(token, {"paid": True})]  # bill_settled -> pay_later.bill_settled
    assert svc.pay_later.charge(bill_id, 1)["outcome"] == "paid" and svc.ledger.check() == []


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


def test_a_bill_not_marked_at_the_exit_gets_its_grace_end_and_notice_from_the_reaction(memory, citizen, device, clock):
    """The fallback of ``await_grace_end`` (a bill stored before the exit marked pay-later bills itself)."""
    assert citizen("post", "/v1/me/pay-later/pause")[1]["status"] == "paused"
    assert _leave(device, clock)["gate"]["reason"] == "pay"  # paused: the exit asks to pay, nothing marked
    svc, bill_id = memory.services, _bill_id(memory)
    assert not svc.billing.get(bill_id).pay_later
    svc.pay_later.await_grace_end(svc.billing.get(bill_id))
    bill = svc.billing.get(bill_id)
    assert bill.pay_later and bill.grace_ends == bill.exited_at + GRACE and bill.awaiting_grace_end
    assert [n["kind"] for n in citizen("get", "/v1/me/account")[1]["notices"]] == ["pay_later_bill"]
    svc.pay_later.await_grace_end(bill)  # again: nothing changes
    assert svc.billing.get(bill_id) == bill and len(citizen("get", "/v1/me/account")[1]["notices"]) == 1
