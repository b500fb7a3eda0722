"""A lot's smart-compliance checklist and the rates. Pure: no I/O.

Items (each True/False, a failing one named in ``reasons``):

- ``networked``: devices of the lot have reported to the platform (any device last-seen time);
- ``heartbeats_healthy``: online now and no open ``comms_lost`` anomaly;
- ``unified_pay_code``: the lot accepts the city's unified pay code;
- ``pay_later_offered``: pay-later works at the exit, which needs the unified code and a registered tariff;
- ``tariff_registered``: the lot charges by a registered tariff (收费标准);
- ``occupancy_absolute``: an enclosed lot reports absolute counts (occupancy events); berth zones count
  from berth events, so for them this follows ``networked``.

The target (S14): 100 % of state-owned enclosed lots (ownership government or state_owned) by end of 2026.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

STATE = ("government", "state_owned")
ITEMS = ("networked", "heartbeats_healthy", "unified_pay_code", "pay_later_offered", "tariff_registered", "occupancy_absolute")


@dataclass(frozen=True)
class LotFacts:
    lot_id: str
    district_code: str
    ownership: str
    kind: str  # enclosed | on_street
    devices_seen: int
    online: bool | None
    comms_lost_open: bool
    unified_pay_code: bool
    tariff_registered: bool
    reports_absolute_counts: bool


@dataclass
class LotCompliance:
    lot_id: str
    district_code: str
    ownership: str
    kind: str
    checks: dict[str, bool]
    reasons: list[str] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return all(self.checks.values())


def evaluate(f: LotFacts) -> LotCompliance:
    networked = f.devices_seen > 0
    checks = {
        "networked": networked,
        "heartbeats_healthy": bool(f.online) and not f.comms_lost_open,
        "unified_pay_code": f.unified_pay_code,
        "pay_later_offered": f.unified_pay_code and f.tariff_registered,
        "tariff_registered": f.tariff_registered,
        "occupancy_absolute": f.reports_absolute_counts if f.kind == "enclosed" else networked,
    }
    return LotCompliance(f.lot_id, f.district_code, f.ownership, f.kind, checks, [k for k in ITEMS if not checks[k]])


def _rate(results: list[LotCompliance]) -> dict:
    ok = sum(r.compliant for r in results)
    return {"lots": len(results), "compliant": ok, "rate": round(ok / len(results), 4) if results else None}


def rates(results: Iterable[LotCompliance]) -> dict:
    results = list(results)
    by_district: dict[str, list[LotCompliance]] = {}
    by_ownership: dict[str, list[LotCompliance]] = {}
    for r in results:
        by_district.setdefault(r.district_code, []).append(r)
        by_ownership.setdefault(r.ownership, []).append(r)
    target = [r for r in results if r.ownership in STATE and r.kind == "enclosed"]
    return {
        "overall": _rate(results),
        "by_district": {d: _rate(rs) for d, rs in sorted(by_district.items())},
        "by_ownership": {o: _rate(rs) for o, rs in sorted(by_ownership.items())},
        "target_state_owned_enclosed": {**_rate(target), "target_rate": 1.0,
                                        "met": bool(target) and all(r.compliant for r in target)},
        "failing": [{"lot_id": r.lot_id, "district_code": r.district_code, "ownership": r.ownership, "reasons": r.reasons}
                    for r in results if not r.compliant],
    }
