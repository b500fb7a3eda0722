"""Utilisation and turnover by hour of day from the day's stays. Pure: no I/O.

Utilisation of a lot in an hour = occupied car-seconds in that hour / (capacity x 3600): the average share
of its spaces in use. Turnover of a lot = stays that began that day / capacity. A **hotspot** is a lot-hour
at or above ``HOT`` utilisation; an area (district) is summed over its lots (capacity-weighted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.clock import SHANGHAI

HOT = 0.85


@dataclass(frozen=True)
class Stay:
    lot_id: str
    entered_at: datetime
    exited_at: datetime | None  # still parked: counts to the end of the day


def utilisation(stays: Iterable[Stay], lots: dict[str, tuple[str, int]], day: date) -> dict:
    """``lots``: lot id -> (district, capacity). Returns per-lot and per-district hourly utilisation,
    turnover, and the hotspots sorted hottest first."""
    start = datetime.combine(day, time.min, SHANGHAI)
    hours = [start + timedelta(hours=h) for h in range(25)]
    occupied = {lot: [0.0] * 24 for lot in lots}
    began = dict.fromkeys(lots, 0)
    for s in stays:
        if s.lot_id not in lots:
            continue
        if start <= s.entered_at < hours[24]:
            began[s.lot_id] += 1
        end = s.exited_at or hours[24]
        for h in range(24):
            overlap = (min(end, hours[h + 1]) - max(s.entered_at, hours[h])).total_seconds()
            if overlap > 0:
                occupied[s.lot_id][h] += overlap
    per_lot = {lot: [round(min(1.0, sec / (cap * 3600)), 4) for sec in occupied[lot]] for lot, (_, cap) in lots.items()}
    districts: dict[str, list[float]] = {}
    capacity: dict[str, int] = {}
    for lot, (district, cap) in lots.items():
        row = districts.setdefault(district, [0.0] * 24)
        capacity[district] = capacity.get(district, 0) + cap
        for h in range(24):
            row[h] += occupied[lot][h]
    per_district = {d: [round(min(1.0, sec / (capacity[d] * 3600)), 4) for sec in row] for d, row in sorted(districts.items())}
    hot = sorted(
        ({"lot_id": lot, "district_code": lots[lot][0], "hour": h, "utilisation": u}
         for lot, row in per_lot.items() for h, u in enumerate(row) if u >= HOT),
        key=lambda x: (-x["utilisation"], x["lot_id"], x["hour"]),
    )
    return {
        "day": day.isoformat(),
        "lots": per_lot,
        "districts": per_district,
        "turnover": {lot: round(began[lot] / cap, 3) for lot, (_, cap) in lots.items()},
        "hotspots": hot,
    }
