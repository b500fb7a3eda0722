"""Public queries: one lot, or lots with free spaces near a point, nearest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.auth import Principal
from shared.availability.model import LotAvailability, availability, distance_m
from shared.availability.ports import LotStatus, LotStatusStore
from shared.clock import SHANGHAI, Clock
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.registry.model import Lot
from shared.registry.ports import LotStore

MAX_RADIUS_M = 50_000


class AvailabilityService:
    def __init__(self, lots: LotStore, status: LotStatusStore, clock: Clock) -> None:
        self._lots, self._status, self._clock = lots, status, clock
        self.reserved: Callable[[str], int] | None = None  # issue 13: spaces held by bookings, per lot

    def lot(self, lot_id: str) -> LotAvailability:
        """The public view: counts only, from the lot's one status item."""
        lot = self._require(lot_id)
        return self._view(lot, self._status.many([lot_id])[lot_id])

    def supervised(self, principal: Principal, lot_id: str) -> LotAvailability:
        """Staff of the lot's district (and its operator) also see when each device was last heard."""
        from shared import access

        access.require_staff(principal, "supervision")
        lot = self._require(lot_id)
        if not access.may_read_lot(principal, lot):
            raise Forbidden(f"{principal.subject} may not supervise lot {lot_id}", code="district_forbidden")
        status = self._status.get(lot_id)
        return self._view(lot, status).model_copy(update={"devices_last_seen": {
            d: datetime.fromtimestamp(ms / 1000, SHANGHAI) for d, ms in (status.device_last_seen_ms or {}).items()
        }})

    def _require(self, lot_id: str) -> Lot:
        lot = self._lots.get(lot_id)
        if lot is None:
            raise NotFound(f"lot {lot_id} is not registered", code="unknown_lot")
        return lot

    def nearby(self, lat: float, lon: float, radius_m: float, limit: int = 50) -> list[LotAvailability]:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput("lat must be within ±90 and lon within ±180", code="bad_coordinates")
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise InvalidInput(f"radius_m must be in (0, {MAX_RADIUS_M}]", code="bad_radius")
        if not 1 <= limit <= 200:
            raise InvalidInput("limit must be 1..200", code="bad_limit")
        near = [(distance_m(lot.location, lat, lon), lot) for lot in self._lots.list()]
        near = sorted(((d, lot) for d, lot in near if d <= radius_m), key=lambda pair: (pair[0], pair[1].lot_id))
        statuses = self._status.many([lot.lot_id for _, lot in near]) if near else {}
        views = []
        for d, lot in near:
            view = self._view(lot, statuses[lot.lot_id])
            if view.free > 0 and view.open_now:
                view.distance_m = round(d)
                views.append(view)
        return views[:limit]

    def _view(self, lot: Lot, status: LotStatus) -> LotAvailability:
        view = self._counted(lot, status)
        held = self.reserved(lot.lot_id) if self.reserved is not None else 0
        if held:  # issue 13: spaces held by appointment bookings are not offered as free
            view = view.model_copy(update={"free": max(0, view.free - held), "reserved": held})
        return view

    def _counted(self, lot: Lot, status: LotStatus) -> LotAvailability:
        return availability(
            lot,
            open_count=status.open_count,
            reported_total=status.reported_total,
            reported_free=status.reported_free,
            reported_at_ms=status.reported_at_ms,
            online=status.online,
            now=self._clock.now(),
        )
