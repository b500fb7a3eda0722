"""Accounts, postings and the soundness check of the double-entry ledger. Pure: no I/O.

Money is integer fen. Sign convention: a debit is positive, a credit negative, and every posting sums
to exactly zero, so the balances of all accounts together are always zero. An account's balance is the
sum of its entries: positive is a debit balance, negative a credit balance.

Accounts are strings ``<kind>`` or ``<kind>:<id>``, built by ``Account`` (``shared.ledger.accounts``):

=================================  =========================================================================
``receivable:<plate>``             What a driver owes. Negative: the platform owes the driver (an
                                   overpayment or an adjustment after payment) until refunded.
``operator_revenue:<op>``          What the operator earned from parking (credit); debited by disputes,
                                   incentives and settlement of the collected money to the operator.
``operator_discounts:<op>``        Coupons the operator funds (debit): contra-revenue, kept visible.
``provider_clearing:<provider>``   Money collected at a provider (WeChat Pay, Alipay, ETC issuer, ...) not
                                   yet settled to the operator's account.
``write_off:<district>``           Arrears given up as uncollectable (debit), per district.
``collection_incentive:<party>``   Incentives owed to whoever collected arrears (credit).
``operator_fee_receivable:<op>``   The semi-annual platform service fee the operator owes (debit).
``platform_fee``                   The platform's fee income (credit). Fees never touch parking accounts (S10).
``district_returns:<district>``    The districts' share of the platform's returns, owed to them (credit, S15).
=================================  =========================================================================

Standard postings (``Posting`` helpers; ``amount_fen`` > 0):

==============  ===============================  ===================================
kind            debit                            credit
==============  ===============================  ===================================
charge          receivable:<plate>               operator_revenue:<op>
discount        operator_discounts:<op>          receivable:<plate>
payment         provider_clearing:<provider>     receivable:<plate>
refund          receivable:<plate>               provider_clearing:<provider>
write_off       write_off:<district>             receivable:<plate>
adjustment      operator_revenue:<op>            receivable:<plate>
platform_fee    operator_fee_receivable:<op>     platform_fee
incentive       operator_revenue:<op>            collection_incentive:<party>
settlement      operator_revenue:<op>            provider_clearing:<provider>
district_return platform_fee                     district_returns:<district>
reversal        the original's entries negated (in full, or part of a two-entry posting)
==============  ===============================  ===================================

``settlement`` (added to the brief's list) records the provider paying the collected money out to the
operator, so ``provider_clearing`` drains instead of growing forever. Arrears paid after a write-off are
first reinstated with a partial ``reversal`` of the write-off (Dr receivable / Cr write_off), then paid as
usual: a plain payment would otherwise show the driver as overpaid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.errors import InvalidInput
from shared.ledger.accounts import Account, AccountKind

__all__ = ["Account", "AccountKind", "Entry", "Line", "Posting", "PostingKind", "balances", "check"]


Refs = Mapping[str, str] | None  # what caused a posting: bill_id, session_id, payment_id, lot_id, ...


MAX_ENTRIES = 16  # a stored posting is at most 1 + entries transaction items; DynamoDB allows 100 in all


class PostingKind(str, Enum):
    CHARGE = "charge"
    DISCOUNT = "discount"
    PAYMENT = "payment"
    REFUND = "refund"
    WRITE_OFF = "write_off"
    ADJUSTMENT = "adjustment"
    PLATFORM_FEE = "platform_fee"
    INCENTIVE = "incentive"
    SETTLEMENT = "settlement"
    REVERSAL = "reversal"
    DISTRICT_RETURN = "district_return"  # issue 11 (S15)


def _unbalanced(message: str, reason: str) -> InvalidInput:
    return InvalidInput(message, code="unbalanced_posting", reason=reason)


def _fen(value: object, *, positive: bool = False) -> int:
    if type(value) is not int:  # bool is an int subclass, a float is never money
        raise _unbalanced(f"amount must be integer fen, got {value!r}", "not_integer")
    if value == 0 or (positive and value < 0):
        raise _unbalanced(f"amount must be {'positive' if positive else 'nonzero'}, got {value}", "amount")
    return value


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str
    amount_fen: int  # debit > 0, credit < 0

    @field_validator("account")
    @classmethod
    def _known(cls, account: str) -> str:
        Account.kind_of(account)
        return account

    @field_validator("amount_fen", mode="before")
    @classmethod
    def _integer(cls, value: object) -> int:
        return _fen(value)


class Posting(BaseModel):
    """One balanced movement. ``posting_id`` is chosen by the caller from what caused it (``pay:<payment
    id>``): storing it is conditional on the id being new, which makes the movement exactly-once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    posting_id: str = Field(min_length=1, max_length=200)
    kind: PostingKind
    entries: tuple[Entry, ...]
    occurred_at: AwareDatetime
    refs: dict[str, str] = Field(default_factory=dict)  # bill_id, session_id, payment_id, lot_id, ...
    memo: str = ""

    @model_validator(mode="after")
    def _balanced(self) -> Posting:
        if not 2 <= len(self.entries) <= MAX_ENTRIES:
            raise _unbalanced(f"a posting has 2..{MAX_ENTRIES} entries, not {len(self.entries)}", "entries")
        if len({e.account for e in self.entries}) != len(self.entries):
            raise _unbalanced("an account appears more than once", "duplicate_account")
        total = sum(e.amount_fen for e in self.entries)
        if total != 0:
            raise _unbalanced(f"posting {self.posting_id} sums to {total} fen, not 0", "sum")
        return self

    @property
    def amount_fen(self) -> int:
        """The size of the movement: the sum of its debits."""
        return sum(e.amount_fen for e in self.entries if e.amount_fen > 0)

    @classmethod
    def transfer(
        cls,
        kind: PostingKind,
        posting_id: str,
        debit: str,
        credit: str,
        amount_fen: int,
        at: datetime,
        refs: Refs = None,
        memo: str = "",
    ) -> Posting:
        """A two-entry posting moving ``amount_fen`` (> 0) from ``credit`` to ``debit``."""
        amount = _fen(amount_fen, positive=True)
        entries = (Entry(account=debit, amount_fen=amount), Entry(account=credit, amount_fen=-amount))
        return cls(posting_id=posting_id, kind=kind, entries=entries, occurred_at=at, refs=dict(refs or {}), memo=memo)

    @classmethod
    def charge(
        cls, posting_id: str, plate: str, operator_id: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The driver owes what the stay cost; the operator earned it."""
        dr, cr = Account.receivable(plate), Account.operator_revenue(operator_id)
        return cls.transfer(PostingKind.CHARGE, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def discount(
        cls, posting_id: str, plate: str, operator_id: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """A coupon the operator funds lowers what the driver owes."""
        dr, cr = Account.operator_discounts(operator_id), Account.receivable(plate)
        return cls.transfer(PostingKind.DISCOUNT, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def payment(
        cls, posting_id: str, plate: str, provider: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The driver paid; the money sits at the provider."""
        dr, cr = Account.provider_clearing(provider), Account.receivable(plate)
        return cls.transfer(PostingKind.PAYMENT, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def refund(
        cls, posting_id: str, plate: str, provider: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """Money goes back to the driver through the provider."""
        dr, cr = Account.receivable(plate), Account.provider_clearing(provider)
        return cls.transfer(PostingKind.REFUND, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def write_off(
        cls, posting_id: str, plate: str, district: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """Arrears given up as uncollectable."""
        dr, cr = Account.write_off(district), Account.receivable(plate)
        return cls.transfer(PostingKind.WRITE_OFF, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def adjustment(
        cls, posting_id: str, plate: str, operator_id: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """A dispute upheld: the operator earned less, the driver owes less."""
        dr, cr = Account.operator_revenue(operator_id), Account.receivable(plate)
        return cls.transfer(PostingKind.ADJUSTMENT, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def platform_fee(
        cls, posting_id: str, operator_id: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The semi-annual service fee, apart from parking money (S10)."""
        dr, cr = Account.operator_fee_receivable(operator_id), Account.platform_fee()
        return cls.transfer(PostingKind.PLATFORM_FEE, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def district_return(
        cls, posting_id: str, district: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The districts' share of the platform's returns (S15): out of the platform's fee account, owed to
        the district."""
        dr, cr = Account.platform_fee(), Account.district_returns(district)
        return cls.transfer(PostingKind.DISTRICT_RETURN, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def incentive(
        cls, posting_id: str, operator_id: str, party: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The operator rewards whoever collected its arrears."""
        dr, cr = Account.operator_revenue(operator_id), Account.collection_incentive(party)
        return cls.transfer(PostingKind.INCENTIVE, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def settlement(
        cls, posting_id: str, operator_id: str, provider: str, amount_fen: int, at: datetime, refs: Refs = None, memo=""
    ) -> Posting:
        """The provider paid collected money out to the operator's account."""
        dr, cr = Account.operator_revenue(operator_id), Account.provider_clearing(provider)
        return cls.transfer(PostingKind.SETTLEMENT, posting_id, dr, cr, amount_fen, at, refs, memo)

    @classmethod
    def reversal(
        cls, posting_id: str, original: Posting, at: datetime, amount_fen: int | None = None, memo: str = ""
    ) -> Posting:
        """Undo ``original``: in full, or ``amount_fen`` of a two-entry posting (e.g. reinstating part of a
        written-off debt). Postings are never edited or deleted; a mistake is reversed."""
        refs = {**original.refs, "reverses": original.posting_id}
        if amount_fen is None:
            entries = tuple(Entry(account=e.account, amount_fen=-e.amount_fen) for e in original.entries)
            kind = PostingKind.REVERSAL
            return cls(posting_id=posting_id, kind=kind, entries=entries, occurred_at=at, refs=refs, memo=memo)
        if len(original.entries) != 2 or _fen(amount_fen, positive=True) > original.amount_fen:
            raise _unbalanced("a partial reversal needs a two-entry original and at most its amount", "amount")
        was_credit, was_debit = sorted(original.entries, key=lambda e: e.amount_fen)
        dr, cr = was_credit.account, was_debit.account
        return cls.transfer(PostingKind.REVERSAL, posting_id, dr, cr, amount_fen, at, refs, memo)


@dataclass(frozen=True)
class Line:
    """One entry as listed for its account, in time order."""

    posting_id: str
    kind: PostingKind
    account: str
    amount_fen: int
    occurred_at: datetime


def balances(postings: Iterable[Posting]) -> dict[str, int]:
    """Each touched account's balance: the sum of its entries."""
    out: dict[str, int] = {}
    for p in postings:
        for e in p.entries:
            out[e.account] = out.get(e.account, 0) + e.amount_fen
    return out


def check(postings: Iterable[Posting], stored: Mapping[str, int]) -> list[str]:
    """Problems found comparing ``postings`` with the ``stored`` balances; empty: the ledger is sound.

    ``stored`` is what the store answers as balances: since issue 10 the sums of the lines it keeps per
    account, read apart from the postings' documents (no store keeps a balance of its own any more).
    Sums are recomputed, not trusted: the store hands over postings read back from storage, built
    without validation when a stored one no longer passes it (tampering, a bug in an older version)."""
    problems: list[str] = []
    seen: set[str] = set()
    kept: list[Posting] = []
    for p in postings:
        if p.posting_id in seen:
            problems.append(f"posting {p.posting_id} appears twice")
            continue
        seen.add(p.posting_id)
        kept.append(p)
        total = sum(e.amount_fen for e in p.entries)
        if total != 0:
            problems.append(f"posting {p.posting_id} sums to {total} fen, not 0")
    computed = balances(kept)
    for account in sorted(computed.keys() | stored.keys()):
        want, have = computed.get(account, 0), stored.get(account, 0)
        if want != have:
            problems.append(f"account {account}: balance {have} fen from its lines, its entries sum to {want}")
    if (total := sum(stored.values())) != 0:
        problems.append(f"the balances sum to {total} fen, not 0")
    return problems
