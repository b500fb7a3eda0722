"""The Ledger contract (shared.ledger.ports), on both adapters: a posting stored once, balances derived
from the lines (issue 10: no balance is stored), lines in time order, and a check that proves it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import Conflict
from shared.ledger.model import Account, Entry, Posting, PostingKind
from shared.payments.ports import Change
from tests.contracts.records import T0, bill, charge


def test_the_ledger_stores_a_posting_once_and_refuses_a_reused_id(stores, uid):
    ledger, plate = stores.ledger, f"苏C{uid[:5]}"
    assert ledger.post(charge(f"c-{uid}", plate=plate))
    assert not ledger.post(charge(f"c-{uid}", plate=plate))
    with pytest.raises(Conflict) as err:
        ledger.post(charge(f"c-{uid}", amount=700, plate=plate))
    assert err.value.code == "posting_id_reused"
    assert ledger.balance(f"receivable:{plate}") == 600 and ledger.balance("receivable:nobody") == 0


def test_the_ledger_lists_an_account_in_time_order_and_checks_sound(stores, uid):
    ledger, plate = stores.ledger, f"苏D{uid[:5]}"
    ledger.post(charge(f"c2-{uid}", 200, plate, T0 + timedelta(hours=1)))
    ledger.post(charge(f"c1-{uid}", 100, plate, T0))
    lines = ledger.lines(f"receivable:{plate}")
    assert [(line.posting_id, line.amount_fen) for line in lines] == [(f"c1-{uid}", 100), (f"c2-{uid}", 200)]
    assert [line.posting_id for line in ledger.lines(f"receivable:{plate}", since=T0 + timedelta(minutes=1))] == [f"c2-{uid}"]
    assert ledger.balance(f"receivable:{plate}") == 300
    assert ledger.check() == []


def test_a_balance_is_the_sum_of_its_lines_however_the_postings_were_stored(stores, uid):
    """Posted alone, staged in a money change, or of more than two entries: each posting counts once."""
    ledger, plate, op = stores.ledger, f"苏E{uid[:5]}", f"op-l{uid}"
    receivable, revenue, clearing = Account.receivable(plate), Account.operator_revenue(op), Account.provider_clearing(f"p{uid}")
    assert ledger.post(Posting.charge(f"c-{uid}", plate, op, 1200, T0))
    assert stores.money.commit(Change(bills=[bill(f"b-{uid}", plate=plate)],
                                      postings=[Posting.payment(f"p-{uid}", plate, f"p{uid}", 1000, T0 + timedelta(minutes=1))]))  # fmt: skip
    split = Posting(posting_id=f"s-{uid}", kind=PostingKind.ADJUSTMENT, occurred_at=T0 + timedelta(minutes=2), entries=(
        Entry(account=receivable, amount_fen=-300), Entry(account=revenue, amount_fen=200),
        Entry(account=clearing, amount_fen=100)))  # fmt: skip
    assert ledger.post(split) and not ledger.post(split)
    assert not stores.money.commit(Change(postings=[split]))  # stored already: the whole change is refused
    for account, want in ((receivable, 1200 - 1000 - 300), (revenue, -1200 + 200), (clearing, 1000 + 100)):
        assert ledger.balance(account) == want == sum(line.amount_fen for line in ledger.lines(account))
    assert ledger.check() == []
