"""The MoneyStore contract (shared.payments.ports), on both adapters; the Ledger's is ``test_ledger.py``."""

from __future__ import annotations

from datetime import timedelta

from shared.bills.paging import BillCursor
from shared.payments.model import PaymentState
from shared.payments.ports import Change
from tests.contracts.records import T0, bill, charge, payment


def test_a_change_creates_records_at_version_1_only_once(stores, uid):
    money = stores.money
    b = bill(f"b-{uid}")
    assert money.commit(Change(bills=[b], postings=[charge(f"c-{uid}")]))
    assert not money.commit(Change(bills=[b]))  # version 1 exists: a retried creation writes nothing
    assert money.bill(b.bill_id) == b


def test_a_change_replaces_only_the_version_it_was_based_on(stores, uid):
    money = stores.money
    b = bill(f"b-{uid}")
    assert money.commit(Change(bills=[b]))
    v2 = b.bumped(paid_fen=600)
    assert money.commit(Change(bills=[v2]))
    assert not money.commit(Change(bills=[b.bumped(paid_fen=100)]))  # also based on version 1: lost the race
    assert money.bill(b.bill_id).paid_fen == 600 and money.bill(b.bill_id).version == 2


def test_a_change_is_all_or_nothing(stores, uid):
    money, ledger = stores.money, stores.ledger
    owed = ledger.balance("receivable:苏B12345")
    first = bill(f"b1-{uid}")
    assert money.commit(Change(bills=[first]))
    p = payment(f"pay_{uid}", f"b2-{uid}")
    stale = first.bumped(paid_fen=1)
    assert money.commit(Change(bills=[stale]))
    # a new bill, a new payment and a posting, with one stale bill: none of it is stored
    change = Change(bills=[bill(f"b2-{uid}"), stale.model_copy(update={"paid_fen": 2})], payments=[p],
                    postings=[charge(f"c-{uid}")])  # fmt: skip
    assert not money.commit(change)
    assert money.bill(f"b2-{uid}") is None and money.payment(p.payment_id) is None
    assert ledger.get(f"c-{uid}") is None and ledger.balance("receivable:苏B12345") == owed


def test_a_posting_already_stored_fails_the_whole_change(stores, uid):
    money = stores.money
    assert stores.ledger.post(charge(f"c-{uid}"))
    assert not money.commit(Change(bills=[bill(f"b-{uid}")], postings=[charge(f"c-{uid}")]))
    assert money.bill(f"b-{uid}") is None


def test_payments_are_created_once_and_found_by_reference_and_day(stores, uid):
    money = stores.money
    p = payment(f"pay_{uid}", f"b-{uid}", provider=f"prov{uid}")
    assert money.create_payment(p) and not money.create_payment(p)
    paid = p.bumped(state=PaymentState.SUCCEEDED, provider_ref=f"ref-{uid}")
    assert money.commit(Change(payments=[paid]))
    assert money.payment_by_ref(f"ref-{uid}") == paid
    assert [x.payment_id for x in money.payments_on(f"prov{uid}", "2026-11-23")] == [p.payment_id]
    assert list(money.payments_on(f"prov{uid}", "2026-11-24")) == []


def test_bills_are_found_by_lane_and_plate_newest_first(stores, uid):
    money, plate, lot = stores.money, f"苏A{uid[:5]}", f"lot-{uid}"
    older = bill(f"b1-{uid}", plate=plate, lot_id=lot, lane="out-1", exited_at=T0, created_at=T0)
    newer = bill(f"b2-{uid}", plate=plate, lot_id=lot, lane="out-1", exited_at=T0 + timedelta(minutes=5),
                 created_at=T0 + timedelta(minutes=5))  # fmt: skip
    assert money.commit(Change(bills=[older, newer]))
    assert money.bill_at_lane(lot, "out-1", T0 - timedelta(minutes=1)).bill_id == newer.bill_id
    assert money.bill_at_lane(lot, "out-1", T0 + timedelta(minutes=6)) is None
    keys = money.bill_keys_of_plate(plate)
    assert keys == [BillCursor(newer.created_at, newer.bill_id), BillCursor(older.created_at, older.bill_id)]
    assert [b.bill_id for b in money.bills_by_id([k.bill_id for k in keys] + [f"gone-{uid}"])] == [newer.bill_id, older.bill_id]


def test_a_plates_bill_keys_page_newest_first_ties_by_bill_id(stores, uid):
    money, plate = stores.money, f"苏B{uid[:5]}"
    made = [bill(f"b{n}-{uid}", plate=plate, created_at=T0 + timedelta(minutes=n // 2)) for n in range(5)]  # pairs share an instant
    assert money.commit(Change(bills=made))
    newest_first = sorted((BillCursor(b.created_at, b.bill_id) for b in made), reverse=True)
    assert money.bill_keys_of_plate(plate, limit=2) == newest_first[:2]
    assert money.bill_keys_of_plate(plate, limit=2, after=newest_first[1]) == newest_first[2:4]
    assert money.bill_keys_of_plate(plate, limit=9, after=newest_first[3]) == newest_first[4:]
    assert money.bill_keys_of_plate(plate, after=newest_first[4]) == []


def test_receipts_and_findings_are_recorded_once(stores, uid):
    money = stores.money
    assert money.record_receipt("sandbox", f"evt-{uid}", {"a": 1}, T0)
    assert not money.record_receipt("sandbox", f"evt-{uid}", {"a": 1}, T0)
    assert money.record_finding(f"k-{uid}", {"kind": "x", "uid": uid})
    assert not money.record_finding(f"k-{uid}", {"kind": "x", "uid": uid})
    assert sum(f.get("uid") == uid for f in money.findings()) == 1


def test_bills_awaiting_their_grace_end_are_found_until_paid_or_started(stores, uid):
    """Pay-later (issue 10): the sparse grace-end index holds a bill while it is unpaid and not started."""
    money, grace = stores.money, T0 + timedelta(hours=24)
    first = bill(f"b1-{uid}", pay_later=True, exited_at=T0, grace_ends=grace)
    later = bill(f"b2-{uid}", pay_later=True, exited_at=T0, grace_ends=grace + timedelta(hours=1))
    paid = bill(f"b3-{uid}", pay_later=True, exited_at=T0, grace_ends=grace - timedelta(hours=1), paid_fen=600)
    plain = bill(f"b4-{uid}", exited_at=T0)
    assert money.commit(Change(bills=[first, later, paid, plain]))

    def due(until):
        return [b for b in money.bills_at_grace_end(until) if b.endswith(uid)]

    assert due(grace - timedelta(seconds=1)) == []
    assert due(grace) == [first.bill_id]
    assert due(grace + timedelta(hours=2)) == [first.bill_id, later.bill_id]  # the earliest grace end first
    assert money.commit(Change(bills=[first.bumped(grace_ends=None)]))  # its billing started
    assert money.commit(Change(bills=[later.bumped(paid_fen=600)]))  # paid in grace
    assert due(grace + timedelta(hours=2)) == []
