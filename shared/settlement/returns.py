"""District returns (S15): the platform shares its returns with the districts.

The platform's returns are the service fees it bills (S10, ``PlatformFeeService``). For each half year, a
configured share (basis points, with effective dates: ``TONGTING_DISTRICT_RETURN_RATES``) of the fees billed
to a district's operators is owed back to that district: one balanced posting ``return:<district>:<half>``
(Dr ``platform_fee`` / Cr ``district_returns:<district>``), stored once, so a re-run or a retry after a crash
posts nothing twice. A half is shared only once every government operator's fee of it is billed: sharing a
partial half would leave the rest unshared for ever. Tests: ``tests/governance/test_district_returns.py``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

from pydantic import TypeAdapter

from shared import access
from shared.auth import Principal, Role
from shared.clock import Clock, iso
from shared.ledger.accounts import Account
from shared.ledger.model import Posting
from shared.settlement import model
from shared.settlement.model import FeeRate
from shared.settlement.ports import PostingReader, StatementStore

DEFAULT_RATES = '[{"effective_from": "2026-01-01", "basis_points": 3000}]'


def return_rates(raw: str | None = None) -> list[FeeRate]:
    """``TONGTING_DISTRICT_RETURN_RATES``, e.g. ``[{"effective_from": "2026-01-01", "basis_points": 3000}]``."""
    return TypeAdapter(list[FeeRate]).validate_python(json.loads(raw or os.environ.get("TONGTING_DISTRICT_RETURN_RATES", DEFAULT_RATES)))


def posting_id(district: str, half: str) -> str:
    return f"return:{district}:{half}"


class DistrictReturns:
    def __init__(self, store: StatementStore, ledger: PostingReader, rates: list[FeeRate], clock: Clock) -> None:
        self._store, self._ledger, self._rates, self._clock = store, ledger, rates, clock

    def compute(self, half: str) -> dict:
        """Per district: the fees billed to its operators in ``half`` and the district's share (rounded half up)."""
        first, _ = model.half_of(half)
        bp = model.rate_on(self._rates, first)
        fees: dict[str, int] = defaultdict(int)
        for fee in self._store.list_fees():
            if fee.half == half:
                fees[fee.district_code] += fee.fee_fen
        return {"half": half, "basis_points": bp, "districts": {
            d: {"fees_fen": f, "share_fen": (f * bp + 5_000) // 10_000} for d, f in sorted(fees.items())}}

    def share_half(self, half: str, fee_summary: dict | None = None) -> dict:
        """Post each district's share of ``half`` once; waits while the fee billing has missing days."""
        if fee_summary is not None and fee_summary.get("missing_days"):
            return {"half": half, "waiting_for_fees": sorted(fee_summary["missing_days"])}
        shares = self.compute(half)
        for district, row in shares["districts"].items():
            if row["share_fen"] <= 0:
                row["posted"] = False
                continue
            row["posted"] = self._ledger.post(Posting.district_return(
                posting_id(district, half), district, row["share_fen"], self._clock.now(),
                refs={"half": half, "basis_points": str(shares["basis_points"]), "fees_fen": str(row["fees_fen"])},
                memo=f"district return {half}"))
        return shares

    def report(self, principal: Principal, district: str | None = None) -> dict:
        """What the platform owes each district (city staff and auditors all, district staff their own)."""
        access.require_role(principal, Role.CITY_ADMIN, Role.AUDITOR, *access.DISTRICT_ROLES, what="district returns")
        scope = access.district_scope(principal, district)
        fees = self._store.list_fees()
        districts = [scope] if scope else sorted({f.district_code for f in fees})
        halves = sorted({f.half for f in fees})
        out = {}
        for d in districts:
            per_half = {h: self.compute(h)["districts"].get(d) for h in halves}
            out[d] = {"balance_fen": -self._ledger.balance(Account.district_returns(d)),
                      "halves": {h: row for h, row in per_half.items() if row}}
        return {"as_of": iso(self._clock.now()), "districts": out}
