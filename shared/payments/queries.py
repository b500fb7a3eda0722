"""Parsing what the public pay page and quote endpoints receive in their query strings."""

from __future__ import annotations

from datetime import datetime

from shared import plates
from shared.errors import InvalidInput
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass


def instant(name: str, raw: str | None, default: datetime | None = None) -> datetime:
    """An RFC 3339 instant with an offset. A ``+`` of the offset arrives as a space when the caller did
    not percent-encode it: restore it rather than refuse a common mistake."""
    if raw is None:
        if default is None:
            raise InvalidInput(f"query parameter {name} is required", code="bad_query")
        return default
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"{name} must be an RFC 3339 time with an offset", code="bad_time") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must carry a UTC offset, e.g. +08:00", code="bad_time")
    return value


def plate(raw: str | None) -> plates.Plate | None:
    if raw is None:
        return None
    try:
        return plates.parse(raw)
    except plates.MalformedPlate as exc:
        raise InvalidInput(str(exc), code="malformed_plate") from None


def vehicle(raw_class: str | None, raw_colour: str | None, parsed: plates.Plate | None) -> tuple[VehicleClass, PlateColour]:
    try:
        vclass = VehicleClass(raw_class or "small")
        colour = PlateColour(raw_colour) if raw_colour else (
            PlateColour.GREEN if parsed and parsed.new_energy else PlateColour.BLUE
        )  # fmt: skip
    except ValueError as exc:
        raise InvalidInput(str(exc), code="bad_query") from None
    return vclass, colour
