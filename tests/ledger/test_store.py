"""The ledger in DynamoDB (moto): exactly once, all or nothing, and a check that finds tampering."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo import ledger as store_module
from shared.adapters.dynamo.ledger import LedgerItem, LedgerStore, account_key, posting_key
from shared.adapters.dynamo.models import LotStatusItem, transaction_connection
from shared.errors import Conflict
from shared.ledger.model import Account, Posting, PostingKind

CST = timezone(timedelta(hours=8))
AT = datetime(2025, 3, 1, 8, 30, tzinfo=CST)
PLATE, OP, PROVIDER = "苏B12345", "wx-city-parking", "wechat_pay"
RECEIVABLE, REVENUE, CLEARING = (
    Account.receivable(PLATE),
    Account.operator_revenue(OP),
    Account.provider_clearing(PROVIDER),
)


@pytest.fixture
def ledger(stack) -> LedgerStore:
    return LedgerStore()


def _items() -> list[LedgerItem]:
    return list(LedgerItem.scan(consistent_read=True))


def test_a_posting_is_stored_once_and_moves_the_derived_balances(ledger):
    charge = Posting.charge("charge:b1", PLATE, OP, 1200, AT, {"bill_id": "b1"})
    assert ledger.post(charge) is True
    assert ledger.post(charge) is False
    assert ledger.post(charge.model_copy(update={"occurred_at": AT + timedelta(seconds=5)})) is False  # a retry
    assert ledger.get("charge:b1") == charge and ledger.get("nope") is None
    assert len(_items()) == 1  # the posting, its two lines inside; no balance items (derived from the lines)
    assert ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT + timedelta(minutes=3))) is True
    assert ledger.balance(RECEIVABLE) == 200
    assert ledger.balance(REVENUE) == -1200 and ledger.balance(CLEARING) == 1000
    assert ledger.balance(Account.write_off("320213")) == 0
    assert [(line.posting_id, line.amount_fen) for line in ledger.lines(RECEIVABLE)] == [
        ("charge:b1", 1200),
        ("pay:p1", -1000),
    ]
    assert [line.posting_id for line in ledger.lines(RECEIVABLE, since=AT + timedelta(minutes=1))] == ["pay:p1"]
    assert ledger.lines(REVENUE)[0].kind is PostingKind.CHARGE and ledger.lines(REVENUE)[0].occurred_at == AT
    assert ledger.check() == []


def test_a_receivable_line_has_no_index_entry_and_still_reads_exactly(ledger):
    """Issue 10: nobody reads a plate's receivable by account in production, so its slot is no index key (one
    write unit fewer per posting); balance and lines of it still answer, by a scan."""
    ledger.post(Posting.charge("charge:b1", PLATE, OP, 1200, AT))
    ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT + timedelta(minutes=1)))
    charge, payment = (LedgerItem.get(posting_key(pid), "POSTING") for pid in ("charge:b1", "pay:p1"))
    assert (charge.account_a, charge.unlisted_a, charge.account_b) == (None, RECEIVABLE, REVENUE)
    assert (payment.account_a, payment.account_b, payment.unlisted_b) == (CLEARING, None, RECEIVABLE)
    assert list(LedgerItem.by_account_a.query(RECEIVABLE)) == [] and list(LedgerItem.by_account_b.query(RECEIVABLE)) == []
    assert [i.posting_id for i in LedgerItem.by_account_b.query(REVENUE)] == ["charge:b1"]
    assert ledger.balance(RECEIVABLE) == 200 and ledger.balance(REVENUE) == -1200 and ledger.balance(CLEARING) == 1000
    assert [x.posting_id for x in ledger.lines(RECEIVABLE, since=AT + timedelta(seconds=30))] == ["pay:p1"]
    assert ledger.check() == []
    # a posting stored before (its receivable an index key) still counts
    old = store_module._header(Posting.charge("charge:old", PLATE, OP, 300, AT - timedelta(days=1)))
    old.account_a, old.unlisted_a = RECEIVABLE, None
    old.save()
    assert ledger.balance(RECEIVABLE) == 500 and [x.posting_id for x in ledger.lines(RECEIVABLE)][0] == "charge:old"
    assert ledger.check() == []


def test_reusing_a_posting_id_for_other_money_is_a_conflict(ledger):
    ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT))
    with pytest.raises(Conflict) as info:
        ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 999, AT))
    assert info.value.code == "posting_id_reused"
    assert ledger.balance(CLEARING) == 1000


def test_lines_are_in_time_order_whatever_the_zone(ledger):
    ledger.post(Posting.charge("late", PLATE, OP, 100, datetime(2025, 3, 1, 1, 0, tzinfo=UTC)))  # 09:00 CST
    ledger.post(Posting.charge("early", PLATE, OP, 100, datetime(2025, 3, 1, 8, 0, tzinfo=CST)))  # 00:00 UTC
    assert [line.posting_id for line in ledger.lines(RECEIVABLE)] == ["early", "late"]


def _fail_other_write(tx: TransactWrite) -> None:
    """The caller's own conditional write, whose condition does not hold (no such lot status yet)."""
    tx.update(
        LotStatusItem(lot_id="lot-1", item="LOT"),
        actions=[LotStatusItem.open_count.add(1)],
        condition=LotStatusItem.open_count == 7,
    )


def test_staged_with_a_failing_write_nothing_is_written(ledger):
    with pytest.raises(TransactWriteError) as info, TransactWrite(connection=transaction_connection()) as tx:
        ledger.stage(tx, Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT))
        _fail_other_write(tx)
    assert LedgerStore.already_posted(info.value) == set()
    assert _items() == [] and ledger.get("pay:p1") is None and ledger.balance(CLEARING) == 0
    assert ledger.check() == []


def test_staged_with_another_write_both_land_or_a_duplicate_is_named(ledger):
    pay = Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT)
    coupon = Posting.discount("coupon:c1", PLATE, OP, 300, AT)
    with TransactWrite(connection=transaction_connection()) as tx:
        ledger.stage(tx, pay, coupon)  # both credit the receivable: two lines, no balance item
        tx.save(
            LotStatusItem(lot_id="lot-1", item="LOT", open_count=1), condition=LotStatusItem.lot_id.does_not_exist()
        )
    assert ledger.balance(RECEIVABLE) == -1300 and LotStatusItem.get("lot-1", "LOT").open_count == 1
    with pytest.raises(TransactWriteError) as info, TransactWrite(connection=transaction_connection()) as tx:
        tx.update(LotStatusItem(lot_id="lot-1", item="LOT"), actions=[LotStatusItem.open_count.add(1)])
        ledger.stage(tx, Posting.charge("charge:b2", PLATE, OP, 50, AT), coupon)
    assert LedgerStore.already_posted(info.value) == {"coupon:c1"}
    assert ledger.get("charge:b2") is None and LotStatusItem.get("lot-1", "LOT").open_count == 1
    assert ledger.check() == []


def test_check_finds_a_tampered_line_or_posting(ledger):
    ledger.post(Posting.charge("charge:b1", PLATE, OP, 1200, AT))
    ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1200, AT))
    assert ledger.check() == []

    line = next(i for i in _items() if i.account_b == REVENUE)  # the charge's second line, inside its item
    line.update(actions=[LedgerItem.amount_b.set(-1100)])
    assert ledger.balance(REVENUE) == -1100  # the balance is its lines: the check names the difference
    problems = ledger.check()
    assert problems[0] == "posting charge:b1: its lines differ from its entries"
    assert any(REVENUE in p and "-1100" in p for p in problems) and any("sum to 100 fen" in p for p in problems)
    line.update(actions=[LedgerItem.amount_b.set(-1200)])
    assert ledger.check() == []

    header = LedgerItem.get(posting_key("pay:p1"), "POSTING")
    doc = dict(header.doc)
    doc["entries"] = [{**doc["entries"][0], "amount_fen": 1300}, doc["entries"][1]]
    header.update(actions=[LedgerItem.doc.set(doc)])
    problems = ledger.check()
    assert any("pay:p1: stored document is invalid" in p for p in problems)
    assert any("pay:p1 sums to 100" in p for p in problems)


def test_concurrent_posts_of_one_posting_write_it_once(ledger):
    pay = Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT)
    start, results = threading.Barrier(8), []

    def post() -> None:
        start.wait()
        results.append(ledger.post(pay))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert ledger.balance(CLEARING) == 1000 and ledger.check() == []


def test_a_two_entry_posting_posted_alone_is_one_conditional_put(ledger, monkeypatch):
    """No transaction of one item (it would cost twice the write units)."""
    monkeypatch.setattr(TransactWrite, "_commit", lambda self: pytest.fail("a transaction"))
    assert ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT)) is True
    assert ledger.post(Posting.payment("pay:p1", PLATE, PROVIDER, 1000, AT)) is False
    assert [i.sk for i in _items()] == ["POSTING"] and ledger.balance(CLEARING) == 1000


def test_a_transaction_conflict_is_retried(ledger, monkeypatch):
    original, calls = TransactWrite._commit, []

    def commit(self):
        calls.append(1)
        if len(calls) == 1:
            cause = VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
                "TransactWriteItems",
                cancellation_reasons=[CancellationReason(code="TransactionConflict"), None, None, None, None],
            )
            raise TransactWriteError("Failed to write transaction items", cause)
        return original(self)

    monkeypatch.setattr(TransactWrite, "_commit", commit)
    monkeypatch.setattr(store_module.time, "sleep", lambda s: None)
    assert ledger.post(_three_entries()) is True  # more than two entries: a transaction with a line item
    assert len(calls) == 2 and ledger.balance(CLEARING) == 100


def _three_entries():
    from shared.ledger.model import Entry

    return Posting(posting_id="split:1", kind=PostingKind.ADJUSTMENT, occurred_at=AT, entries=(
        Entry(account=RECEIVABLE, amount_fen=-300), Entry(account=REVENUE, amount_fen=200),
        Entry(account=CLEARING, amount_fen=100)))  # fmt: skip


def test_a_posting_of_more_entries_keeps_a_line_item_for_each_after_the_second(ledger):
    three = _three_entries()
    assert ledger.post(three)
    items = _items()
    assert sorted(i.sk.split("#")[0] for i in items if i.pk == posting_key("split:1")) == ["LINE", "POSTING"]
    assert [(x.account, x.amount_fen) for x in ledger.lines(CLEARING)] == [(CLEARING, 100)]
    assert [(x.account, x.amount_fen) for x in ledger.lines(RECEIVABLE)] == [(RECEIVABLE, -300)]
    assert (ledger.balance(RECEIVABLE), ledger.balance(REVENUE), ledger.balance(CLEARING)) == (-300, 200, 100)
    assert ledger.check() == []


def test_a_posting_stored_before_issue_10_still_reads_and_checks(ledger):
    """Then a posting was a header without slots and a line item per entry, and each account had a balance
    item, ADDed with every posting: it is left alone and ignored (the lines already count that posting)."""
    old = Posting.charge("charge:old", PLATE, OP, 500, AT)
    header = store_module._header(old)
    for attr in ("line_at", "account_a", "amount_a", "account_b", "amount_b", "unlisted_a", "unlisted_b"):
        setattr(header, attr, None)
    header.save()
    for e in old.entries:
        store_module._line(old, e).save()
        LedgerItem(pk=account_key(e.account), sk="BALANCE").update(actions=[LedgerItem.balance.add(e.amount_fen)])
    assert ledger.post(Posting.payment("pay:new", PLATE, PROVIDER, 500, AT + timedelta(minutes=1)))
    assert [x.posting_id for x in ledger.lines(RECEIVABLE)] == ["charge:old", "pay:new"]
    assert ledger.balance(RECEIVABLE) == 0 and ledger.balance(REVENUE) == -500 and ledger.check() == []
    assert LedgerItem.get(account_key(RECEIVABLE), "BALANCE").balance == 500  # the old item, not moved since
