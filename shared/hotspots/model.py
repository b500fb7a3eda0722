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


def stays_of_day(lot_id: str, records: Iterable, day: date) -> list[Stay]:
    """A lot's stays on ``day`` from its archived events (``type``, ``occurred_at``, the ack's ``session_id``):
    an entry that day lasts to its exit that day, or is still parked; an exit whose entry came before that
    day counts from midnight (the car was there all night)."""
    start = datetime.combine(day, time.min, SHANGHAI)
    entered: dict[str, datetime] = {}
    exited: dict[str, datetime] = {}
    for r in records:
        session_id = (r.ack or {}).get("session_id")
        if not session_id:
            continue
        if r.type == "entry":
            entered.setdefault(session_id, r.occurred_at)
        elif r.type == "exit":
            exited.setdefault(session_id, r.occurred_at)
    stays = [Stay(lot_id, at, exited.get(sid)) for sid, at in entered.items()]
    stays += [Stay(lot_id, start, at) for sid, at in exited.items() if sid not in entered]
    return stays


def scoped(report: dict, district: str, lots_of_district: set[str]) -> dict:
    """The report cut to one district: its lots' rows and turnover, its own row, its hotspots."""
    return {
        "day": report.get("day"),
        "lots": {k: v for k, v in report.get("lots", {}).items() if k in lots_of_district},
        "districts": {k: v for k, v in report.get("districts", {}).items() if k == district},
        "turnover": {k: v for k, v in report.get("turnover", {}).items() if k in lots_of_district},
        "hotspots": [h for h in report.get("hotspots", []) if h["district_code"] == district],
    }
