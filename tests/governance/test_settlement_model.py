"""Settlement over in-memory ports: figures, the ledger check, immutability, late events as next-day
adjustments, re-runs, a crash half-way then a retry, access by role, CSV with a BOM."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from shared.adapters.memory.settlement import MemoryLedger, MemoryOwners, MemoryStatements
from shared.auth import Principal, Role
from shared.clock import SHANGHAI, ManualClock
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.ledger.model import Posting
from shared.settlement.model import FeeRate, to_csv
from shared.settlement.service import PlatformFeeService, SettlementService

D = date(2026, 11, 23)
LX, XW = "320213", "320214"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def refs(n: int, lot: str = "lot-a") -> dict:
    return {"bill_id": f"bill-{n}", "session_id": f"s-{n}", "lot_id": lot}


def session_postings(n: int, day: date, op: str = "op-a", lot: str = "lot-a", fen: int = 1000, channel="wechat_pay"):
    """A charge and its payment (and, for every third session, a coupon)."""
    out = [Posting.charge(f"charge:{n}", f"苏B{n:05d}", op, fen, at(day, 9), refs(n, lot))]
    paid = fen
    if n % 3 == 0:
        out.append(Posting.discount(f"disc:{n}", f"苏B{n:05d}", op, 200, at(day, 10), refs(n, lot)))
        paid -= 200
    out.append(Posting.payment(f"pay:{n}", f"苏B{n:05d}", "sandbox", paid, at(day, 11), {**refs(n, lot), "channel": channel}))
    return out


@pytest.fixture
def world():
    clock = ManualClock(at(D + timedelta(days=1), 3, 30))
    ledger = MemoryLedger()
    owners = MemoryOwners({"op-a": (LX, "government"), "op-b": (XW, "social")}, {"lot-a": "op-a", "lot-b": "op-b"},
                          {f"bill-{n}": "lot-a" for n in range(100)})
    store = MemoryStatements()
    svc = SettlementService(ledger, owners, store, clock, providers=["sandbox"])
    return clock, ledger, store, svc


def test_statement_figures_agree_with_the_ledger(world):
    clock, ledger, store, svc = world
    for n in range(1, 7):
        for p in session_postings(n, D, channel="alipay" if n % 2 else "wechat_pay"):
            ledger.post(p)
    ledger.post(Posting.charge("charge:7", "苏B00007", "op-a", 500, at(D, 22), refs(7)))  # unpaid: receivable
    ledger.post(Posting.charge("charge:b1", "苏E00001", "op-b", 800, at(D, 12), refs(101, "lot-b")))
    ledger.post(Posting.charge("charge:next", "苏B00008", "op-a", 900, at(D + timedelta(days=1), 1), refs(8)))
    assert svc.settle() == {"day": "2026-11-23", "operators": 2, "issued": 2, "already_issued": 0}
    st = store.get("op-a", "2026-11-23")
    assert st.current.sessions == 7 and st.current.gross_billed_fen == 6500
    assert st.current.discounts_fen == 400 and st.current.collected_fen == {"alipay": 2800, "wechat_pay": 2800}
    assert st.closing_receivables_fen == 500  # the unpaid stay, to the fen
    assert st.ledger["operator_revenue:op-a"] == -6500 and st.lots["lot-a"].net_revenue_fen == 6100
    assert svc.check(st) == []
    assert store.get("op-b", "2026-11-23").current.gross_billed_fen == 800


def test_check_finds_a_statement_that_disagrees(world):
    clock, ledger, store, svc = world
    for p in session_postings(1, D):
        ledger.post(p)
    svc.settle()
    st = store.get("op-a", "2026-11-23")
    forged = st.model_copy(update={"ledger": {**st.ledger, "operator_revenue:op-a": -999}})
    problems = svc.check(forged)
    assert any("operator revenue moved 999" in p for p in problems)
    assert any("ledger lines of operator_revenue:op-a sum to -1000" in p for p in problems)


def test_rerun_gives_the_same_statement_and_late_events_go_to_the_next_day(world):
    clock, ledger, store, svc = world
    for p in session_postings(1, D):
        ledger.post(p)
    svc.settle()
    first = store.get("op-a", "2026-11-23")
    # A callback of day D arrives after D was settled; a re-run of D does not rewrite D's statement.
    ledger.post(Posting.charge("charge:2", "苏B00002", "op-a", 700, at(D, 23, 50), refs(2)))
    ledger.post(Posting.payment("pay:2", "苏B00002", "sandbox", 700, at(D, 23, 55), {**refs(2), "channel": "alipay"}))
    assert svc.settle(D)["already_issued"] == 2
    assert store.get("op-a", "2026-11-23") == first
    clock.advance(days=1)
    ledger.post(Posting.charge("charge:3", "苏B00003", "op-a", 300, at(D + timedelta(days=1), 8), refs(3)))
    svc.settle()
    nxt = store.get("op-a", "2026-11-24")
    assert nxt.current.gross_billed_fen == 300
    assert nxt.adjustments.gross_billed_fen == 700 and nxt.adjustments.collected_fen == {"alipay": 700}
    assert nxt.late_days == ["2026-11-23"]
    assert nxt.opening_receivables_fen == first.closing_receivables_fen == 0
    assert nxt.closing_receivables_fen == 300
    assert svc.check(nxt) == [] and svc.check(first) == []
    clock.advance(days=1)
    svc.settle()  # the late postings are covered now: never counted twice
    assert store.get("op-a", "2026-11-25").adjustments.postings == 0


def test_a_crash_half_way_then_a_retry_issues_the_rest_once(world):
    clock, ledger, store, svc = world
    ledger.post(Posting.charge("charge:b1", "苏E00001", "op-b", 800, at(D, 12), refs(101, "lot-b")))
    for p in session_postings(1, D):
        ledger.post(p)
    real, calls = store.issue, []

    def dies_after_first(statement, covered):
        if calls:
            raise RuntimeError("the Lambda died")
        calls.append(statement.operator_id)
        return real(statement, covered)

    store.issue = dies_after_first
    with pytest.raises(RuntimeError):
        svc.settle()
    first = store.get(calls[0], "2026-11-23")
    store.issue = real
    assert svc.settle() == {"day": "2026-11-23", "operators": 2, "issued": 1, "already_issued": 1}
    assert store.get(calls[0], "2026-11-23") == first
    assert store.get("op-b", "2026-11-23").current.gross_billed_fen == 800


def test_a_day_not_over_is_refused(world):
    clock, ledger, store, svc = world
    with pytest.raises(InvalidInput):
        svc.settle(D + timedelta(days=1))


def test_who_may_read_a_statement(world):
    clock, ledger, store, svc = world
    svc.settle()
    sid = "st_op-a_2026-11-23"
    for ok in (Principal(subject="c", role=Role.CITY_ADMIN), Principal(subject="a", role=Role.AUDITOR),
               Principal(subject="d", role=Role.DISTRICT_ADMIN, district_code=LX),
               Principal(subject="o", role=Role.OPERATOR, operator_id="op-a")):
        assert svc.get(ok, sid).operator_id == "op-a"
        assert [s.day for s in svc.list(ok, "op-a", "2026-11-01", "2026-11-30")] == ["2026-11-23"]
    for no in (Principal(subject="d", role=Role.DISTRICT_ADMIN, district_code=XW),
               Principal(subject="o", role=Role.OPERATOR, operator_id="op-b"),
               Principal(subject="z", role=Role.CITIZEN)):
        with pytest.raises(Forbidden):
            svc.get(no, sid)
    with pytest.raises(NotFound):
        svc.get(Principal(subject="c", role=Role.CITY_ADMIN), "st_op-a_2026-01-01")
    operator = Principal(subject="o", role=Role.OPERATOR, operator_id="op-b")
    assert [s.operator_id for s in svc.list(operator, None, "2026-11-01", "2026-11-30")] == ["op-b"]


def test_csv_has_a_bom_and_one_row_per_section_and_channel(world):
    clock, ledger, store, svc = world
    for p in session_postings(1, D, channel="alipay"):
        ledger.post(p)
    svc.settle()
    data = to_csv([store.get("op-a", "2026-11-23")])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["section"], r["channel"]) for r in rows] == [("current", ""), ("current", "alipay"), ("adjustments", "")]
    assert rows[1]["channel_collected_fen"] == "1000" and rows[0]["gross_billed_fen"] == "1000"


# The platform service fee (S10)

def _settle_half(clock, ledger, svc, first: date, days: int, fen_per_day: int):
    for i in range(days):
        day = first + timedelta(days=i)
        ledger.post(Posting.charge(f"charge:h{i}", "苏B00001", "op-a", fen_per_day, at(day, 10), refs(1)))
        ledger.post(Posting.charge(f"charge:hb{i}", "苏E00001", "op-b", fen_per_day, at(day, 10), refs(101, "lot-b")))
        clock.set(at(day + timedelta(days=1), 3, 30))
        svc.settle(day)


def test_fee_billed_once_at_the_rate_of_each_day_into_its_own_account(world):
    clock, ledger, store, svc = world
    rates = [FeeRate(effective_from=date(2026, 1, 1), basis_points=300), FeeRate(effective_from=date(2026, 4, 1), basis_points=500)]
    fees = PlatformFeeService(svc, store, ledger, MemoryOwners({"op-a": (LX, "government"), "op-b": (XW, "social")}, {"lot-a": "op-a", "lot-b": "op-b"}), rates, clock)
    first = date(2026, 1, 1)
    _settle_half(clock, ledger, svc, first, 181, 1001)
    with pytest.raises(InvalidInput):
        clock.set(at(date(2026, 6, 30), 12))
        fees.bill_half("2026H1")  # not over yet
    clock.set(at(date(2026, 7, 2), 4))
    summary = fees.bill_half("2026H1")
    assert summary["billed"] == 1 and summary["not_government"] == 1
    fee = store.get_fee("op-a", "2026H1")
    # Jan-Mar: 90 days at 3 %, Apr-Jun: 91 days at 5 %; rounded once, half up.
    assert fee.revenue_fen == 181 * 1001
    assert fee.fee_fen == (90 * 1001 * 300 + 91 * 1001 * 500 + 5000) // 10000 == 7257
    assert ledger.balance("platform_fee") == -7257 and ledger.balance("operator_fee_receivable:op-a") == 7257
    assert ledger.balance("operator_revenue:op-a") == -181 * 1001  # parking money untouched
    again = fees.bill_half("2026H1")
    assert again["billed"] == 0 and again["already_billed"] == 1
    assert ledger.balance("platform_fee") == -7257
    report = fees.report(Principal(subject="a", role=Role.AUDITOR))
    assert report["platform_fee_balance_fen"] == 7257 and report["operators"] == {"op-a": 7257}
    with pytest.raises(Forbidden):
        fees.report(Principal(subject="o", role=Role.OPERATOR, operator_id="op-a"))


def test_fee_waits_for_a_fully_settled_half_and_a_crash_after_posting_bills_once(world):
    clock, ledger, store, svc = world
    fees = PlatformFeeService(svc, store, ledger, MemoryOwners({"op-a": (LX, "government")}, {"lot-a": "op-a"}),
                              [FeeRate(effective_from=date(2026, 1, 1), basis_points=300)], clock)
    _settle_half(clock, ledger, svc, date(2026, 1, 2), 180, 1000)  # 1 January never settled
    clock.set(at(date(2026, 7, 2), 4))
    assert fees.bill_half("2026H1")["missing_days"] == {"op-a": 1}
    assert ledger.balance("platform_fee") == 0
    svc.settle(date(2026, 1, 1))
    real = store.issue_fee
    store.issue_fee = lambda fee: (_ for _ in ()).throw(RuntimeError("died after posting"))
    with pytest.raises(RuntimeError):
        fees.bill_half("2026H1")
    store.issue_fee = real
    assert fees.bill_half("2026H1")["billed"] == 1
    assert ledger.balance("platform_fee") == -(180 * 1000 * 300 // 10000)


def test_half_labels_are_checked(world):
    clock, ledger, store, svc = world
    fees = PlatformFeeService(svc, store, ledger, MemoryOwners({}, {}), [], clock)
    for bad in ("2026H3", "26H1", "2026h1", "2026-H1"):
        with pytest.raises(InvalidInput):
            fees.bill_half(bad)
