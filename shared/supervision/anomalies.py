"""Communication anomalies of a lot (S16), in the spirit of the Curb Data Specification's events: an
anomaly opens with ``comms_lost`` when a lot's heartbeats stop for longer than its window and closes with
``comms_restored`` when they return. Pure: no I/O.

Flags, each with the numbers behind it, for the district to review:

- ``repeated``: this is at least the ``REPEATED_AFTER``-th outage of the lot within ``REPEAT_WINDOW``;
- ``business_hours``: the outage overlaps the lot's opening hours (for a lot open around the clock, the
  busy day ``BUSY_FROM``-``BUSY_UNTIL``), when a cut link hides the most traffic.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from shared.clock import SHANGHAI

REPEATED_AFTER = 3
REPEAT_WINDOW = timedelta(days=7)
BUSY_FROM, BUSY_UNTIL = time(7, 0), time(22, 0)


class CommsAnomaly(BaseModel):
    anomaly_id: str
    lot_id: str
    district_code: str
    lost_since: datetime  # the last heartbeat before the silence
    detected_at: datetime
    restored_at: datetime | None = None
    events: list[dict] = Field(default_factory=list)  # comms_lost, then comms_restored
    flags: dict[str, dict] = Field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.restored_at is None


def anomaly_id(lot_id: str, lost_since: datetime) -> str:
    return f"comms:{lot_id}:{int(lost_since.timestamp())}"


def _event(kind: str, lot_id: str, at: datetime, **data) -> dict:
    return {"event_type": kind, "lot_id": lot_id, "event_time": at.astimezone(SHANGHAI).isoformat(), **data}


def lost(lot_id: str, district: str, last_seen: datetime | None, window_s: int, now: datetime) -> CommsAnomaly:
    since = last_seen or now - timedelta(seconds=window_s)
    return CommsAnomaly(
        anomaly_id=anomaly_id(lot_id, since), lot_id=lot_id, district_code=district, lost_since=since, detected_at=now,
        events=[_event("comms_lost", lot_id, now, last_heartbeat=since.astimezone(SHANGHAI).isoformat(), window_s=window_s)],
    )


def restored(anomaly: CommsAnomaly, now: datetime, earlier: list[CommsAnomaly], hours) -> CommsAnomaly:
    """Close ``anomaly``; ``earlier``: the lot's other outages in the repeat window; ``hours``: its opening hours."""
    outage_s = int((now - anomaly.lost_since).total_seconds())
    flags: dict[str, dict] = {}
    count = 1 + len([a for a in earlier if a.anomaly_id != anomaly.anomaly_id])
    if count >= REPEATED_AFTER:
        flags["repeated"] = {"outages": count, "window_days": REPEAT_WINDOW.days}
    overlap = business_overlap_s(anomaly.lost_since, now, hours)
    if overlap > 0:
        flags["business_hours"] = {"seconds_in_business_hours": overlap, "outage_seconds": outage_s}
    return anomaly.model_copy(update={
        "restored_at": now, "flags": flags,
        "events": [*anomaly.events, _event("comms_restored", anomaly.lot_id, now, outage_seconds=outage_s)],
    })


def business_overlap_s(start: datetime, end: datetime, hours) -> int:
    """Seconds of [start, end) within the lot's opening hours (local), or the busy day if always open."""
    opens, closes = (BUSY_FROM, BUSY_UNTIL) if hours is None or hours.always else (hours.opens, hours.closes)
    total, day = 0, start.astimezone(SHANGHAI).date()
    while datetime.combine(day, time.min, SHANGHAI) < end:
        o = datetime.combine(day, opens, SHANGHAI)
        c = datetime.combine(day, closes, SHANGHAI)
        if c <= o:  # open past midnight
            c += timedelta(days=1)
        total += max(0, int((min(end, c) - max(start, o)).total_seconds()))
        day += timedelta(days=1)
    return total
