"""What the public sees of a lot: free and total spaces, whether it is open and online. No personal data."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from shared.clock import SHANGHAI
from shared.registry.model import Location, Lot, OpeningHours

EARTH_RADIUS_M = 6_371_008.8
STALE_REPORT_S = 15 * 60  # an absolute count older than this no longer beats the session count


def distance_m(a: Location, lat: float, lon: float) -> float:
    """Great-circle distance (haversine); good to a metre or so at city scale."""
    p1, p2 = math.radians(a.lat), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def is_open(hours: OpeningHours, now: datetime) -> bool:
    if hours.always:
        return True
    local = now.astimezone(SHANGHAI).time()
    if hours.opens <= hours.closes:
        return hours.opens <= local < hours.closes
    return local >= hours.opens or local < hours.closes  # overnight hours, e.g. 18:00-06:00


class LotAvailability(BaseModel):
    lot_id: str
    name: str
    district_code: str
    kind: str
    location: Location
    total: int
    free: int
    source: Literal["reported", "sessions"]
    updated_at: datetime | None
    open_now: bool
    online: bool | None
    distance_m: int | None = None
    devices_last_seen: dict[str, datetime] | None = None
    reserved: int | None = None  # spaces held by bookings whose entry window is open (not in free)

    def as_json(self) -> dict:
        """Optional extras left out when empty; ``updated_at`` and ``online`` always there (null: no report)."""
        return {**self.model_dump(mode="json", exclude_none=True), "updated_at": self.model_dump(mode="json")["updated_at"],
                "online": self.online}


def availability(
    lot: Lot,
    *,
    open_count: int,
    reported_total: int | None,
    reported_free: int | None,
    reported_at_ms: int | None,
    online: bool | None,
    now: datetime,
) -> LotAvailability:
    """Absolute reported counts win while fresh; otherwise capacity minus open sessions."""
    reported_at = datetime.fromtimestamp(reported_at_ms / 1000, SHANGHAI) if reported_at_ms else None
    fresh = reported_at is not None and (now - reported_at).total_seconds() <= STALE_REPORT_S
    if fresh and reported_total is not None and reported_free is not None:
        total, free, source = reported_total, reported_free, "reported"
    else:
        total, free, source = lot.capacity, max(0, lot.capacity - open_count), "sessions"
    return LotAvailability(
        lot_id=lot.lot_id,
        name=lot.name,
        district_code=lot.district_code,
        kind=lot.kind.value,
        location=lot.location,
        total=total,
        free=free,
        source=source,
        updated_at=reported_at if source == "reported" else None,
        open_now=is_open(lot.opening_hours, now),
        online=online,
    )
