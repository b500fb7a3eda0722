"""Settlement in DynamoDB: a read-only view of the ledger, owners from the registry, issued statements.

``settlements`` table (pk, sk):

======================  ==============================  =====================================================
item                    pk / sk                         attributes
======================  ==============================  =====================================================
statement               ``OP#<op>`` / ``DAY#<day>``     doc, parts (how many id chunks)
covered posting ids     ``OP#<op>#DAY#<day>`` /         ids (list; a chunk stays far below 400 KB)
                        ``IDS#<n>``
fee statement           ``FEE#<op>`` / ``HALF#<half>``  doc
======================  ==============================  =====================================================

A statement is issued by writing its id chunks first, then its header put-if-absent: a crash between
them leaves chunks no header points to, which the retry overwrites; once the header exists nothing
changes it (immutable).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from shared import resources
from shared.adapters.dynamo.conditions import save_if
from shared.adapters.dynamo.ledger import HEADER, LINE, LedgerItem, LedgerStore, account_lines
from shared.adapters.dynamo.models import keyed
from shared.ledger.model import Line, Posting
from shared.settlement.model import FeeStatement, Statement

CHUNK = 5_000  # posting ids per item: ~40 bytes each, 200 KB


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chunk_key(tag: str | None, n: int) -> str:
    return f"IDS#{tag}#{n:05d}" if tag else f"IDS#{n:05d}"


class SettlementItem(keyed(resources.table("settlements"))):
    doc = JSONAttribute(null=True)
    parts = NumberAttribute(null=True)
    ids_tag = UnicodeAttribute(null=True)  # the covered-id chunks' key part (absent: statements issued before it)
    ids = ListAttribute(of=UnicodeAttribute, null=True)


class LedgerReader:
    """The PostingReader port over the ledger table: the account's lines in the window (the posting items'
    slot indexes and the line items' ``by_account`` index), then the postings. A posting item found through
    a slot index carries its document in the projection; postings stored before issue 10 are read by key
    (BatchGet). ``reads`` counts items read, for the benchmark."""

    def __init__(self, ledger: LedgerStore) -> None:
        self._ledger = ledger
        self.reads = 0

    def _line_items(self, account: str, start: datetime, end: datetime):
        for item, line in account_lines(account, f"{LINE}{_utc(start)}", f"{LINE}{_utc(end)}"):
            self.reads += 1
            if line.occurred_at < end:  # between is inclusive
                yield item, line

    def postings(self, accounts: Iterable[str], start: datetime, end: datetime) -> list[Posting]:
        found: dict[str, Posting | None] = {}
        for account in accounts:
            for item, _ in self._line_items(account, start, end):
                if item.sk == HEADER and item.doc:
                    found[item.posting_id] = Posting.model_validate(item.doc)
                else:
                    found.setdefault(item.posting_id, None)
        keys = [(f"POSTING#{pid}", HEADER) for pid, posting in sorted(found.items()) if posting is None]
        for item in LedgerItem.batch_get(keys, consistent_read=True):
            self.reads += 1
            found[item.posting_id] = Posting.model_validate(item.doc)
        return [found[pid] for pid in sorted(found) if found[pid] is not None]

    def lines(self, account: str, start: datetime, end: datetime) -> list[Line]:
        return [line for _, line in self._line_items(account, start, end)]

    def balance(self, account: str) -> int:
        return self._ledger.balance(account)

    def post(self, posting: Posting) -> bool:
        return self._ledger.post(posting)


class StatementTable:
    """The StatementStore port."""

    def issue(self, statement: Statement, covered: list[str]) -> bool:
        """The covered ids go first, in chunks under a tag of this issue's content, then the header on the
        condition that none exists: a refused second issue (other content, other tag) leaves the first one's
        chunks alone, and a retried identical issue rewrites the same chunks with the same ids."""
        doc = statement.model_dump(mode="json")
        tag = hashlib.sha256(json.dumps([doc, covered], sort_keys=True).encode()).hexdigest()[:16]
        base = f"OP#{statement.operator_id}#DAY#{statement.day}"
        chunks = [covered[i : i + CHUNK] for i in range(0, len(covered), CHUNK)]
        with SettlementItem.batch_write() as batch:
            for n, chunk in enumerate(chunks):
                batch.save(SettlementItem(pk=base, sk=_chunk_key(tag, n), ids=chunk))
        header = SettlementItem(
            pk=f"OP#{statement.operator_id}", sk=f"DAY#{statement.day}", doc=doc, parts=len(chunks), ids_tag=tag,
        )
        return save_if(header, SettlementItem.pk.does_not_exist())

    def get(self, operator_id: str, day: str) -> Statement | None:
        try:
            return Statement.model_validate(SettlementItem.get(f"OP#{operator_id}", f"DAY#{day}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def covered(self, statement: Statement) -> set[str]:
        header = SettlementItem.get(f"OP#{statement.operator_id}", f"DAY#{statement.day}", consistent_read=True)
        base = f"OP#{statement.operator_id}#DAY#{statement.day}"
        keys = [(base, _chunk_key(header.ids_tag, n)) for n in range(int(header.parts or 0))]
        return {pid for item in SettlementItem.batch_get(keys, consistent_read=True) for pid in item.ids or []}

    def list(self, operator_id: str, first_day: str, last_day: str) -> list[Statement]:
        cond = SettlementItem.sk.between(f"DAY#{first_day}", f"DAY#{last_day}")
        return [Statement.model_validate(i.doc) for i in SettlementItem.query(f"OP#{operator_id}", cond, consistent_read=True)]

    def issue_fee(self, fee: FeeStatement) -> bool:
        item = SettlementItem(pk=f"FEE#{fee.operator_id}", sk=f"HALF#{fee.half}", doc=fee.model_dump(mode="json"))
        return save_if(item, SettlementItem.pk.does_not_exist())

    def get_fee(self, operator_id: str, half: str) -> FeeStatement | None:
        try:
            return FeeStatement.model_validate(SettlementItem.get(f"FEE#{operator_id}", f"HALF#{half}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def list_fees(self, operator_id: str | None = None) -> list[FeeStatement]:
        if operator_id:
            items = SettlementItem.query(f"FEE#{operator_id}", consistent_read=True)
        else:  # a scan: the platform's fee report, twice a year
            items = SettlementItem.scan(SettlementItem.pk.startswith("FEE#"), consistent_read=True)
        return sorted((FeeStatement.model_validate(i.doc) for i in items), key=lambda f: (f.operator_id, f.half))
