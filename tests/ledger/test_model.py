"""The pure ledger: postings balance or are refused, balances are sums, the check finds what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.ledger.model import Account, AccountKind, Entry, Posting, PostingKind, balances, check

AT = datetime(2025, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
PLATE, OP, PROVIDER, DISTRICT = "苏B12345", "wx-city-parking", "wechat_pay", "320213"


def _raw(*amounts: object, accounts: tuple[str, ...] | None = None) -> Posting:
    accounts = accounts or tuple(Account.receivable(f"苏B0000{i}") for i in range(len(amounts)))
    entries = [{"account": a, "amount_fen": x} for a, x in zip(accounts, amounts, strict=True)]
    return Posting(posting_id="p1", kind=PostingKind.CHARGE, entries=entries, occurred_at=AT)


def _refused(reason: str, make) -> None:
    with pytest.raises(InvalidInput) as info:
        make()
    assert info.value.code == "unbalanced_posting"
    assert info.value.details["reason"] == reason


def test_a_balanced_posting_is_accepted():
    p = _raw(500, -300, -200)
    assert p.amount_fen == 500 and sum(e.amount_fen for e in p.entries) == 0


def test_unbalanced_float_bool_zero_and_repeated_accounts_are_refused():
    _refused("sum", lambda: _raw(500, -499))
    _refused("not_integer", lambda: _raw(1.5, -1.5))
    _refused("not_integer", lambda: _raw(500.0, -500))
    _refused("not_integer", lambda: _raw(True, -1))
    _refused("not_integer", lambda: _raw("500", -500))
    _refused("amount", lambda: _raw(0, 0))
    _refused("entries", lambda: _raw())
    _refused("duplicate_account", lambda: _raw(5, -5, accounts=(Account.receivable(PLATE),) * 2))
    _refused("not_integer", lambda: Entry(account=Account.receivable(PLATE), amount_fen=0.5))


def test_naive_times_and_unknown_accounts_are_refused():
    with pytest.raises(ValueError):
        Posting.charge("c1", PLATE, OP, 100, datetime(2025, 3, 1, 8, 30))
    for bad in ("cash:drawer", "receivable", "receivable:", "platform_fee:x", ""):
        with pytest.raises(InvalidInput) as info:
            Entry(account=bad, amount_fen=1)
        assert info.value.code == "invalid_account"


HELPERS = {
    "charge": (Posting.charge, (PLATE, OP), Account.receivable(PLATE), Account.operator_revenue(OP)),
    "discount": (Posting.discount, (PLATE, OP), Account.operator_discounts(OP), Account.receivable(PLATE)),
    "payment": (Posting.payment, (PLATE, PROVIDER), Account.provider_clearing(PROVIDER), Account.receivable(PLATE)),
    "refund": (Posting.refund, (PLATE, PROVIDER), Account.receivable(PLATE), Account.provider_clearing(PROVIDER)),
    "write_off": (Posting.write_off, (PLATE, DISTRICT), Account.write_off(DISTRICT), Account.receivable(PLATE)),
    "adjustment": (Posting.adjustment, (PLATE, OP), Account.operator_revenue(OP), Account.receivable(PLATE)),
    "platform_fee": (Posting.platform_fee, (OP,), Account.operator_fee_receivable(OP), "platform_fee"),
    "incentive": (
        Posting.incentive,
        (OP, "district-320213"),
        Account.operator_revenue(OP),
        Account.collection_incentive("district-320213"),
    ),
    "settlement": (
        Posting.settlement,
        (OP, PROVIDER),
        Account.operator_revenue(OP),
        Account.provider_clearing(PROVIDER),
    ),
    "district_return": (  # issue 11 (S15)
        Posting.district_return,
        ("320213",),
        Account.platform_fee(),
        Account.district_returns("320213"),
    ),
}


@pytest.mark.parametrize("kind", sorted(HELPERS))
def test_each_helper_debits_and_credits_the_documented_accounts(kind):
    make, args, debit, credit = HELPERS[kind]
    p = make(f"{kind}:1", *args, 1234, AT, {"bill_id": "b1"})
    assert p.kind is PostingKind(kind)
    assert [(e.account, e.amount_fen) for e in p.entries] == [(debit, 1234), (credit, -1234)]
    assert p.refs == {"bill_id": "b1"} and check([p], balances([p])) == []
    for bad in (0, -5, 12.5, True):
        with pytest.raises(InvalidInput):
            make(f"{kind}:2", *args, bad, AT)


def test_every_account_kind_has_a_posting_that_moves_it():
    moved = {Account.kind_of(e.account) for make, args, *_ in HELPERS.values() for e in make("x", *args, 1, AT).entries}
    assert moved == set(AccountKind)


def test_reversal_in_full_and_partial_reinstatement_of_a_write_off():
    wo = Posting.write_off("wo:1", PLATE, DISTRICT, 800, AT, {"bill_id": "b1"})
    full = Posting.reversal("rev:wo:1", wo, AT)
    assert balances([wo, full]) == {Account.write_off(DISTRICT): 0, Account.receivable(PLATE): 0}
    assert full.refs == {"bill_id": "b1", "reverses": "wo:1"}
    part = Posting.reversal("reinstate:1", wo, AT, amount_fen=300)
    assert balances([wo, part]) == {Account.write_off(DISTRICT): 500, Account.receivable(PLATE): -500}
    with pytest.raises(InvalidInput):
        Posting.reversal("reinstate:2", wo, AT, amount_fen=801)


def test_a_drivers_story_nets_out():
    """Charged 1,000, coupon 200, pays 900 (overpays 100), refunded 100: the driver owes nothing."""
    story = [
        Posting.charge("charge:b1", PLATE, OP, 1000, AT),
        Posting.discount("coupon:c1", PLATE, OP, 200, AT),
        Posting.payment("pay:p1", PLATE, PROVIDER, 900, AT),
    ]
    assert balances(story)[Account.receivable(PLATE)] == -100  # the platform owes the driver 100
    story.append(Posting.refund("refund:r1", PLATE, PROVIDER, 100, AT))
    b = balances(story)
    assert b[Account.receivable(PLATE)] == 0
    assert b[Account.operator_revenue(OP)] == -1000 and b[Account.operator_discounts(OP)] == 200
    assert b[Account.provider_clearing(PROVIDER)] == 800
    assert sum(b.values()) == 0


def test_check_finds_wrong_balances_unbalanced_and_repeated_postings():
    ps = [Posting.charge("c1", PLATE, OP, 500, AT), Posting.payment("p1", PLATE, PROVIDER, 500, AT)]
    good = balances(ps)
    assert check(ps, good) == []
    tampered = {**good, Account.provider_clearing(PROVIDER): 499}
    found = check(ps, tampered)
    assert any("provider_clearing:wechat_pay" in p for p in found) and any("sum to -1" in p for p in found)
    assert any("appears twice" in p for p in check([*ps, ps[0]], good))
    broken = Posting.model_construct(posting_id="x", entries=(Entry.model_construct(account="a", amount_fen=3),))
    assert any("x sums to 3" in p for p in check([broken], {"a": 3}))
    assert check([], {Account.platform_fee(): 0}) == []


def test_json_round_trip():
    p = Posting.incentive("inc:1", OP, "collector-7", 50, AT, {"bill_id": "b9"}, "20% of recovered arrears")
    assert Posting.model_validate(p.model_dump(mode="json")) == p


# Property: any sequence of valid postings keeps the books balanced.
_ids = st.sampled_from(["苏B11111", "苏B22222", "wx-op", "xw-op", "wechat_pay", "etc", "320213"])
_amount = st.integers(min_value=1, max_value=10**9)
_helper = st.sampled_from(sorted(HELPERS))


# Strategies built once and drawn inside the composites (built inside a draw, each is built and validated
# again for every posting of every example: most of this property's CPU, for the same data).
_kinds = st.sampled_from([k for k in AccountKind if k is not AccountKind.PLATFORM_FEE])
_accounts = st.lists(st.tuples(_kinds, _ids), min_size=2, max_size=6, unique=True)
_nonzero = st.integers(-(10**6), 10**6).filter(bool)
_amount_lists = {n: st.lists(_nonzero, min_size=n, max_size=n) for n in range(1, 6)}
_posting_kinds = st.sampled_from(PostingKind)


@st.composite
def _posting_drawn(draw):
    """A posting as a function of its number ``n`` (its id and time): what is drawn does not depend on ``n``."""
    if draw(st.booleans()):
        make, args, *_ = HELPERS[draw(_helper)]
        args = tuple(draw(_ids) for _ in args)
        amount = draw(_amount)
        return lambda n: make(f"p{n}", *args, amount, AT + timedelta(minutes=n))
    accounts = draw(_accounts)
    amounts = draw(_amount_lists[len(accounts) - 1])
    last = -sum(amounts)
    assume(last != 0)
    entries = [
        Entry(account=f"{k.value}:{i}", amount_fen=a) for (k, i), a in zip(accounts, [*amounts, last], strict=True)
    ]
    kind = draw(_posting_kinds)
    return lambda n: Posting(posting_id=f"p{n}", kind=kind, entries=entries, occurred_at=AT.astimezone(UTC))


_a_posting = _posting_drawn()


@st.composite
def _postings(draw) -> list[Posting]:
    postings: list[Posting] = []
    for n in range(draw(st.integers(0, 30))):
        if postings and draw(st.integers(0, 4)) == 0:  # now and then undo an earlier one, in full
            postings.append(Posting.reversal(f"p{n}", draw(st.sampled_from(postings)), AT))
        else:
            postings.append(draw(_a_posting)(n))
    return postings


@settings(max_examples=200, deadline=None)
@given(_postings())
def test_any_sequence_of_valid_postings_balances_to_zero(postings):
    b = balances(postings)
    assert sum(b.values()) == 0
    assert check(postings, b) == []
    assert all(sum(e.amount_fen for e in p.entries) == 0 for p in postings)
