"""District returns (S15) on memory: each district's configured share of the platform fees its operators were
billed in a half year, posted once (balanced), waiting while fees are missing; scoped reports."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.adapters.memory.ledger import Ledger
from shared.adapters.memory.governance import LedgerReader
from shared.adapters.memory.settlement import MemoryStatements
from shared.auth import Principal, Role
from shared.clock import SHANGHAI, ManualClock
from shared.errors import Forbidden
from shared.ledger.model import Posting
from shared.settlement.model import FeeStatement
from shared.settlement.returns import DistrictReturns, return_rates


def _fee(op, district, half, fen):
    return FeeStatement(fee_id=f"fee_{op}_{half}", operator_id=op, district_code=district, half=half, revenue_fen=fen * 33,
                        fee_fen=fen, rates=[], days_settled=181, posting_id=f"fee:{op}:{half}",
                        issued_at=datetime(2026, 7, 2, 4, tzinfo=SHANGHAI))


@pytest.fixture
def world():
    ledger, store = Ledger(), MemoryStatements()
    for op, district, fen in (("op-a", "320213", 10_001), ("op-b", "320213", 5_000), ("op-c", "320214", 7_777)):
        store.issue_fee(_fee(op, district, "2026H1", fen))
        ledger.post(Posting.platform_fee(f"fee:{op}:2026H1", op, fen, datetime(2026, 7, 2, 4, tzinfo=SHANGHAI)))
    clock = ManualClock(datetime(2026, 7, 2, 4, 0, tzinfo=SHANGHAI))
    rates = return_rates('[{"effective_from": "2026-01-01", "basis_points": 2500}, {"effective_from": "2026-07-01", "basis_points": 4000}]')
    return ledger, DistrictReturns(store, LedgerReader(ledger), rates, clock)


def test_each_district_gets_its_share_once_and_the_books_balance(world):
    ledger, returns = world
    assert returns.share_half("2026H1", {"missing_days": {"op-d": 3}}) == {"half": "2026H1", "waiting_for_fees": ["op-d"]}
    assert ledger.balance("district_returns:320213") == 0
    out = returns.share_half("2026H1", {"missing_days": {}})
    assert out["basis_points"] == 2500  # the rate in effect when the half began, not the July one
    assert out["districts"] == {"320213": {"fees_fen": 15_001, "share_fen": 3_750, "posted": True},
                                "320214": {"fees_fen": 7_777, "share_fen": 1_944, "posted": True}}
    again = returns.share_half("2026H1")
    assert all(not row["posted"] for row in again["districts"].values())  # re-run: nothing posted twice
    assert ledger.balance("district_returns:320213") == -3_750 and ledger.balance("district_returns:320214") == -1_944
    assert ledger.balance("platform_fee") == -(15_001 + 7_777 - 3_750 - 1_944)
    assert ledger.check() == []


def test_reports_are_scoped(world):
    ledger, returns = world
    returns.share_half("2026H1")
    lx = Principal(subject="lx", role=Role.DISTRICT_ADMIN, district_code="320213")
    assert set(returns.report(lx)["districts"]) == {"320213"}
    assert returns.report(lx)["districts"]["320213"]["balance_fen"] == 3_750
    city = Principal(subject="aud", role=Role.AUDITOR)
    assert set(returns.report(city)["districts"]) == {"320213", "320214"}
    with pytest.raises(Forbidden):
        returns.report(lx, "320214")
    with pytest.raises(Forbidden):
        returns.report(Principal(subject="o", role=Role.OPERATOR, operator_id="op-a"))


def test_a_crash_between_districts_is_completed_by_the_retry(world):
    ledger, returns = world
    view = returns._ledger
    real, calls = view.post, []

    def dies_on_the_second(posting):
        calls.append(posting.posting_id)
        if len(calls) == 2:
            raise RuntimeError("Lambda died between two districts")
        return real(posting)

    view.post = dies_on_the_second
    with pytest.raises(RuntimeError):
        returns.share_half("2026H1")
    assert ledger.balance("district_returns:320213") == -3_750 and ledger.balance("district_returns:320214") == 0
    view.post = real
    retry = returns.share_half("2026H1")
    assert {d: row["posted"] for d, row in retry["districts"].items()} == {"320213": False, "320214": True}
    assert ledger.balance("district_returns:320214") == -1_944 and ledger.check() == []
