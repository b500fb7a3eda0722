"""A deliberately naive minute-by-minute pricing of a stay, for tests and the benchmark only.

It reads the tariff model directly and walks the stay one local clock minute at a time, asking of each
minute: is it free, which cap period is it in, which rule's window is it in, which period of the
progression does it fall into, is this the first chargeable minute of that period (or the minute a flat
fee becomes due)? It shares no code with the engine beyond the model, so agreeing with it means something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from shared.clock import SHANGHAI
from shared.errors import InvalidInput
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.model import Tariff, TariffVersion, Window

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass
class ReferenceQuote:
    amount_fen: int
    cycles: list[tuple[int, int]]  # (raw_fen, amount_fen) per cap period, in order


class _Days:
    """Day kinds of the version's calendar, remembered per date (the walk asks about each date often)."""

    def __init__(self, version: TariffVersion) -> None:
        self.holidays, self.workdays = set(version.calendar.holidays), set(version.calendar.workdays)
        self.known: dict[date, str] = {}

    def kind(self, day: date) -> str:
        if day not in self.known:
            if day in self.workdays:
                self.known[day] = "workday"
            elif day in self.holidays or day.weekday() >= 5:
                self.known[day] = "rest_day"
            else:
                self.known[day] = "workday"
        return self.known[day]


def _window_start(days: _Days, w: Window, today: date, minute: int) -> date | None:
    """The start date of the occurrence of ``w`` containing minute ``minute`` of ``today``, if any."""
    if w.start_minute <= minute < w.start_minute + w.length and days.kind(today) in w.days:
        return today
    if w.start_minute <= minute + 1440 < w.start_minute + w.length:  # an occurrence that started yesterday
        yesterday = today - DAY
        if days.kind(yesterday) in w.days:
            return yesterday
    return None


def _occurrence(days: _Days, windows: list[Window] | None, today: date, minute: int) -> tuple | None:
    if windows is None:
        return ("always",)
    for i, w in enumerate(windows):
        day = _window_start(days, w, today, minute)
        if day is not None:
            return (i, day)
    return None


def _locate(blocks, position: int) -> tuple[int, int, int]:
    """(block index, period index within it, price) of the period holding ``position`` of the progression."""
    for i, block in enumerate(blocks):
        size = block.period_minutes * (block.periods or 0)
        if block.periods is None or position < size:
            return i, position // block.period_minutes, block.price_fen
        position -= size
    raise AssertionError("the last block repeats")


def reference_quote(
    tariff: Tariff,
    entered_at: datetime,
    exited_at: datetime,
    vehicle_class: VehicleClass = VehicleClass.SMALL,
    plate_colour: PlateColour = PlateColour.BLUE,
) -> ReferenceQuote:
    if exited_at < entered_at:
        raise InvalidInput("the stay ends before it starts", code="quote_bad_interval")
    version = None
    for v in tariff.versions:
        if v.effective_from <= entered_at:
            version = v
    if version is None:
        raise InvalidInput("no version in force", code="tariff_not_in_force")

    new_energy = plate_colour in (PlateColour.GREEN, PlateColour.YELLOW_GREEN)
    nev = version.new_energy
    free = nev.free if new_energy and nev and nev.free else version.free
    cap = version.cap.amount_fen if version.cap else None
    if new_energy and nev and nev.cap_fen is not None:
        cap = nev.cap_fen
    ratio = Fraction(1)
    if vehicle_class in version.vehicle_classes:
        r = version.vehicle_classes[vehicle_class]
        ratio *= Fraction(r.num, r.den)
    if new_energy and nev and nev.ratio:
        ratio *= Fraction(nev.ratio.num, nev.ratio.den)

    first = entered_at.astimezone(SHANGHAI).replace(tzinfo=None, second=0, microsecond=0)
    total_minutes = (exited_at - entered_at) // MINUTE
    last = first + total_minutes * MINUTE
    restart = bool(version.cap and version.cap.restart_progression)

    days = _Days(version)
    raw: dict[int, int] = {}
    state = [
        {"position": 0, "group": 0, "last_minute": None, "last_cycle": None, "charged": set(), "seen": {}}
        for _ in version.rules
    ]
    # What does not change from one minute to the next is read once (the walk is a month of minutes at most).
    grace = free is not None and free.mode == "grace" and total_minutes <= free.minutes
    deducted = free.minutes if free is not None and free.mode != "grace" else 0
    cap_period = version.cap.period if version.cap else None
    first_day = first.date()
    now, elapsed = first, 0
    while now < last:
        is_free = grace or elapsed < deducted  # a grace period frees the whole stay or none of it
        today, minute = now.date(), now.hour * 60 + now.minute
        if cap_period is None:
            cycle = 0
        elif cap_period == "rolling_24h":
            cycle = elapsed // 1440
        else:
            cycle = (today - first_day).days
        raw.setdefault(cycle, 0)

        for rule, st in zip(version.rules, state):
            occurrence = _occurrence(days, rule.windows, today, minute)
            if occurrence is None:
                continue
            if rule.kind == "flat":
                if not is_free:
                    st["seen"][occurrence] = st["seen"].get(occurrence, 0) + 1
                    if st["seen"][occurrence] == rule.min_minutes:
                        raw[cycle] += rule.price_fen
                continue
            new_run = st["last_minute"] != elapsed - 1
            if (
                st["last_minute"] is None
                or (rule.restart == "each_run" and new_run)
                or (restart and st["last_cycle"] != cycle)
            ):
                st["position"] = 0
                st["group"] += 1
            block, period, price = _locate(rule.blocks, st["position"])
            key = (st["group"], block, period)
            if not is_free and key not in st["charged"]:
                st["charged"].add(key)
                raw[cycle] += price
            st["position"] += 1
            st["last_minute"], st["last_cycle"] = elapsed, cycle
        now += MINUTE
        elapsed += 1

    cycles = []
    for cycle in sorted(raw):
        capped = raw[cycle] if cap is None else min(raw[cycle], cap)
        cycles.append((raw[cycle], math.floor(capped * ratio + Fraction(1, 2))))
    return ReferenceQuote(sum(amount for _, amount in cycles), cycles)
