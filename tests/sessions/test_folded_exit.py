"""The exit folded into one transaction (issue 10): the session, its ack (which carries the request's nonce),
the bill and its charge posting are stored together (the device's last-seen is recorded off it, from the
acks stream: ``tests/governance/test_last_seen_lag.py``). A Lambda dying at any point and the device
resending (a new nonce, the same event) is a clean redo or a no-op returning the same answer; a replayed
request is refused. On the memory stores and, for the DynamoDB transaction itself, on the local stack."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.tariffs.samples import ZHUMADIAN_CLASS1
from shared.workflows import PAY_LATER_BILLING
from tests.support import gate_event, pay_later_citizen

LOT, PLATE = "lx-nanchang-st-01", "苏B12345"


class Died(RuntimeError):
    """The Lambda was killed here."""


def _dies_once(monkeypatch, obj, name: str, *, after: bool, when=lambda *a, **k: True):
    """``obj.name`` dies once (before or after doing its work) on a call ``when`` accepts."""
    real, died = getattr(obj, name), []

    def wrapped(*args, **kwargs):
        if not died and when(*args, **kwargs) and not after:
            died.append(name)
            raise Died(name)
        result = real(*args, **kwargs)
        if not died and when(*args, **kwargs) and after:
            died.append(name)
            raise Died(name)
        return result

    monkeypatch.setattr(obj, name, wrapped)
    return died


def _post(poster, event, nonce=None):
    """A delivery; a Lambda that died answers nothing (the device sees a 5xx or no answer)."""
    try:
        status, body = poster.post(event, nonce=nonce)
    except Died:
        return None
    return None if status >= 500 else (status, body)


@pytest.fixture
def citizen(platform, api, city, clock):
    return pay_later_citizen(platform.services, api, clock, PLATE, LOT, ZHUMADIAN_CLASS1)


def _enter_and_wait(device, clock) -> None:
    status, _ = device("lx-in1").post(gate_event("entry", PLATE, clock.now()))
    assert status == 200
    clock.advance(2.5 * 3600)


def _bill_and_charges(services):
    [bill] = services.billing.of_plate(PLATE)
    bill = services.billing.get(bill.bill_id)
    charges = [p for p in services.ledger.scan_postings() if p.posting_id.startswith(f"charge:{bill.bill_id}:")]
    return bill, charges


def _runs(platform) -> int:
    workflows = platform.stores.workflows
    return len(workflows.runs(PAY_LATER_BILLING)) if hasattr(workflows, "runs") else None


def _notices(platform) -> list:
    account = platform.services.citizens.owner(PLATE)
    return [n.kind for n in platform.services.stores.accounts.notices(account.account_id, 10)]


def _assert_one_exit(platform, ack: dict) -> None:
    svc = platform.services
    assert ack["gate"]["decision"] == "open" and ack["gate"]["reason"] == "pay_later"
    session = svc.sessions.get(ack["session_id"])
    assert session.status.value == "closed" and svc.sessions.parked(LOT, PLATE) is None
    bill, charges = _bill_and_charges(svc)
    assert bill.pay_later and bill.amount_fen == ack["gate"]["amount_fen"] == sum(c.amount_fen for c in charges)
    assert bill.awaiting_grace_end and _notices(platform) == ["pay_later_bill"]  # both in the exit's transaction
    assert len(charges) == 1 and svc.ledger.check() == []
    if hasattr(platform, "pump_streams"):  # on DynamoDB the acks stream counts the lot's open sessions (issue 10)
        platform.pump_streams()
    assert platform.services.stores.status.get(LOT).open_count == 0


def test_a_crash_before_the_exit_transaction_then_a_resend_is_a_clean_redo(memory, citizen, device, clock, monkeypatch):
    _enter_and_wait(device, clock)
    died = _dies_once(monkeypatch, memory.stores.sessions, "write", after=False)
    exit_event = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), exit_event) is None and died
    assert memory.services.billing.of_plate(PLATE) == [] and memory.services.sessions.parked(LOT, PLATE) is not None
    status, body = device("lx-out1").post(exit_event)  # the device resends: a new nonce, the same event
    assert status == 200 and body["acks"][0]["status"] == "accepted"
    _assert_one_exit(memory, body["acks"][0])
    assert _runs(memory) == 0  # the billing workflow starts only if the grace period ends unpaid


def test_a_crash_after_the_exit_transaction_then_a_resend_returns_the_same_answer(memory, citizen, device, clock, monkeypatch):
    _enter_and_wait(device, clock)
    died = _dies_once(monkeypatch, memory.services.gate, "after_close", after=False)  # stored, nothing after it
    exit_event = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), exit_event) is None and died
    assert _runs(memory) == 0
    _assert_one_exit(memory, memory.services.stores.acks.get(LOT, exit_event["event_id"]).model_dump(mode="json"))
    status, body = device("lx-out1").post(exit_event)
    first = memory.services.stores.acks.get(LOT, exit_event["event_id"])
    ack = body["acks"][0]
    assert status == 200 and ack["status"] == "duplicate"
    assert ack["gate"] == json.loads(first.gate.model_dump_json(exclude_none=True)) and ack["session_id"] == first.session_id
    _assert_one_exit(memory, ack)
    device("lx-out1").post(exit_event)  # and again: nothing changes
    _assert_one_exit(memory, ack)
    assert _runs(memory) == 0


def test_a_replayed_request_is_refused_but_a_request_that_died_unstored_may_be_delivered_again(memory, citizen, device, clock, monkeypatch):
    _enter_and_wait(device, clock)
    died = _dies_once(monkeypatch, memory.stores.sessions, "write", after=False)
    exit_event = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), exit_event, nonce="nonce-exit-0001") is None and died
    status, body = device("lx-out1").post(exit_event, nonce="nonce-exit-0001")  # nothing was stored: not a replay
    assert status == 200 and body["acks"][0]["status"] == "accepted"
    status, body = device("lx-out1").post(exit_event, nonce="nonce-exit-0001")  # stored with the exit: a replay
    assert (status, body["code"]) == (401, "nonce_replayed")
    _assert_one_exit(memory, memory.services.stores.acks.get(LOT, exit_event["event_id"]).model_dump(mode="json"))


def test_two_copies_of_one_request_at_once_one_is_answered_the_other_refused(memory, citizen, device, clock, monkeypatch):
    """The copy that loses the ack's condition reads the ack, finds its own nonce there: a replay."""
    _enter_and_wait(device, clock)
    exit_event, ts = gate_event("exit", PLATE, clock.now()), int(clock.now().timestamp())
    store, answers, raced = memory.stores.sessions, [], []
    real = store.write

    def racing(lot_id, plan, ack, riders=None):
        if not raced:  # the other copy is stored while this one is between its reads and its write
            raced.append(True)
            answers.append(device("lx-out1").post(exit_event, nonce="nonce-exit-0003", ts=ts))
        return real(lot_id, plan, ack, riders)

    monkeypatch.setattr(store, "write", racing)
    status, body = device("lx-out1").post(exit_event, nonce="nonce-exit-0003", ts=ts)
    assert (status, body["code"]) == (401, "nonce_replayed")
    [(status, body)] = answers
    assert status == 200 and body["acks"][0]["status"] == "accepted"
    _assert_one_exit(memory, body["acks"][0])


def test_a_resend_claims_its_own_nonce_and_a_rejected_events_request_claims_its(memory, citizen, device, clock):
    _enter_and_wait(device, clock)
    exit_event = gate_event("exit", PLATE, clock.now())
    assert device("lx-out1").post(exit_event, nonce="nonce-exit-0004")[0] == 200
    assert memory.stores.nonces.claim("lx-out1", "nonce-exit-0004", clock.now())  # kept on the ack, not here
    resend = device("lx-out1").post(exit_event, nonce="nonce-exit-0005")
    assert resend[0] == 200 and resend[1]["acks"][0]["status"] == "duplicate"
    status, body = device("lx-out1").post(exit_event, nonce="nonce-exit-0005")  # the resend, replayed
    assert (status, body["code"]) == (401, "nonce_replayed")
    bad = gate_event("exit", PLATE, clock.now() + timedelta(minutes=10))  # rejected: nothing stored
    status, body = device("lx-out1").post(bad, nonce="nonce-exit-0006")
    assert (status, body["code"]) == (400, "occurred_in_future")
    status, body = device("lx-out1").post(bad, nonce="nonce-exit-0006")  # its nonce was claimed in the nonces
    assert (status, body["code"]) == (401, "nonce_replayed")
    _assert_one_exit(memory, memory.services.stores.acks.get(LOT, exit_event["event_id"]).model_dump(mode="json"))


def test_the_folded_exit_on_dynamodb_crash_before_and_after_the_transaction(stack, citizen, device, clock, monkeypatch):
    """The same on the local stack: one TransactWriteItems carries the session, the ack with the nonce, the
    bill and the posting; the stack's fake workflows are real Step Functions here."""
    from shared.adapters.dynamo.models import NonceItem

    svc = stack.services
    _enter_and_wait(device, clock)
    assert list(NonceItem.scan()) == []  # the entry's nonce is on its ack: no nonce item
    died = _dies_once(monkeypatch, svc.stores.sessions, "write", after=True)  # stored, then the Lambda died
    exit_event = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), exit_event, nonce="nonce-exit-0002") is None and died
    status, body = device("lx-out1").post(exit_event, nonce="nonce-exit-0002")  # the nonce was stored with it
    assert (status, body["code"]) == (401, "nonce_replayed")
    assert svc.stores.acks.get_record(LOT, exit_event["event_id"]).nonce == "nonce-exit-0002"
    status, body = device("lx-out1").post(exit_event)
    assert status == 200 and body["acks"][0]["status"] == "duplicate"
    assert len(list(NonceItem.scan())) == 1  # the resend's own nonce, claimed on its own
    _assert_one_exit(stack, body["acks"][0])
    # and the plate's next stay, its exit dying before the transaction, is redone cleanly
    _enter_and_wait(device, clock)
    died = _dies_once(monkeypatch, svc.gate, "decide_with_bill", after=True)
    second = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), second) is None and died
    status, body = device("lx-out1").post(second)
    assert status == 200 and body["acks"][0]["status"] == "accepted"
    bills = svc.billing.of_plate(PLATE)
    assert len(bills) == 2 and svc.ledger.check() == [] and all(b.awaiting_grace_end for b in bills)
    assert _notices(stack) == ["pay_later_bill", "pay_later_bill"] and stack.executions("pay-later-billing") == []
