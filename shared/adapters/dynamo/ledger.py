"""The double-entry ledger in DynamoDB: postings written exactly once, with their lines; balances derived.

Key scheme of the ``ledger`` table (pk, sk; indexes ``by_account_a``: account_a, line_at; ``by_account_b``:
account_b, line_at; ``by_account``: account, sk):

===============  ==============================================  =============================================
item             pk / sk                                         attributes
===============  ==============================================  =============================================
posting          ``POSTING#<posting_id>`` / ``POSTING``           doc (the posting's JSON), kind, occurred_at,
                                                                 posting_id, line_at = ``LINE#<utc time>#<id>``,
                                                                 its first two lines: account_a, amount_a,
                                                                 account_b, amount_b (``unlisted_a``/``_b``
                                                                 for an account not read by account)
line, one per    ``POSTING#<posting_id>`` /                      account, amount_fen, posting_id, kind,
entry after the  ``LINE#<utc time>#<posting_id>#<account>``      occurred_at
second
(old) balance    ``ACCOUNT#<account>`` / ``BALANCE``              balance: written before balances were derived;
                                                                 never written nor read now (see below)
===============  ==============================================  =============================================

Issue 10: every posting the domain builds has two entries, so a posting is ONE item (its two lines are
attributes of it, each indexed by account): 2 write units in a transaction plus one per index, where a
header and two line items cost 6 plus 2. A posting of more entries (up to ``MAX_ENTRIES``) keeps a line item
for each entry after the second; postings stored before issue 10 have a line item per entry and no slots.
Readers merge the three indexes; ``check`` proves the lines (slots and line items, read apart from the
document) equal the posting's entries, every posting sums to zero and the balances the lines add up to are
the postings' sums (zero in all).

Balances are derived (issue 10, ledger part): ``balance(account)`` is the sum of the account's lines, read
from the three indexes, so a posting writes no balance item (4 write units less per two-entry posting in a
transaction, 8 per pay-on-exit session) and two postings to one account never contend for an item. What
that costs and what a reader gets:

- A read costs the account's lines: one query per index, about 1 read unit (eventually consistent) per
  8 KB of lines. The only balances read outside tests are reports' (``PlatformFeeService.report``,
  ``DistrictReturns.report``) on ``platform_fee``, ``operator_fee_receivable:<op>`` and
  ``district_returns:<district>``, which only the half-yearly fee and return postings touch: a few lines per
  operator or district a year (``tests/ledger/test_balance_readers.py`` fails if a new caller reads
  another account's balance). A report on an account that grows with traffic (a provider's clearing, an
  operator's revenue) reads the settlement's windows (``PostingReader.lines``), not ``balance``.
- Index reads are eventually consistent: a balance includes every posting whose index write has landed,
  usually within a second of its transaction; one posted just before may be missing (whole, never a part:
  an account has one line per posting). Two balances read one after the other may disagree for that moment.
  ``check`` scans the table itself, strongly consistent, and is the exact proof.
- Balance items written before this change are left where they are and ignored: the lines already hold
  every posting those items summed, so counting both would count twice. ``check`` skips them; they can be
  deleted at leisure (``sk = BALANCE``).

A slot's account is the index key (``account_a``/``account_b``) only if someone reads that account by account
(``Account.read_by_account``: not a plate's receivable, which every charge and payment moves and nothing lists);
otherwise it is stored as ``unlisted_a``/``unlisted_b``, no index entry (issue 10: one write unit fewer per
posting, two per pay-on-exit session). ``balance``/``lines`` of such an account still answer exactly, by a scan
of the ledger (audits and tests; ``tests/ledger/test_balance_readers.py`` keeps production off it).

``<utc time>`` is fixed-width ISO (``2025-01-02T03:04:05.000000Z``), so sort keys order by time whatever
zone the caller used. Only line items carry ``account``, only postings ``account_a``/``account_b``: each
index is sparse and lists one account's lines in time order.

A posting and its line items go in one transaction (the caller's, or its own), and the posting is put only
if it does not exist yet: a posting id is stored once. A two-entry posting posted on its own is one
conditional put (a transaction of one item would cost twice the write units).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import ValidationError
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import resources
from shared.adapters.dynamo.conditions import failed_conditions, save_if
from shared.adapters.dynamo.models import index_of, keyed, transaction_connection
from shared.errors import Conflict, DomainError, InvalidInput
from shared.ledger import model
from shared.ledger.accounts import Account
from shared.ledger.model import Entry, Line, Posting, PostingKind

_TABLE = resources.table("ledger")
HEADER, BALANCE, LINE = "POSTING", "BALANCE", "LINE#"
_ATTEMPTS = 4  # TransactionConflict: another transaction holds one of the items (the same posting id); retry


def posting_key(posting_id: str) -> str:
    return f"POSTING#{posting_id}"


def account_key(account: str) -> str:
    return f"ACCOUNT#{account}"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def line_key(posting: Posting, account: str) -> str:
    return f"{LINE}{_utc(posting.occurred_at)}#{posting.posting_id}#{account}"


def line_at(posting: Posting) -> str:
    return f"{LINE}{_utc(posting.occurred_at)}#{posting.posting_id}"


LinesByAccount = index_of(_TABLE, "by_account")
FirstLines = index_of(_TABLE, "by_account_a")
SecondLines = index_of(_TABLE, "by_account_b")
SLOTS = 2  # lines carried by the posting item itself


class LedgerItem(keyed(_TABLE)):
    """A posting header or a line (or an old balance item); which one is told by ``sk`` (module docstring)."""

    doc = JSONAttribute(null=True)  # header
    posting_id = UnicodeAttribute(null=True)  # header, line
    kind = UnicodeAttribute(null=True)  # header, line
    occurred_at = UnicodeAttribute(null=True)  # header, line
    account = UnicodeAttribute(null=True)  # line only: keeps the index to lines
    amount_fen = NumberAttribute(null=True)  # line
    balance = NumberAttribute(null=True)  # an old balance item's (never written now; ignored)
    line_at = UnicodeAttribute(null=True)  # posting: its lines' time-ordered key in the slot indexes
    account_a = UnicodeAttribute(null=True)  # posting: its first line
    amount_a = NumberAttribute(null=True)
    account_b = UnicodeAttribute(null=True)  # posting: its second line
    amount_b = NumberAttribute(null=True)
    unlisted_a = UnicodeAttribute(null=True)  # posting: its first line's account when no one reads it by account
    unlisted_b = UnicodeAttribute(null=True)  # (no index entry; module docstring)
    by_account = LinesByAccount()
    by_account_a = FirstLines()
    by_account_b = SecondLines()

    def slot_lines(self) -> list[tuple[str, int]]:
        """(account, amount) of the lines this posting item carries (none for one stored before issue 10)."""
        slots = ((self.account_a or self.unlisted_a, self.amount_a), (self.account_b or self.unlisted_b, self.amount_b))
        return [(a, int(n)) for a, n in slots if a]


def _header(p: Posting) -> LedgerItem:
    first, second = p.entries[0], p.entries[1]  # a posting has at least two entries
    return LedgerItem(
        pk=posting_key(p.posting_id),
        sk=HEADER,
        doc=p.model_dump(mode="json"),
        posting_id=p.posting_id,
        kind=p.kind.value,
        occurred_at=p.occurred_at.isoformat(),
        line_at=line_at(p),
        amount_a=first.amount_fen,
        amount_b=second.amount_fen,
        **{f"{'account' if Account.read_by_account(e.account) else 'unlisted'}_{slot}": e.account
           for slot, e in (("a", first), ("b", second))},
    )


def _line(p: Posting, e: Entry) -> LedgerItem:
    return LedgerItem(
        pk=posting_key(p.posting_id),
        sk=line_key(p, e.account),
        posting_id=p.posting_id,
        kind=p.kind.value,
        occurred_at=p.occurred_at.isoformat(),
        account=e.account,
        amount_fen=e.amount_fen,
    )


def transaction_conflict(exc: TransactWriteError) -> bool:
    """True if the transaction lost to a concurrent one on the same item: nothing was written, retry."""
    return any(r is not None and r.code == "TransactionConflict" for r in exc.cancellation_reasons or [])


class LedgerStore:
    # Writing
    def stage(self, tx: TransactWrite, *postings: Posting) -> None:
        """Add ``postings`` to the caller's transaction, so that they are stored together with the
        caller's own conditional writes or not at all. ``already_posted`` reads a cancellation.
        Items: 1 per posting (its first two lines inside), 1 per entry after the second; no balance
        items (balances are derived from the lines)."""
        ids = [p.posting_id for p in postings]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a posting id is staged twice in one transaction", code="duplicate_posting")
        for p in postings:
            tx.save(_header(p), condition=LedgerItem.pk.does_not_exist(), return_values=ALL_OLD)
            for e in p.entries[SLOTS:]:
                tx.save(_line(p, e))

    @staticmethod
    def already_posted(exc: TransactWriteError) -> set[str]:
        """The staged posting ids that were cancelled because they are stored already (the header's
        condition failed; DynamoDB returns the existing header, whatever its position in the transaction)."""
        found = set()
        for r in exc.cancellation_reasons or []:
            item = r.raw_item if r is not None and r.code == "ConditionalCheckFailed" else None
            if item and item.get("sk", {}).get("S") == HEADER:
                found.add(item["pk"]["S"].removeprefix("POSTING#"))
        return found

    def post(self, posting: Posting) -> bool:
        """Store ``posting`` on its own. False if its id is stored already (nothing written); Conflict if
        that stored posting moves different money (an id reused by mistake). A posting of two entries is one
        item, put if absent (half the write units of a transaction, plus its two index slots); one of more
        entries goes with its line items in a transaction of its own."""
        if len(posting.entries) <= SLOTS:
            if save_if(_header(posting), LedgerItem.pk.does_not_exist()):
                return True
            self._require_same(posting)
            return False
        for attempt in range(_ATTEMPTS):
            try:
                with TransactWrite(connection=transaction_connection()) as tx:
                    self.stage(tx, posting)
                return True
            except TransactWriteError as exc:
                if failed_conditions(exc):  # the header is the only conditional item
                    self._require_same(posting)
                    return False
                if not transaction_conflict(exc) or attempt == _ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    def _require_same(self, posting: Posting) -> None:
        stored = self.get(posting.posting_id)
        if stored is None or (stored.kind, set(stored.entries)) != (posting.kind, set(posting.entries)):
            raise Conflict(f"posting id {posting.posting_id} is stored with other entries", code="posting_id_reused")

    # Reading
    def get(self, posting_id: str) -> Posting | None:
        try:
            return Posting.model_validate(LedgerItem.get(posting_key(posting_id), HEADER, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def balance(self, account: str) -> int:
        """The sum of the account's lines, read from the indexes (eventually consistent; its cost grows
        with the account's lines: see the module docstring for who may call it)."""
        return sum(line.amount_fen for _, line in account_lines(account, LINE, None))

    def lines(self, account: str, since: datetime | None = None) -> list[Line]:
        """An account's lines in time order (the indexes are eventually consistent)."""
        return [line for _, line in account_lines(account, f"{LINE}{_utc(since)}" if since else LINE, None)]

    def scan_postings(self) -> Iterator[Posting]:
        for item in LedgerItem.scan(LedgerItem.sk == HEADER, consistent_read=True):
            yield Posting.model_validate(item.doc)

    # Checking
    def check(self) -> list[str]:
        """Problems in the stored ledger; empty: every posting sums to zero, its lines match it, and the
        balances its lines add up to (what ``balance`` derives) are the sums of the postings' entries. One
        consistent scan: exact while no one posts; on a live ledger re-run it before trusting a finding
        about an account that was just posted to. Old balance items are skipped (module docstring)."""
        problems: list[str] = []
        postings: list[Posting] = []
        derived: dict[str, int] = {}
        lines: dict[str, set[tuple[str, int]]] = {}
        for item in LedgerItem.scan(consistent_read=True):
            if item.sk == HEADER:
                postings.append(_lenient(item, problems))
                if item.slot_lines():  # its first two lines, stored apart from its document
                    lines.setdefault(item.pk.removeprefix("POSTING#"), set()).update(item.slot_lines())
            elif item.sk == BALANCE:
                continue  # written before balances were derived: the lines hold what it summed
            elif item.sk.startswith(LINE):
                pid = item.pk.removeprefix("POSTING#")
                lines.setdefault(pid, set()).add((item.account, int(item.amount_fen or 0)))
            else:
                problems.append(f"unexpected item {item.pk} / {item.sk}")
        for account, amount in (line for found in lines.values() for line in found):
            derived[account] = derived.get(account, 0) + amount
        for p in postings:
            if lines.pop(p.posting_id, set()) != {(e.account, e.amount_fen) for e in p.entries}:
                problems.append(f"posting {p.posting_id}: its lines differ from its entries")
        problems += [f"lines of {pid} have no posting" for pid in sorted(lines)]
        return problems + model.check(postings, derived)


def account_lines(account: str, low: str, high: str | None) -> list[tuple[LedgerItem, Line]]:
    """The account's lines with keys from ``low`` (``LINE#<utc>``) up to ``high`` inclusive (None: all), in
    time order, each with the item it came from: the postings' two slots (two indexes) and the line items
    (postings stored before issue 10, entries after the second), merged."""
    found: list[tuple[str, LedgerItem, Line]] = []

    def cond(key):
        return key.between(low, high) if high is not None else (key >= low if low != LINE else key.startswith(LINE))

    for item in LedgerItem.by_account.query(account, range_key_condition=cond(LinesByAccount.sk)):
        key = item.sk.rsplit("#", 1)[0]  # LINE#<utc>#<posting id>, as the slots' line_at
        found.append((key, item, _line_of(item, account, int(item.amount_fen))))
    slots = ((LedgerItem.by_account_a, FirstLines.line_at, "amount_a"), (LedgerItem.by_account_b, SecondLines.line_at, "amount_b"))
    for index, key_attr, amount in slots:  # an unlisted account's postings stored before session 7 are here too
        for item in index.query(account, range_key_condition=cond(key_attr)):
            found.append((item.line_at, item, _line_of(item, account, int(getattr(item, amount)))))
    if not Account.read_by_account(account):  # its slots have no index entry (module docstring): a scan, for audits and tests only
        for item in LedgerItem.scan((LedgerItem.unlisted_a == account) | (LedgerItem.unlisted_b == account)):
            if item.line_at >= low and (high is None or item.line_at <= high):
                amount = item.amount_a if item.unlisted_a == account else item.amount_b
                found.append((item.line_at, item, _line_of(item, account, int(amount))))
    found.sort(key=lambda f: f[0])
    return [(item, line) for _, item, line in found]


def _line_of(item: LedgerItem, account: str, amount_fen: int) -> Line:
    return Line(
        posting_id=item.posting_id, kind=PostingKind(item.kind), account=account, amount_fen=amount_fen,
        occurred_at=datetime.fromisoformat(item.occurred_at),
    )  # fmt: skip


def _lenient(item: LedgerItem, problems: list[str]) -> Posting:
    """The stored posting; if it no longer validates, a problem and its raw entries, so sums still count."""
    try:
        return Posting.model_validate(item.doc)
    except (DomainError, ValidationError) as exc:
        pid = item.pk.removeprefix("POSTING#")
        problems.append(f"posting {pid}: stored document is invalid ({exc})")
        raw = (item.doc or {}).get("entries") or []
        entries = tuple(
            Entry.model_construct(account=str(e.get("account")), amount_fen=e.get("amount_fen"))
            for e in raw
            if isinstance(e, dict) and type(e.get("amount_fen")) is int
        )
        return Posting.model_construct(posting_id=pid, entries=entries)
