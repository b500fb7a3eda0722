"""The money records the books depend on, archived beside the device events and sequenced in the same
Merkle log (issue 12): every applied payment, refund, bill adjustment (a dispute decision, a price lowered
by a late report, a correction, a voided sharing fee) and write-off.

A record holds what the live path fed to the ledger's ``Posting`` constructor — the posting id (the live
path's own idempotency key: ``pay:<payment id>``, ``refund:<refund id>``, ``adjust:<bill id>``, ...), the
plate, the other party (provider, operator or district), the fen, the time and the references (bill,
session, payment, lot) — so replay rebuilds the posting with that same constructor and compares it with
the ledger's.

It is recorded where the live path posts it: ``RecordedMoney`` wraps the ``MoneyStore`` port, and after a
commit has stored a posting of these kinds it archives one object per posting, keyed by the posting id,
with deterministic bytes, and appends the object to the log. A repeated callback commits nothing (the
posting id exists, the payment has succeeded already), so it archives nothing; and the log sequences an
object key at most once, so even a rewrite adds no leaf. Charges are not recorded here: replay recomputes
them from the device events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from shared.archive.logged import LogAppender, archive_once
from shared.archive.ports import ArchiveBucket
from shared.clock import local_date
from shared.ledger.model import Posting, PostingKind
from shared.observability import count, logger
from shared.payments.ports import Change, MoneyStore

PREFIX = "books/"
# the kinds recorded, and what their non-driver account names (the constructor's third argument)
PARTY = {
    PostingKind.PAYMENT: "provider",
    PostingKind.REFUND: "provider",
    PostingKind.ADJUSTMENT: "operator_id",
    PostingKind.WRITE_OFF: "district",
}
KINDS = frozenset(k.value for k in PARTY)


def record_of(posting: Posting) -> dict:
    """The archive record of a posting of one of ``KINDS``."""
    party = next(e.account for e in posting.entries if not e.account.startswith("receivable:"))
    plate = next(e.account for e in posting.entries if e.account.startswith("receivable:"))
    return {
        "record": posting.kind.value,
        "posting_id": posting.posting_id,
        "plate": plate.split(":", 1)[1],
        PARTY[posting.kind]: party.split(":", 1)[1],
        "amount_fen": posting.amount_fen,
        "at": posting.occurred_at.isoformat(),
        "refs": dict(posting.refs),
        "memo": posting.memo,
    }


def posting_of(record: dict) -> Posting:
    """The posting a record stands for, built with the live path's constructor (``Posting.payment``, ...)."""
    kind = PostingKind(record["record"])
    make = getattr(Posting, kind.value)
    return make(
        record["posting_id"], record["plate"], record[PARTY[kind]], record["amount_fen"],
        datetime.fromisoformat(record["at"]), refs=record.get("refs") or {}, memo=record.get("memo", ""),
    )  # fmt: skip


def object_key(posting: Posting) -> str:
    digest = hashlib.sha256(posting.posting_id.encode()).hexdigest()[:24]
    return f"{PREFIX}date={local_date(posting.occurred_at)}/kind={posting.kind.value}/{digest}.jsonl"


def posting_of_image(image: dict) -> Posting | None:
    """The posting of a ledger item from the table's stream, if the item is a posting's header (``sk`` =
    ``POSTING``, the posting's JSON in ``doc``: the ledger adapter's layout) of one of ``KINDS``; else None
    (lines, balances, charges)."""
    if image.get("sk") != "POSTING" or image.get("kind") not in KINDS or not image.get("doc"):
        return None
    doc = image["doc"]
    return Posting.model_validate(json.loads(doc) if isinstance(doc, str) else doc)


def line(posting: Posting) -> bytes:
    return (json.dumps(record_of(posting), ensure_ascii=False, sort_keys=True) + "\n").encode()


class BooksArchive:
    """Archives postings of ``KINDS`` and sequences them in the log (when the stores have one). Idempotent:
    an object already written is left as it is (only appended again, which the log ignores if it holds it),
    so recording a posting again — after a crash, or from a repeated callback — changes nothing."""

    def __init__(self, bucket: ArchiveBucket, log: LogAppender | None) -> None:
        self._bucket, self.log = bucket, log

    def record(self, postings: Iterable[Posting]) -> list[str]:
        return archive_once(self._bucket, self.log, ((object_key(p), line(p)) for p in postings if p.kind.value in KINDS))

    def record_after_commit(self, postings: list[Posting]) -> None:
        """``record``, for money that has moved already: a failure is logged and counted, never raised."""
        try:
            self.record(postings)
        except Exception:  # noqa: BLE001 - the money has moved; archiving must not turn it into an error
            count("BooksRecordFailed")
            logger.exception("a money record was not archived", extra={"postings": [p.posting_id for p in postings]})


class RecordedMoney:
    """The ``MoneyStore`` port, with every committed payment, refund, adjustment and write-off archived.

    The money has moved once the commit returns True, so a failure to archive does not undo or fail it:
    it is logged and counted (``BooksRecordFailed``), and replay then reports the posting as a difference
    (in the ledger, not in the archive) until the record is written."""

    def __init__(self, money: MoneyStore, books: BooksArchive) -> None:
        self._money, self.books = money, books

    def __getattr__(self, name: str):
        return getattr(self._money, name)

    def commit(self, change: Change) -> bool:
        done = self._money.commit(change)
        if done and any(p.kind.value in KINDS for p in change.postings):
            self.books.record_after_commit(change.postings)
        return done
