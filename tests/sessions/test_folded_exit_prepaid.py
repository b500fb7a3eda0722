"""The folded exit of a car prepaid in the lot (issue 10, fourth part): the bill paid while parked is read
with the batch (a copy on the open-session pointer, refreshed by every write of the paid bill while the car
is parked) and stored over the copy's version in the exit's one transaction. A Lambda dying before that
transaction, or after it, followed by the device resending, is a clean redo or a duplicate with the same
answer; a copy gone stale meanwhile costs a retry, never a wrong decision. On the local stack (the memory
stores read nothing ahead) and, for the same behaviour, on memory."""

from __future__ import annotations

import json

from shared.adapters.dynamo.models import BillItem
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.sessions.test_folded_exit import LOT, _dies_once, _post
from tests.support import CallbackPoster, gate_event, price_lot

PLATE = "苏B54321"


def _prepay(platform, api, device, clock, priced: bool = False) -> dict:
    """Entry, 2 h parked, the pay page with the plate, a payment and its callback: the bill is paid."""
    if not priced:
        price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    assert device("lx-in1").post(gate_event("entry", PLATE, clock.now()))[0] == 200
    clock.advance(2 * 3600)
    bill = json.loads(api.get(f"/v1/pay/{LOT}?plate={PLATE}").body)["bill"]
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill["bill_id"], "channel": "alipay"}))
    payment = json.loads(resp.body)
    sandbox = platform.services.providers["sandbox"]
    sandbox.approve(platform.services.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    paid = platform.services.billing.get(bill["bill_id"])
    assert paid.paid_fen == paid.amount_fen == 500 and paid.exited_at is None
    clock.advance(5 * 60)  # to the exit, within the prepaid grace period
    return bill


def _assert_one_paid_exit(platform, bill_id: str, ack: dict) -> None:
    svc = platform.services
    gate = {k: v for k, v in ack["gate"].items() if v is not None}
    assert gate == {"decision": "open", "amount_fen": 0, "reason": "paid"}
    assert svc.sessions.get(ack["session_id"]).status.value == "closed" and svc.sessions.parked(LOT, PLATE) is None
    bill = svc.billing.get(bill_id)
    assert bill.exited_at is not None and bill.lane == "out-1" and bill.amount_fen == bill.paid_fen == 500
    charges = [p for p in svc.ledger.scan_postings() if p.posting_id.startswith(f"charge:{bill_id}:")]
    assert sum(c.amount_fen for c in charges) == 500 and svc.ledger.check() == []
    if hasattr(platform, "pump_streams"):  # on DynamoDB the acks stream counts the lot's open sessions (issue 10)
        platform.pump_streams()
    assert svc.stores.status.get(LOT).open_count == 0


def _crash_before_then_after(platform, api, device, clock, monkeypatch) -> None:
    bill = _prepay(platform, api, device, clock)
    died = _dies_once(monkeypatch, platform.services.stores.sessions, "write", after=False)
    exit_event = gate_event("exit", PLATE, clock.now())
    assert _post(device("lx-out1"), exit_event) is None and died
    assert platform.services.sessions.parked(LOT, PLATE) is not None
    assert platform.services.billing.get(bill["bill_id"]).exited_at is None  # nothing stored
    monkeypatch.undo()
    died = _dies_once(monkeypatch, platform.services.stores.sessions, "write", after=True)  # stored, then died
    assert _post(device("lx-out1"), exit_event) is None and died
    _assert_one_paid_exit(platform, bill["bill_id"], platform.services.stores.acks.get(LOT, exit_event["event_id"]).model_dump(mode="json"))
    first = platform.services.stores.acks.get(LOT, exit_event["event_id"])
    status, body = device("lx-out1").post(exit_event)
    ack = body["acks"][0]
    assert status == 200 and ack["status"] == "duplicate" and ack["session_id"] == first.session_id
    assert ack["gate"] == json.loads(first.gate.model_dump_json(exclude_none=True))
    _assert_one_paid_exit(platform, bill["bill_id"], ack)


def test_a_prepaid_exit_dying_before_or_after_its_transaction_on_memory(memory, api, city, device, clock, monkeypatch):
    _crash_before_then_after(memory, api, device, clock, monkeypatch)


def test_a_prepaid_exit_dying_before_or_after_its_transaction_on_dynamodb(stack, api, city, device, clock, monkeypatch):
    _crash_before_then_after(stack, api, device, clock, monkeypatch)


def test_a_prepaid_exit_reads_its_bill_with_the_batch_and_a_stale_copy_costs_a_retry(stack, api, city, device, clock, monkeypatch):
    bill = _prepay(stack, api, device, clock)
    reads = []
    real_get = BillItem.get.__func__

    def counted(cls, *args, **kwargs):
        reads.append(args[0] if args else kwargs.get("hash_key"))
        return real_get(cls, *args, **kwargs)

    monkeypatch.setattr(BillItem, "get", classmethod(counted))
    exit_event = gate_event("exit", PLATE, clock.now())
    status, body = device("lx-out1").post(exit_event)
    assert status == 200 and reads == []  # the bill came with the batch: BatchGetItem, TransactWriteItems
    _assert_one_paid_exit(stack, bill["bill_id"], body["acks"][0])
    # The next stay: paid in the lot, then the bill moves after the exit's batch (the copy is stale then)
    clock.advance(3600)
    second = _prepay(stack, api, device, clock, priced=True)
    real_open_for = type(stack.services.stores.sessions).open_for
    moved = []

    def open_then_move(store, lot_id, subject):
        found = real_open_for(store, lot_id, subject)
        if not moved:  # a concurrent write of the bill lands between the batch and the transaction
            current = stack.services.billing.get(second["bill_id"])
            from shared.payments.ports import Change

            assert stack.services.stores.money.commit(Change(bills=[current.bumped(disputed=True)]))
            moved.append(True)
        return found

    monkeypatch.setattr(type(stack.services.stores.sessions), "open_for", open_then_move)
    reads.clear()
    status, body = device("lx-out1").post(gate_event("exit", PLATE, clock.now()))
    assert status == 200 and moved and reads == [second["bill_id"]]  # the retry read the bill itself
    ack = body["acks"][0]
    assert ack["gate"] == {"decision": "open", "amount_fen": 0, "reason": "paid"}
    after = stack.services.billing.get(second["bill_id"])
    assert after.disputed and after.exited_at is not None and stack.services.ledger.check() == []

