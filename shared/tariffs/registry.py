"""Registering tariffs (收费标准) and pricing a stay in a given lot.

Who may register: city staff any tariff, district staff their district's. History is immutable: a new
upload must keep every version already in force unchanged, and may only add or change versions that start
in the future, because the version in force when a session started is the one that prices it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared import access
from shared.auth import Principal, Role
from shared.clock import Clock, iso
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.registry.model import DistrictCode, Identifier, Lot
from shared.tariffs.engine import quote
from shared.tariffs.model import Tariff
from shared.tariffs.quote import Quote
from shared.tariffs.validation import validate_tariff


class RegisteredTariff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tariff_id: Identifier
    district_code: DistrictCode | None = Field(None, description="The district that owns it; null: city-wide.")
    tariff: Tariff
    version: int = Field(1, ge=1, description="Optimistic-lock version of the record (not a tariff version).")


class TariffRecords(Protocol):
    """Versioned records as ``shared.registry.ports.VersionedRecords`` (``stored_at``: when the version was
    stored, so replay knows from when it was in force); ``cached`` may be up to a minute old."""

    def get(self, key: str) -> RegisteredTariff | None: ...
    def cached(self, key: str) -> RegisteredTariff | None: ...
    def create(self, record: RegisteredTariff, *, stored_at: str | None = None) -> RegisteredTariff: ...
    def replace(
        self, record: RegisteredTariff, expected_version: int, *, stored_at: str | None = None
    ) -> RegisteredTariff: ...
    def list(self, district_code: str | None = None) -> list[RegisteredTariff]: ...


def _require_writer(principal: Principal, district_code: str | None) -> None:
    if principal.role is Role.CITY_ADMIN:
        return
    if principal.role is Role.DISTRICT_ADMIN and district_code and district_code == principal.district_code:
        return
    raise Forbidden(
        f"{principal.role.value} {principal.subject} may not set tariffs of "
        f"{'district ' + district_code if district_code else 'the city'}",
        code="tariff_forbidden",
    )


def _check_history(current: Tariff, new: Tariff, now: datetime) -> None:
    started = [v for v in current.versions if v.effective_from <= now]
    kept = {v.effective_from: v for v in new.versions}
    for version in started:
        if kept.get(version.effective_from) != version:
            raise Conflict(
                f"the version effective from {version.effective_from.isoformat()} is already in force and "
                "cannot change; add a new version that starts in the future",
                code="tariff_history_changed",
            )
    if any(v.effective_from <= now for v in new.versions if v.effective_from not in {s.effective_from for s in started}):
        raise Conflict("a new version must start in the future", code="tariff_history_changed")


class TariffService:
    def __init__(self, records: TariffRecords, clock: Clock) -> None:
        self._records, self._clock = records, clock

    def put(self, principal: Principal, tariff_id: str, data: dict) -> RegisteredTariff:
        """Create a tariff, or replace it (``version`` names the record version the change is based on)."""
        if not isinstance(data, dict) or not isinstance(data.get("tariff"), dict):
            raise InvalidInput("the body is {district_code?, version?, tariff: {...}}", code="invalid_json")
        tariff = validate_tariff({**data["tariff"], "id": tariff_id})
        district = data.get("district_code")
        _require_writer(principal, district)
        record = RegisteredTariff(tariff_id=tariff_id, district_code=district, tariff=tariff)
        current = self._records.get(tariff_id)
        if current is None:
            return self._records.create(record, stored_at=iso(self._clock.now()))  # when it came into force
        _require_writer(principal, current.district_code)
        expected = data.get("version")
        if not isinstance(expected, int):
            raise InvalidInput("version (the one this change is based on) is required", code="version_required")
        _check_history(current.tariff, tariff, self._clock.now())
        return self._records.replace(record, expected_version=expected, stored_at=iso(self._clock.now()))

    def get(self, principal: Principal, tariff_id: str) -> RegisteredTariff:
        access.require_tariff_read(principal)
        record = self._records.get(tariff_id)
        if record is None:
            raise NotFound(f"tariff {tariff_id} is not registered", code="unknown_tariff")
        return record

    def list(self, principal: Principal, district_code: str | None = None) -> list[RegisteredTariff]:
        access.require_tariff_read(principal)
        return self._records.list(district_code)

    def for_lot(self, lot: Lot) -> Tariff | None:
        """The lot's tariff; None for a lot that charges nothing (no tariff_ref)."""
        if not lot.tariff_ref:
            return None
        record = self._records.cached(lot.tariff_ref)
        if record is None:
            raise NotFound(f"lot {lot.lot_id} refers to tariff {lot.tariff_ref}, which is not registered",
                           code="unknown_tariff")
        return record.tariff

    def price(self, lot: Lot, entered_at: datetime, exited_at: datetime, vehicle_class: VehicleClass,
              plate_colour: PlateColour, itemised: bool = True) -> Quote | None:
        """The same engine for the public quote, the exit gate, the bill and replay (which needs only the
        amount: ``itemised=False``)."""
        tariff = self.for_lot(lot)
        if tariff is None:
            return None
        return quote(tariff, entered_at, exited_at, vehicle_class, plate_colour, itemised)
