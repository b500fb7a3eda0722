"""The bill item on DynamoDB (issue 10): its document is stored deflated so that a priced bill with its
itemised quote stays under 1 KB (half the write units of a 2 KB item, in its transaction and in each
ALL-projected index), and a bill stored before, as a plain JSON string, still reads."""

from __future__ import annotations

from datetime import timedelta

from bench.bench_paylater import item_size
from shared.payments.ports import Change
from tests.contracts.records import T0, bill, charge

# The tariff engine's itemised quote of a 2.5 h stay, as the exit stores it (bench_cost's session).
BREAKDOWN = {
    "tariff_id": "zhumadian-class1-offstreet", "version_from": "2020-12-01T00:00:00+08:00", "minutes": 150,
    "new_energy": False, "ratio": {"num": 1, "den": 1}, "cap_fen": 2000, "amount_fen": 600,
    "cycles": [{"index": 0, "start": "2026-11-25T09:00:00+08:00", "end": "2026-11-25T11:30:00+08:00",
                "raw_fen": 600, "capped_fen": 600, "amount_fen": 600,
                "lines": [{"kind": "periods", "rule": 0, "block": 0, "count": 1, "unit_fen": 400, "amount_fen": 400},
                          {"kind": "periods", "rule": 0, "block": 1, "count": 2, "unit_fen": 100, "amount_fen": 200}]}],
}  # fmt: skip


def _priced(bill_id: str):
    return bill(bill_id, lane="out-1", entered_at=T0 - timedelta(hours=2.5), exited_at=T0, priced_until=T0,
                tariff_id="zhumadian-class1-offstreet", paid_fen=600, last_paid_at=T0,
                payments=["pay_b6252bb7e0a16486228d5e5b"], breakdown=BREAKDOWN)  # fmt: skip


def test_a_priced_bill_item_stays_under_one_kilobyte(aws_stack, uid):
    from shared.adapters.dynamo.models import BillItem

    b = _priced(f"bill_{uid}")
    assert aws_stack.services.stores.money.commit(Change(bills=[b], postings=[charge(f"c-{uid}")]))
    raw = BillItem._get_connection().get_item(b.bill_id, consistent_read=True)["Item"]
    assert "B" in raw["doc"]
    size = item_size(raw)  # as DynamoDB counts it: the binary document by its bytes
    assert size < 1024, size
    assert aws_stack.services.stores.money.bill(b.bill_id) == b
    assert aws_stack.services.stores.money.bill_keys_of_plate(b.plate)[0].bill_id == b.bill_id  # the index lists it


def test_a_bill_stored_as_a_json_string_still_reads(aws_stack, uid):
    import json

    from shared.adapters.dynamo.models import BillItem

    b = bill(f"bill_{uid}", plate=f"苏L{uid[:5]}")
    BillItem._get_connection().put_item(
        b.bill_id, attributes={"version": {"N": "1"}, "doc": {"S": json.dumps(b.model_dump(mode="json"))},
                               "plate": {"S": b.plate}, "created_at": {"S": b.created_at.isoformat()}})  # fmt: skip
    money = aws_stack.services.stores.money
    assert money.bill(b.bill_id) == b
    assert [x.bill_id for x in money.bills_by_id([k.bill_id for k in money.bill_keys_of_plate(b.plate)])] == [b.bill_id]
    assert money.commit(Change(bills=[b.bumped(paid_fen=600)]))  # replaced over the old version, now packed
    assert money.bill(b.bill_id).paid_fen == 600


def test_a_bill_is_not_in_the_lot_index_and_a_dispute_is(aws_stack, uid):
    """Issue 10: nothing lists a lot's bills, so a bill carries no ``lot_id`` key and creating one writes
    nothing to ``by_lot`` (one write unit fewer per priced exit); a district's disputes are still listed from
    it (``tests/contracts/test_records.py``)."""
    from shared.adapters.dynamo.models import BillItem

    b = _priced(f"bill_{uid}")
    stores = aws_stack.services.stores
    assert stores.money.commit(Change(bills=[b], postings=[charge(f"c-{uid}")]))
    raw = BillItem._get_connection().get_item(b.bill_id, consistent_read=True)["Item"]
    assert "lot_id" not in raw and "lane_key" in raw
    assert list(BillItem.by_lot.query(b.lot_id)) == []
