"""Hypothesis strategies: random valid tariffs and random stays (across midnights, month ends, 30 days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache

from hypothesis import strategies as st
from pydantic import ValidationError

from shared.clock import SHANGHAI
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.model import Tariff, TariffVersion

FIRST_DAY = date(2025, 12, 1)
LAST_DAY = date(2026, 3, 31)  # month ends of 30, 31 and 28 days, and a year end
MONTH_ENDS = [
    datetime(2025, 12, 31, 23, 0, tzinfo=SHANGHAI),
    datetime(2026, 1, 31, 22, 30, tzinfo=SHANGHAI),
    datetime(2026, 2, 28, 23, 45, tzinfo=SHANGHAI),
    datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI),
]
OFFSETS = [SHANGHAI, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9, minutes=30))]


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Mostly round clock times, so rule boundaries line up with periods as they do in real tariffs.
clock_minute = st.one_of(st.sampled_from([0, 420, 450, 480, 600, 720, 1080, 1200, 1320]), st.integers(0, 1439))
day_sets = st.sampled_from([["workday"], ["rest_day"], ["workday", "rest_day"]])


# Every strategy is built once, here, and drawn from inside the composites: a strategy built inside a draw
# is built and validated again for every example (over half of these properties' CPU, for the same data).
# ``_ints(lo, hi)`` is st.integers(lo, hi) built once per bounds (hypothesis's own cache of strategies hashes
# and checks the arguments on every call: ~6% of the properties' CPU).
_ints = cache(st.integers)
_booleans = st.booleans()
window_length = st.one_of(st.sampled_from([60, 240, 600, 720, 750, 1440]), st.integers(1, 1440))


@st.composite
def windows(draw) -> dict:
    start = draw(clock_minute)
    length = draw(window_length)
    end = (start + length) % 1440
    return {
        "days": draw(day_sets),
        "start": _hhmm(start),
        "end": "24:00" if end == 0 and draw(_booleans) else _hhmm(end),
    }


a_window = windows()


# Realistic values first: hypothesis otherwise favours 1-minute periods and zero prices, which hide bugs.
period = st.one_of(st.sampled_from([15, 30, 60, 45, 120, 1440, 1]), st.integers(1, 200))
price = st.one_of(st.sampled_from([300, 500, 100, 250, 0]), st.integers(0, 2000))


@st.composite
def blocks(draw) -> list[dict]:
    n = draw(_ints(1, 3))
    out = [
        {"period_minutes": draw(period), "price_fen": draw(price), "periods": draw(_ints(1, 6))} for _ in range(n)
    ]
    out[-1]["periods"] = None
    return out


some_blocks = blocks()


free_time = st.one_of(
    st.none(),
    st.builds(
        lambda m, mode: {"minutes": m, "mode": mode}, st.integers(1, 300), st.sampled_from(["grace", "deducted"])
    ),
)
ratio = st.builds(lambda n, d: {"num": n, "den": d}, st.integers(0, 5), st.integers(1, 4))
restarts = st.sampled_from(["each_run", "never"])
min_minutes = st.sampled_from([1, 1, 30, 61, 600])
cap_periods = st.sampled_from(["calendar_day", "rolling_24h"])
class_ratios = st.dictionaries(st.sampled_from([c.value for c in VehicleClass]), ratio, max_size=3)
new_energy_ratio = st.none() | ratio
calendar_days = st.dates(FIRST_DAY, LAST_DAY)
holiday_lists = st.lists(calendar_days, max_size=12, unique=True)
workday_lists = st.lists(calendar_days, max_size=4, unique=True)


def _valid(version: dict) -> bool:
    try:
        TariffVersion.model_validate(version)
        return True
    except ValidationError:
        return False


def _version(draw, effective_from: datetime) -> dict:
    """A random valid version, drawn with the caller's ``draw`` (a composite made per effective date, as the second
    version's is drawn, would be a strategy built again for every example)."""
    version: dict = {"effective_from": effective_from.isoformat(), "free": draw(free_time), "rules": []}
    if draw(_ints(0, 4)) == 0:
        version["rules"].append({"kind": "progressive", "blocks": draw(some_blocks), "restart": "never"})
    else:
        # Windows are added one by one and kept only if the version stays valid (no overlap).
        for _ in range(draw(_ints(0, 3))):
            rule: dict = {"windows": []}
            if draw(_booleans):
                rule.update(
                    kind="progressive", blocks=draw(some_blocks), restart=draw(restarts)
                )
            else:
                rule.update(kind="flat", price_fen=draw(price), min_minutes=draw(min_minutes))
            version["rules"].append(rule)
            candidates = [draw(a_window) for _ in range(draw(_ints(1, 3)))]
            if draw(_ints(0, 3)) == 0:  # windows that touch: consecutive occurrences form one run
                w = candidates[0]
                days = w["days"] if draw(_ints(0, 2)) else draw(day_sets)
                candidates.insert(1, {"days": days, "start": w["end"].replace("24:00", "00:00"), "end": w["start"]})
            for candidate in candidates:
                rule["windows"].append(candidate)
                if rule["kind"] == "flat":
                    rule["min_minutes"] = min(rule["min_minutes"], min(_length(w) for w in rule["windows"]))
                if not _valid(version):
                    rule["windows"].pop()
            if not rule["windows"]:
                version["rules"].pop()
    floor = _cap_floor(version)
    if draw(_booleans):
        version["cap"] = {
            "period": draw(cap_periods),
            "amount_fen": floor + draw(_ints(0, 4000)),
            "restart_progression": draw(_booleans),
        }
    version["vehicle_classes"] = draw(class_ratios)
    if draw(_booleans):
        nev: dict = {"free": draw(free_time), "ratio": draw(new_energy_ratio)}
        if "cap" in version and draw(_booleans):
            nev["cap_fen"] = floor + draw(_ints(0, 3000))
        version["new_energy"] = nev
    holidays = draw(holiday_lists)
    workdays = [d for d in draw(workday_lists) if d not in holidays]  # a holiday is no working day
    version["calendar"] = {"holidays": holidays, "workdays": workdays}
    return version


def _length(w: dict) -> int:
    def minute(text: str) -> int:
        return int(text[:2]) * 60 + int(text[3:])

    return (minute(w["end"]) - minute(w["start"])) % 1440 or 1440


def _cap_floor(version: dict) -> int:
    floor = 0
    for rule in version["rules"]:
        if rule["kind"] == "flat":
            floor = max(floor, rule["price_fen"])
        else:
            floor = max(floor, next((b["price_fen"] for b in rule["blocks"] if b["price_fen"] > 0), 0))
    return floor


first_version = st.composite(lambda draw: _version(draw, datetime(2020, 1, 1, tzinfo=SHANGHAI)))()


@st.composite
def tariffs(draw) -> Tariff:
    items = [draw(first_version)]
    if draw(_booleans):  # a second version in force from some day within the stays' range
        switch = datetime(2026, 1, 1, tzinfo=SHANGHAI) + timedelta(minutes=draw(_ints(0, 60 * 24 * 60)))
        items.append(_version(draw, switch))
    return Tariff.model_validate({"id": "random", "name": "random", "versions": items})


month_ends, offsets = st.sampled_from(MONTH_ENDS), st.sampled_from(OFFSETS)


@st.composite
def instants(draw) -> datetime:
    if draw(_ints(0, 3)) == 0:
        base = draw(month_ends) + timedelta(minutes=draw(_ints(-180, 180)))
    else:
        span = (LAST_DAY - FIRST_DAY).days * 1440
        base = datetime(2025, 12, 1, tzinfo=SHANGHAI) + timedelta(minutes=draw(_ints(0, span)))
    base += timedelta(seconds=draw(_ints(0, 59)))
    return base.astimezone(draw(offsets))


def durations(max_minutes: int) -> st.SearchStrategy[timedelta]:
    minutes = st.one_of(st.integers(0, 240), st.integers(0, 3 * 1440), st.integers(0, max_minutes))
    return st.builds(lambda m, s: timedelta(minutes=m, seconds=s), minutes, st.integers(-59, 59)).map(
        lambda d: max(d, timedelta(0))
    )


vehicle_classes = st.sampled_from(list(VehicleClass))
plate_colours = st.sampled_from(list(PlateColour))
