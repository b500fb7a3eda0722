"""A lot's charging policy, a reported charging session, and what they change on a parking bill. Pure.

While a car charges, and for ``grace_minutes`` after, its parking is free (``mode`` free) or discounted
by ``percent_off``. What that time costs is its marginal price within the stay: the tariff's price to the
end of the covered time minus its price to the start, so free minutes, blocks and daily caps count as the
tariff says and the discount never exceeds what the time cost. A car that stays in the charger bay more
than ``idle_grace_minutes`` after charging ended is reported as idle and, if the policy sets a fee,
charged ``idle_fee_fen_per_hour`` per started hour. Both are lines of the bill's breakdown.

A stay's price still never falls as the stay grows (the bill relies on it): the discount stops growing
when the covered time ends, and an idle fee is added once, when the car left the bay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from shared.registry.model import Identifier


class ChargingMode(str, Enum):
    FREE = "free"
    DISCOUNT = "discount"


class ChargingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot_id: Identifier
    mode: ChargingMode = ChargingMode.FREE
    percent_off: StrictInt | None = Field(None, ge=1, le=100, description="discount: the share of the parking fee taken off.")
    grace_minutes: int = Field(30, ge=0, le=240, description="Parking stays free/discounted this long after charging.")
    idle_grace_minutes: int = Field(15, ge=0, le=240, description="A charged car may stay in the bay this long.")
    idle_fee_fen_per_hour: StrictInt = Field(0, ge=0, le=100_000, description="Per started hour beyond it; 0: reported only.")
    updated_by: str | None = None
    updated_at: AwareDatetime | None = None
    version: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _percent(self) -> ChargingPolicy:
        if (self.mode is ChargingMode.DISCOUNT) != (self.percent_off is not None):
            raise ValueError("a discount policy has percent_off; a free one has none")
        return self


class ChargingRecord(BaseModel):
    """One charging session as the charging operator reported it."""

    lot_id: str
    event_id: str
    plate: str
    charger_id: str
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    bay_left_at: datetime | None = None
    device_id: str
    reported_at: datetime

    def idle_minutes(self, policy: ChargingPolicy) -> int:
        """Whole minutes the car stayed in the bay past the idle grace (0 if unknown or within it)."""
        if self.bay_left_at is None:
            return 0
        idle = self.bay_left_at - (self.ended_at + timedelta(minutes=policy.idle_grace_minutes))
        return max(0, math.ceil(idle.total_seconds() / 60))

    def idle_fee_fen(self, policy: ChargingPolicy) -> int:
        minutes = self.idle_minutes(policy)
        return math.ceil(minutes / 60) * policy.idle_fee_fen_per_hour if minutes else 0


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def adjustments(
    policy: ChargingPolicy, records: list[ChargingRecord], entered_at: datetime, until: datetime,
    price_to: Callable[[datetime], int],
) -> list[dict[str, Any]]:  # fmt: skip
    """The breakdown lines charging adds to a stay from ``entered_at`` to ``until``; ``price_to(t)`` is the
    tariff's price of the stay from ``entered_at`` to ``t``. Discount lines are negative."""
    grace = timedelta(minutes=policy.grace_minutes)
    covered = _merged([
        (max(r.started_at, entered_at), min(r.ended_at + grace, until))
        for r in records if max(r.started_at, entered_at) < min(r.ended_at + grace, until)
    ])  # fmt: skip
    lines: list[dict[str, Any]] = []
    if covered:
        cost = sum(price_to(b) - price_to(a) for a, b in covered)
        off = cost if policy.mode is ChargingMode.FREE else cost * (policy.percent_off or 0) // 100
        lines.append({
            "kind": "charging", "mode": policy.mode.value, "amount_fen": -off,
            "minutes": sum(math.ceil((b - a).total_seconds() / 60) for a, b in covered),
            "energy_wh": sum(r.energy_wh for r in records if r.started_at < until),
        })  # fmt: skip
    for r in records:
        if r.bay_left_at is not None and r.bay_left_at <= until and r.idle_minutes(policy):
            lines.append({"kind": "idle_occupancy", "charger_id": r.charger_id, "minutes": r.idle_minutes(policy),
                          "amount_fen": r.idle_fee_fen(policy)})
    return lines
