"""Leave first, pay later on the local stack: the real ASL files under moto's interpreter, task handlers
dispatched to ours, time moved by the tests (a day of grace passes in a call to ``clock.advance``), the
grace-end schedule fired as EventBridge would (the billing workflow starts only for a bill unpaid then)."""

from __future__ import annotations

import json
import threading

import pytest

from infra.local import scheduler
from shared import resources
from shared.ledger.accounts import Account
from shared.payments.model import PaymentSource
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CallbackPoster, crash_once_after, gate_event, pay_later_citizen, until

LOT, PLATE = "lx-nanchang-st-01", "苏B12345"
GRACE = 24 * 3600


@pytest.fixture
def citizen(stack, api, city, clock):
    """A registered citizen: account with consent, 苏B12345 verified, a saved method (sandbox mandate)."""
    return pay_later_citizen(stack.services, api, clock, PLATE, LOT, ZHUMADIAN_CLASS1)


def _leave(device, clock, plate=PLATE, hours=2.5, lot=LOT, entry_dev="lx-in1", exit_dev="lx-out1"):
    device(entry_dev).post(gate_event("entry", plate, clock.now(), lot=lot))
    clock.advance(hours * 3600)
    return device(exit_dev).post(gate_event("exit", plate, clock.now(), lot=lot))[1]["acks"][0]


def _billing_execution(stack, bill_id):
    arn = next(e["executionArn"] for e in stack.executions("pay-later-billing") if e["name"] == bill_id)
    return arn


def _waiting_for_payment(stack, bill_id):
    """The execution waits on its task token (stored beside the bill) on the clock."""
    tokens = stack.services.stores.pay_later_tokens
    token = until(lambda: tokens.get(bill_id), "the task token")
    until(lambda: stack.clock.sleepers, "the wait on the clock")
    return token


def _finish(stack, arn):
    out = until(lambda: (o := stack.wait_execution(arn, timeout_s=0.05))["status"] != "RUNNING" and o, "the end")
    return out


def _bill(stack, bill_id):
    return stack.services.billing.get(bill_id)


def _off_session(stack, bill):
    return [p for p in map(stack.services.payments.payment, bill.payments) if p.source is PaymentSource.OFF_SESSION]


def _grace_ends(clock, seconds=GRACE):
    """Time passes to the end of the grace period and the grace-end schedule fires, as EventBridge would."""
    clock.advance(seconds)
    out = scheduler.fire(next(s for s in resources.SCHEDULES if s.logical == "pay-later-grace-end"), clock.now())
    return out if isinstance(out, dict) else json.loads(out)


def test_exit_opens_on_pay_later_and_the_citizen_pays_within_the_grace_period(stack, api, device, clock, citizen):
    ack = _leave(device, clock)
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "pay_later" and ack["gate"]["amount_fen"] == 600
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    notices = citizen("get", "/v1/me/account")[1]["notices"]  # written in the exit's transaction
    assert [n["kind"] for n in notices] == ["pay_later_bill"]
    assert "南长街停车场" in notices[0]["text"] and "lx-nanchang-st-01" not in notices[0]["text"]  # the lot's name, not its id
    assert stack.executions("pay-later-billing") == []  # no workflow runs during the grace period

    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "alipay"}))
    sandbox = stack.services.providers["sandbox"]
    sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))

    assert _grace_ends(clock)["started"] == 0
    assert stack.executions("pay-later-billing") == []  # paid in grace: no execution, ever
    bill = _bill(stack, bill_id)
    assert bill.balance_fen == 0 and not _off_session(stack, bill)


def test_after_the_grace_period_the_saved_method_is_charged(stack, device, clock, citizen):
    _leave(device, clock)
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    assert _grace_ends(clock, GRACE - 60)["started"] == 0  # not yet
    assert _grace_ends(clock, 60)["started"] == 1
    arn = _billing_execution(stack, bill_id)
    assert _finish(stack, arn)["status"] == "SUCCEEDED"
    assert _grace_ends(clock, 300)["started"] == 0 and len(stack.executions("pay-later-billing")) == 1
    bill = _bill(stack, bill_id)
    assert bill.balance_fen == 0 and [p.amount_fen for p in _off_session(stack, bill)] == [600]
    assert stack.services.ledger.balance(Account.receivable(PLATE)) == 0 and stack.services.ledger.check() == []


def test_a_sweep_that_died_after_starting_is_retried_without_a_second_execution(stack, device, clock, citizen, monkeypatch):
    _leave(device, clock)
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    pay_later = stack.services.pay_later
    real_commit = pay_later._money.commit
    sweep = threading.get_ident()  # the sweep runs on this thread; the execution it starts on its own

    def dies_in_the_sweep(change):  # only the sweep's mark dies: the execution's charge must not meet it
        if threading.get_ident() == sweep:
            raise RuntimeError("died")
        return real_commit(change)

    monkeypatch.setattr(pay_later._money, "commit", dies_in_the_sweep)
    assert "error" in _grace_ends(clock)  # StartExecution went out, the mark did not
    monkeypatch.setattr(pay_later._money, "commit", real_commit)
    # The next run starts the same name again (a no-op) and marks the bill; or finds nothing, when the execution
    # (running on its own thread) has already charged the bill, which then left the index.
    assert _grace_ends(clock, 300)["started"] in (0, 1)
    assert len(stack.executions("pay-later-billing")) == 1
    assert not _bill(stack, bill_id).awaiting_grace_end
    assert _finish(stack, _billing_execution(stack, bill_id))["status"] == "SUCCEEDED"
    assert _bill(stack, bill_id).balance_fen == 0 and len(_off_session(stack, _bill(stack, bill_id))) == 1


def _declined_and_waiting(stack, device, clock, citizen) -> tuple[str, str]:
    """A pay-later stay whose first charge is declined at the grace end: its bill and the execution waiting to retry."""
    stack.services.providers["sandbox"].configure(fail_next_off_session=1)
    _leave(device, clock)
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    _grace_ends(clock)
    arn = _billing_execution(stack, bill_id)
    _waiting_for_payment(stack, bill_id)
    return bill_id, arn


def test_a_declined_charge_is_retried_after_an_hour(stack, device, clock, citizen):
    bill_id, arn = _declined_and_waiting(stack, device, clock, citizen)
    assert _bill(stack, bill_id).due_fen == 600
    clock.advance(3600)
    assert _finish(stack, arn)["status"] == "SUCCEEDED"
    bill = _bill(stack, bill_id)
    states = sorted(p.state.value for p in map(stack.services.payments.payment, _all_payments(stack, bill)))
    assert bill.balance_fen == 0 and states == ["failed", "succeeded"]


def test_a_payment_during_a_retry_wait_ends_the_execution_at_once(stack, api, device, clock, citizen):
    bill_id, arn = _declined_and_waiting(stack, device, clock, citizen)
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "alipay"}))
    sandbox = stack.services.providers["sandbox"]
    sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))  # bill_settled wakes the wait with the kept token
    assert _finish(stack, arn)["status"] == "SUCCEEDED"
    bill = _bill(stack, bill_id)
    states = sorted(p.state.value for p in map(stack.services.payments.payment, _all_payments(stack, bill)))
    assert bill.balance_fen == 0 and not _off_session(stack, bill) and states == ["failed", "succeeded"]


def _all_payments(stack, bill):
    from shared.adapters.dynamo.models import PaymentItem

    return [i.pk for i in PaymentItem.scan() if i.pk.startswith("pay_") and i.doc and i.doc["bill_id"] == bill.bill_id]


def test_a_payment_during_an_in_flight_charge_ends_with_one_charge_and_one_refund(stack, api, device, clock, citizen):
    _leave(device, clock)
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "wechat_pay"}))
    sandbox = stack.services.providers["sandbox"]
    sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    # The citizen's payment is approved but its callback is still on the way when the grace period ends.
    _grace_ends(clock)
    assert _finish(stack, _billing_execution(stack, bill_id))["status"] == "SUCCEEDED"
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    bill = _bill(stack, bill_id)
    assert (bill.paid_fen, bill.refunded_fen, bill.balance_fen) == (1200, 600, 0)
    assert len(_off_session(stack, bill)) == 1
    assert stack.services.ledger.check() == []


def test_a_crash_after_the_charge_is_retried_without_a_second_charge(stack, device, clock, citizen):
    with crash_once_after("pay-later-billing", "charge") as crashed:
        _leave(device, clock)
        bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
        _grace_ends(clock)
        arn = _billing_execution(stack, bill_id)
        until(lambda: crashed and stack.clock.sleepers, "the Retry interval")
        clock.advance(30)
        assert _finish(stack, arn)["status"] == "SUCCEEDED"
    bill = _bill(stack, bill_id)
    assert bill.paid_fen == 600 and len(_off_session(stack, bill)) == 1
    sandbox = stack.services.providers["sandbox"]
    assert len([i for i in sandbox._intents.values() if i.request.off_session]) == 1


def test_paused_or_withdrawn_registration_pays_at_the_exit_and_keeps_open_bills(stack, device, clock, citizen):
    _leave(device, clock)  # a pay-later bill is open
    assert citizen("post", "/v1/me/pay-later/pause")[1]["status"] == "paused"
    ack = _leave(device, clock)
    assert ack["gate"]["decision"] == "pay" and ack["gate"]["reason"] == "pay"
    assert citizen("post", "/v1/me/pay-later/resume")[1]["status"] == "active"
    assert citizen("post", "/v1/me/pay-later/withdraw")[1]["status"] == "withdrawn"
    status, body = citizen("post", "/v1/me/pay-later/resume")
    assert (status, body["code"]) == (409, "account_withdrawn")
    assert citizen("post", "/v1/me/pay-later/sideways")[1]["code"] == "unknown_action"
    bills = citizen("get", "/v1/me/bills")[1]["bills"]
    assert sorted(b["due_fen"] for b in bills) == [600, 600]  # withdrawing forgives nothing
    assert [b["pay_later"] for b in sorted(bills, key=lambda b: b["created_at"])] == [True, False]
