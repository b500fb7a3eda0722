"""Money records in the archive (shared/archive/books.py), on the in-memory ports: a committed payment,
refund, adjustment or write-off becomes one archive object sequenced in the Merkle log; a repeated
callback (a commit that stores nothing) adds nothing; replay rebuilds the postings with the live
constructors and matches the ledger, a deleted one is one difference naming its session and bill, and a
failure to archive never fails the money movement."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.adapters.memory.audit_log import MemoryLogHeads
from shared.archive.books import BooksArchive, RecordedMoney, line, posting_of, record_of
from shared.audit import verify
from shared.audit.log import TransparencyLog, records_of
from shared.audit.note import Signer, Verifier
from shared.audit.replay import Replay, compare
from shared.ledger.model import Posting
from shared.payments.ports import Change
from tests.audit.test_log import Bucket, Clock  # the archive bucket with its tiles, a fixed clock

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
REFS = {"bill_id": "b-1", "session_id": "s-1", "lot_id": "lot-1"}


class Money:
    """The MoneyStore's exactly-once rule: a posting id is stored once; a repeat commits nothing."""

    def __init__(self) -> None:
        self.postings: dict[str, Posting] = {}

    def commit(self, change: Change) -> bool:
        if any(p.posting_id in self.postings for p in change.postings):
            return False
        self.postings.update({p.posting_id: p for p in change.postings})
        return True

    def bill(self, bill_id):
        return None


def _world(log_fails: bool = False):
    bucket, signer = Bucket(), Signer.generate("tongting.test/log")
    log = TransparencyLog(MemoryLogHeads(), bucket, bucket, signer, Clock())
    if log_fails:
        def append(keys):
            raise RuntimeError("log unavailable")
        log.append = append
    money = RecordedMoney(Money(), BooksArchive(bucket, log))
    return bucket, signer, money


def _postings():
    return [
        Posting.charge("charge:s-1", "苏B12345", "op-1", 900, AT, refs=REFS),
        Posting.payment("pay:p-1", "苏B12345", "sandbox", 900, AT, refs={**REFS, "payment_id": "p-1"}),
        Posting.adjustment("adjust:b-1", "苏B12345", "op-1", 500, AT, refs=REFS, memo="upheld"),
        Posting.refund("refund:p-1_dis_0", "苏B12345", "sandbox", 500, AT, refs={**REFS, "refund_id": "p-1_dis_0"}),
        Posting.write_off("writeoff:b-2", "苏C00001", "320213", 300, AT, refs={"bill_id": "b-2", "session_id": "s-2"}),
    ]


def test_a_record_rebuilds_its_posting_with_the_live_constructor():
    for p in _postings()[1:]:
        assert posting_of(json.loads(json.dumps(record_of(p)))) == p


def test_committed_money_records_are_archived_once_and_sequenced():
    bucket, signer, money = _world()
    for p in _postings():
        assert money.commit(Change(postings=[p]))
    assert not money.commit(Change(postings=[_postings()[1]]))  # the provider resends the callback
    keys = bucket.keys("books/")
    assert len(keys) == 4 and not any("kind=charge" in k for k in keys)  # charges are replayed from events
    result = verify.verify_archive(bucket.get, keys, Verifier.from_key(signer.verifier_key()))
    assert result.ok and result.records == result.checkpoint.size == 4, result.problems


def test_replay_matches_the_ledger_and_names_a_deleted_payment():
    bucket, _, money = _world()
    for p in _postings():
        money.commit(Change(postings=[p]))
    records = [json.loads(line) for k in bucket.keys("books/") for line in records_of(bucket.get(k))]
    ledger = list(money._money.postings.values())

    replay = Replay({}, price=lambda *a: None).run(records)
    comparison = compare(replay, [p for p in ledger if p.kind.value != "charge"])
    assert comparison.differences == [] and replay.books_replayed == 4
    assert {k: t["replayed_fen"] for (k, _), t in comparison.book_totals.items()} == {
        "payment": 900, "adjustment": 500, "refund": 500, "write_off": 300}  # fmt: skip
    assert all(t["replayed_fen"] == t["ledger_fen"] for t in comparison.book_totals.values())

    without_payment = [p for p in ledger if p.kind.value not in ("charge", "payment")]
    flat = Replay({}, price=lambda *a: None, keep=frozenset(), keep_books=frozenset()).run(records)
    first = compare(flat, without_payment)  # flat memory: only the fingerprints, the kind is unresolved
    assert first.unresolved_books == {"payment"} and first.differences == []
    again = Replay({}, price=lambda *a: None, keep=frozenset(), keep_books=first.unresolved_books).run(records)
    (d,) = compare(again, without_payment).differences
    assert (d.kind, d.session_id, d.bill_id, d.postings) == ("payment", "s-1", "b-1", ("pay:p-1",))
    assert (d.replayed_fen, d.ledger_fen) == (900, 0)


def test_an_altered_amount_in_the_ledger_is_a_difference():
    bucket, _, money = _world()
    for p in _postings()[1:]:
        money.commit(Change(postings=[p]))
    records = [json.loads(line) for k in bucket.keys("books/") for line in records_of(bucket.get(k))]
    ledger = [p for p in money._money.postings.values() if p.kind.value != "refund"]
    ledger.append(Posting.refund("refund:p-1_dis_0", "苏B12345", "sandbox", 400, AT, refs=REFS))
    (d,) = compare(Replay({}, price=lambda *a: None).run(records), ledger).differences
    assert (d.kind, d.replayed_fen, d.ledger_fen) == ("refund", 500, 400)


def test_a_failure_to_archive_does_not_fail_the_payment():
    bucket, _, money = _world(log_fails=True)
    assert money.commit(Change(postings=[_postings()[1]]))
    assert "pay:p-1" in money._money.postings


def test_an_object_written_before_is_never_rewritten():
    bucket, signer, money = _world()
    payment = _postings()[1]
    (key,) = money.books.record([payment])
    money.books.record([payment.model_copy(update={"memo": "built again"})])  # e.g. a time read back differently
    assert bucket.get(key) == line(payment)
    assert verify.verify_archive(bucket.get, [key], Verifier.from_key(signer.verifier_key())).records == 1


def test_a_repeated_callback_archives_a_payment_whose_record_was_lost(platform, city, api, device, clock, monkeypatch):
    """The process that applied the payment stopped before its record was written: the provider's resend
    (a duplicate for the applier) archives it, with the bytes the first record would have had."""
    from tests.payments.test_pay_code_flow import _park, _pay
    from tests.support import CallbackPoster, price_lot
    from shared.tariffs.samples import ZHUMADIAN_CLASS1

    services = platform.services
    price_lot(services, "lx-nanchang-st-01", ZHUMADIAN_CLASS1)
    _park(device, clock)
    bill = json.loads(api.get("/v1/pay/lx-nanchang-st-01?lane=out-1").body)["bill"]
    _, payment = _pay(api, bill["bill_id"])
    real, calls = services.books.record, []

    def stops_once(postings):
        calls.append(postings)
        if len(calls) == 1:
            raise RuntimeError("the Lambda stopped here")
        return real(postings)

    monkeypatch.setattr(services.books, "record", stops_once)
    sandbox = services.providers["sandbox"]
    sandbox.configure(duplicates=1)
    sandbox.approve(services.payments.payment(payment["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    assert len(calls) == 2  # applied (record lost), then the resend
    (key,) = services.stores.archive.keys("books/")
    posted = next(p for p in services.ledger.scan_postings() if p.kind.value == "payment")
    assert services.stores.archive.get(key) == line(posted)



def test_on_dynamodb_the_ledger_stream_archives_the_money_postings(stack):
    """On DynamoDB the records come from the ledger's stream (functions/books_writer), not from the paying
    request: every money posting committed is archived once, with the bytes the memory path writes; charges,
    lines and balances are not money records; a stream delivered again adds nothing."""
    from shared import resources
    from shared.adapters.aws import client

    for posting in _postings():
        assert stack.services.ledger.post(posting)
    stack.pump_streams()
    stack.pump_streams()  # nothing new: nothing more
    s3, bucket = client("s3"), resources.EVENT_ARCHIVE.name
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="books/").get("Contents", [])]
    archived = sorted(s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys)
    assert archived == sorted(line(p) for p in _postings()[1:])  # payment, adjustment, refund, write-off
