"""Issue 10's store operations, on both adapters: the ``ReadAhead`` of a device request, the session write's
ack with the request's nonce and its riders (the exit's money), the pointer that carries its session, the
plate's record of its open arrears and of its owner's pay-later state."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from shared.arrears.model import ArrearsCase, CaseState
from shared.citizens.model import CONSENT_VERSION, Account, Notice, SavedMethod
from shared.citizens.ports import PlateOwner
from shared.ingest.ports import Lookahead
from shared.payments.ports import Change
from shared.sessions.model import SessionStatus
from shared.sessions.planner import Plan, PointerWrite
from shared.sessions.ports import Riders
from tests.contracts.records import T0, bill, charge
from tests.contracts.test_sessions_and_events import _ack, _entry, _session


def _exit(s) -> Plan:
    closed = s.model_copy(update={"status": SessionStatus.CLOSED, "exited_at": T0 + timedelta(hours=1), "version": s.version + 1})
    return Plan(s.session_id, updates=[closed], open_delta=-1, pointers=[PointerWrite(s.subject, None, s.session_id)])


def _wanted(lot, s, *event_ids) -> Lookahead:
    return Lookahead(device_id="cam", lot_ids=(lot,), acks=tuple((lot, e) for e in event_ids),
                     subjects=((lot, s.subject),), lot_counts=(lot,), plates=(s.plate,))  # fmt: skip


def test_a_read_ahead_answers_as_the_stores_do_and_each_record_once(stores, uid):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    stores.read_ahead.read_ahead(_wanted(lot, s, "e1", "x1"))
    try:
        assert stores.sessions.open_for(lot, s.subject) == s  # from the pointer's copy of its session
        assert stores.acks.get(lot, "e1").event_id == "e1" and stores.acks.get(lot, "x1") is None
        assert stores.sessions.unmatched_in_lot(lot) == ()
        assert stores.accounts.plate_owner(s.plate) is None and stores.arrears.open_of_plate(s.plate) == []
        assert stores.sessions.open_for(lot, s.subject) == s  # the second read: from the table
    finally:
        stores.read_ahead.forget()


def test_a_decision_on_a_stale_read_ahead_fails_its_write_and_the_next_read_is_fresh(stores, uid, counted):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    stores.read_ahead.read_ahead(_wanted(lot, s, "x1"))
    try:
        assert stores.sessions.write(lot, _exit(s), _ack(lot, "x0")).written  # someone else's exit, meanwhile
        seen = stores.sessions.open_for(lot, s.subject)  # as of the read ahead (DynamoDB) or now (memory)
        if seen is not None:
            lost = stores.sessions.write(lot, _exit(seen), _ack(lot, "x1"))
            assert (lost.written, lost.ack_exists) == (False, False) and stores.acks.get(lot, "x1") is None
        assert stores.sessions.open_for(lot, s.subject) is None  # the retry's read: fresh
        counted()
        assert stores.status.get(lot).open_count == 0
    finally:
        stores.read_ahead.forget()


def test_the_ack_keeps_the_requests_nonce_and_the_riders_are_stored_with_the_plan_or_nothing_is(stores, uid):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    entry_ack = dataclasses.replace(_ack(lot, "e1"), nonce="nonce-0001", lot_device=True)
    assert stores.sessions.write(lot, _entry(s), entry_ack).written
    assert stores.acks.get_record(lot, "e1") == entry_ack  # the nonce and the lot device as given, no nonce item
    assert stores.nonces.claim("cam", "nonce-0001", T0 + timedelta(minutes=10))
    assert stores.acks.get_record(lot, "x1") is None and stores.status.get(lot).device_last_seen_ms in ({}, None)
    # The exit's money: a bill that exists already fails the write (a lost race), nothing stored
    b = bill(f"b-{uid}")
    assert stores.money.commit(Change(bills=[b]))
    lost = stores.sessions.write(lot, _exit(s), _ack(lot, "x2"), Riders(money=Change(bills=[b])))
    assert (lost.written, lost.ack_exists) == (False, False)
    assert stores.acks.get(lot, "x2") is None and stores.sessions.open_for(lot, s.subject) == s
    # ... and a new bill with its posting is stored with the exit
    b2 = bill(f"b2-{uid}")
    riders = Riders(money=Change(bills=[b2], postings=[charge(f"c-{uid}")]))
    assert stores.sessions.write(lot, _exit(s), _ack(lot, "x3"), riders).written
    assert stores.money.bill(b2.bill_id) == b2 and stores.ledger.get(f"c-{uid}") is not None
    assert stores.sessions.open_for(lot, s.subject) is None and stores.ledger.check() == []
    assert stores.acks.get_record(lot, "x3").nonce is None  # an ack stored without one


def test_a_plate_keeps_the_ids_of_its_open_arrears_cases(stores, uid):
    plate = f"苏G{uid[:5]}"
    case = ArrearsCase(case_id=f"case-{uid}", bill_id=f"b-{uid}", session_id="s", plate=plate, lot_id="lot",
                       operator_id="op", district_code="320213", amount_fen=600, opened_at=T0)  # fmt: skip
    assert stores.arrears.open_of_plate(plate) == []
    assert stores.arrears.save(case)
    assert [c.case_id for c in stores.arrears.open_of_plate(plate)] == [case.case_id]
    assert not stores.arrears.save(case.bumped(state=CaseState.CLOSED).bumped())  # a lost race changes nothing
    assert [c.case_id for c in stores.arrears.open_of_plate(plate)] == [case.case_id]
    assert stores.arrears.save(case.bumped(state=CaseState.CLOSED, closed_at=T0))
    assert stores.arrears.open_of_plate(plate) == [] and len(stores.arrears.of_plate(plate)) == 1
    assert case.case_id in {c.case_id for c in stores.arrears.all()}


def test_a_plate_carries_its_owners_pay_later_state(stores, uid):
    accounts, plate, account_id = stores.accounts, f"苏H{uid[:5]}", f"acc-{uid}"
    method = SavedMethod(provider="sandbox", setup_ref=f"seti-{uid}", customer_ref="cus", payment_method_ref="pm", ready=True)
    account = Account(account_id=account_id, created_at=T0, consent_version=CONSENT_VERSION, consented_at=T0, method=method)
    assert accounts.save(account) and accounts.claim_plate(plate, account_id)
    assert accounts.plate_owner(plate) == PlateOwner(account_id, True, True)  # claimed, not yet saved with it
    with_plate = account.bumped(plates=[plate])
    assert accounts.save(with_plate)
    assert accounts.plate_owner(plate) == PlateOwner(account_id, True, True)
    suspended = with_plate.bumped(suspended_by_arrears=["case-1"])
    assert not accounts.save(suspended.bumped())  # not over the stored version: nothing changes
    assert accounts.plate_owner(plate) == PlateOwner(account_id, True, True)
    assert accounts.save(suspended) and accounts.plate_owner(plate) == PlateOwner(account_id, True, False)
    assert not accounts.claim_plate(plate, f"other-{uid}")  # the copy does not free the plate
    assert accounts.plate_owner(f"苏J{uid[:5]}") is None  # another plate (not one uid[:5] can spell)


def test_notices_are_records_of_their_own_and_the_account_item_does_not_grow(stores, uid):
    accounts, account_id = stores.accounts, f"acc-n-{uid}"
    account = Account(account_id=account_id, created_at=T0)
    assert accounts.save(account)
    notices = [Notice(notice_id=f"b{i}:bill", at=T0 + timedelta(minutes=i), kind="pay_later_bill", text="停车费 6.00 元",
                      refs={"bill_id": f"b{i}"}) for i in range(30)]  # fmt: skip
    for notice in notices:
        assert accounts.add_notice(account_id, notice)
    assert not accounts.add_notice(account_id, notices[3])  # a retried task posts nothing new
    assert accounts.notices(account_id, 5) == notices[-5:]  # the newest, oldest first
    assert accounts.get(account_id) == account  # the account item is as it was: its size bounded
    assert accounts.notices(f"other-{uid}", 5) == []


def _prepaid(stores, lot, s, uid):
    """A bill created while the car is parked (marks the pointer), then paid (a second write of it)."""
    from shared.bills.model import bill_id_for

    b = bill(bill_id_for(s.session_id), lot_id=lot, plate=s.plate).model_copy(
        update={"session_id": s.session_id, "entered_at": T0, "priced_until": T0 + timedelta(hours=1)})
    assert stores.money.commit(Change(bills=[b], postings=[charge(f"c-{uid}")], open_session=(lot, s.subject, s.session_id)))
    paid = b.bumped(paid_fen=600, last_paid_at=T0 + timedelta(hours=1))
    assert stores.money.commit(Change(bills=[paid]))
    return paid


def test_a_prepaid_bill_is_read_with_the_pointer_and_a_stale_copy_fails_the_exit(stores, uid, monkeypatch):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    paid = _prepaid(stores, lot, s, uid)
    stores.read_ahead.read_ahead(_wanted(lot, s, "x1"))
    try:
        if type(stores.money).__module__.startswith("shared.adapters.dynamo"):
            from shared.adapters.dynamo.models import BillItem

            def no_read(*a, **k):
                raise AssertionError("the prepaid bill was read after the batch")

            monkeypatch.setattr(BillItem, "get", no_read)
        assert stores.sessions.open_for(lot, s.subject) == s
        assert stores.money.bill(paid.bill_id) == paid  # the pointer's copy: no dependent read
        monkeypatch.undo()
        # the bill moves on after the batch (a refund, say): the exit decided on the copy fails whole
        moved = paid.bumped(refunded_fen=100)
        assert stores.money.commit(Change(bills=[moved]))
        closed = _exit(s).updates[0]
        left = paid.bumped(exited_at=closed.exited_at)
        lost = stores.sessions.write(lot, _exit(s), _ack(lot, "x1"), Riders(money=Change(bills=[left])))
        assert (lost.written, lost.ack_exists) == (False, False) and stores.acks.get(lot, "x1") is None
        assert stores.money.bill(paid.bill_id) == moved  # the retry's read: fresh
        done = moved.bumped(exited_at=closed.exited_at)
        assert stores.sessions.write(lot, _exit(s), _ack(lot, "x1"), Riders(money=Change(bills=[done]))).written
        assert stores.money.bill(paid.bill_id) == done and stores.sessions.open_for(lot, s.subject) is None
    finally:
        stores.read_ahead.forget()


def test_a_bill_of_a_car_that_left_is_stored_without_a_copy(stores, uid):
    """A bill whose car is parked keeps a copy on the plate's pointer only while that pointer names its
    session: once the pointer is gone (the car left without its bill moving) the bill is stored alone."""
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    paid = _prepaid(stores, lot, s, uid)
    assert stores.sessions.write(lot, _exit(s), _ack(lot, "x1")).written  # e.g. staff closed the session
    again = paid.bumped(refunded_fen=100)
    assert stores.money.commit(Change(bills=[again])) and stores.money.bill(paid.bill_id) == again
    assert stores.sessions.open_for(lot, s.subject) is None
