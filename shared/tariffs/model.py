"""The tariff format: pydantic models, published as JSON Schema (``events/schemas/tariff.schema.json``).

A tariff is a list of versions; each version is a self-contained rule set. Field semantics are in the
``description`` of every field (they end up in the schema) and, with worked examples, in ``docs/tariffs.md``.

Every amount is integer fen. Semantic checks (overlapping windows, caps below the first block, ...) run as
model validators, so a ``Tariff`` instance is always valid; ``validation.validate_tariff`` turns failures
into ``InvalidInput`` with a stable code.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.protocol.events import VehicleClass
from shared.tariffs import validation

SCHEMA_ID = "https://tongting.example/schemas/tariff.schema.json"
MAX_FEN = 10_000_000  # ¥100,000: far above any real price, low enough to catch a unit mistake

Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="An amount in integer fen (1 yuan = 100 fen).")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["07:30"])]
ClockEnd = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["20:00", "24:00"])]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DayKind(str, Enum):
    WORKDAY = "workday"
    REST_DAY = "rest_day"


class Window(_Model):
    """A daily stretch of local (Asia/Shanghai) clock time on days of the given kinds."""

    days: list[DayKind] = Field(
        default_factory=lambda: [DayKind.WORKDAY, DayKind.REST_DAY],
        min_length=1,
        max_length=2,
        description="Kinds of day on which the window *starts* (a window past midnight belongs to its start day).",
    )
    start: ClockTime = Field(description="Local start time HH:MM, inclusive.")
    end: ClockEnd = Field(
        description="Local end time HH:MM, exclusive. An end at or before the start means the next day "
        "(20:00-08:00 is one night); start == end is a full 24 hours; 24:00 is midnight."
    )

    @cached_property
    def start_minute(self) -> int:
        return int(self.start[:2]) * 60 + int(self.start[3:])

    @cached_property
    def length(self) -> int:
        """Minutes from start to end: 1..1440."""
        end = int(self.end[:2]) * 60 + int(self.end[3:])
        return (end - self.start_minute) % 1440 or 1440


class Block(_Model):
    """``periods`` periods of ``period_minutes`` each, each started period costing ``price_fen``."""

    period_minutes: int = Field(
        ge=1, le=1440 * 31, description="Length of one period; a started period is charged in full."
    )
    price_fen: Fen = Field(description="Price of one period, in fen.")
    periods: int | None = Field(
        None, ge=1, le=100_000, description="How many periods the block has; null (last block only) repeats to the end."
    )


class ProgressiveRule(_Model):
    """Progressive blocks over the minutes inside the windows (or over the whole stay without windows)."""

    kind: Literal["progressive"]
    windows: list[Window] | None = Field(
        None,
        min_length=1,
        max_length=8,
        description="When the rule charges; null means at all times. Minutes outside every rule are free.",
    )
    blocks: list[Block] = Field(min_length=1, max_length=16, description="Consumed in order; the last one repeats.")
    restart: Literal["each_run", "never"] = Field(
        "each_run",
        description="each_run: the progression starts again at the first block at the start of each run of "
        "consecutive in-window minutes (each charging day on street). never: one progression per stay, counting "
        "only in-window minutes.",
    )


class FlatRule(_Model):
    """A fixed fee per window occurrence, e.g. ¥5 per night 20:00-08:00."""

    kind: Literal["flat"]
    windows: list[Window] = Field(min_length=1, max_length=8)
    price_fen: Fen = Field(description="Charged once per window occurrence the stay reaches.")
    min_minutes: int = Field(
        1, ge=1, le=1440, description="Chargeable minutes the stay must spend in one occurrence before it is charged."
    )


Rule = Annotated[ProgressiveRule | FlatRule, Field(discriminator="kind")]


class FreeTime(_Model):
    minutes: int = Field(ge=1, le=1440 * 30, description="Length of the free time, in minutes.")
    mode: Literal["grace", "deducted"] = Field(
        description="grace: a stay of at most `minutes` is free, a longer one pays from entry. deducted: the first "
        "`minutes` of every stay are free; the progression still counts them (their periods are charged only if "
        "they extend past the free time)."
    )


class Cap(_Model):
    period: Literal["calendar_day", "rolling_24h"] = Field(
        description="calendar_day: local calendar days (00:00-24:00). rolling_24h: consecutive 24 h from entry."
    )
    amount_fen: Fen = Field(description="At most this much (before ratios) is charged for one cap period.")
    restart_progression: bool = Field(
        False, description="true: each cap period is priced afresh (progression back to the first block)."
    )


class Ratio(_Model):
    """An exact multiplier num/den; the capped total of each cap period is multiplied, rounded half up once."""

    num: int = Field(ge=0, le=1000, description="Numerator (0 makes the class free).")
    den: int = Field(ge=1, le=1000, description="Denominator.")


class NewEnergy(_Model):
    """Adjustments for new-energy plates (green, yellow-green)."""

    free: FreeTime | None = Field(None, description="Replaces the version's free time for new-energy vehicles.")
    ratio: Ratio | None = Field(None, description="Discount: multiplies the capped total, e.g. 1/2.")
    cap_fen: Fen | None = Field(None, description="Replaces the cap amount (the period stays the version's).")


class Calendar(_Model):
    """Which dates are rest days. By default Monday-Friday are workdays and weekends rest days."""

    holidays: list[date] = Field(default_factory=list, max_length=400, description="Public holidays: rest days.")
    workdays: list[date] = Field(
        default_factory=list, max_length=100, description="Adjusted working days (调休), typically weekends."
    )


class TariffVersion(_Model):
    effective_from: AwareDatetime = Field(description="Applies to sessions that *started* at or after this instant.")
    note: str = Field("", max_length=500, description="Free text: the rule in words, its legal source.")
    free: FreeTime | None = Field(None, description="Free time at the start of a stay; once per stay.")
    rules: list[Rule] = Field(default_factory=list, max_length=16, description="Windows of all rules must not overlap.")
    cap: Cap | None = Field(None, description="The most one cap period may cost; null: no cap.")
    vehicle_classes: dict[VehicleClass, Ratio] = Field(
        default_factory=dict, description="Multiplier per vehicle class; a class not listed pays 1/1."
    )
    new_energy: NewEnergy | None = Field(None, description="Relief for green and yellow-green plates.")
    calendar: Calendar = Field(default_factory=Calendar)

    @model_validator(mode="after")
    def _semantics(self) -> TariffVersion:
        validation.check_version(self)
        return self


class Tariff(_Model):
    id: Identifier = Field(description="Stable identifier; lots and berth zones refer to it (tariff_ref).")
    name: str = Field(min_length=1, max_length=200)
    versions: list[TariffVersion] = Field(
        min_length=1, max_length=100, description="Strictly increasing effective_from."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Tariff:
        validation.check_versions(self)
        return self

    def version_at(self, instant: datetime) -> TariffVersion:
        """The version in force at ``instant``: the last one whose effective_from is not after it."""
        found = None
        for version in self.versions:
            if version.effective_from > instant:
                break
            found = version
        if found is None:
            validation.not_in_force(self.id, instant)
        return found


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the tariff format (what ``events/schemas/tariff.schema.json`` holds)."""
    schema = Tariff.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
