"""Worked examples: each sample tariff priced for stays that show the real-world rule it encodes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.clock import SHANGHAI
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs import Tariff, quote
from shared.tariffs.reference import reference_quote
from shared.tariffs.samples import (
    CLASSES_AND_NEW_ENERGY,
    DAY_NIGHT,
    HANGZHOU_ROAD_BERTH,
    SHENZHEN_ZONE_1,
    ZHUMADIAN_CLASS1,
)

MONDAY = datetime(2026, 3, 2, tzinfo=SHANGHAI)
FRIDAY = datetime(2026, 3, 6, tzinfo=SHANGHAI)
SATURDAY = datetime(2026, 3, 7, tzinfo=SHANGHAI)


def at(day: datetime, hhmm: str, plus_days: int = 0) -> datetime:
    return day + timedelta(days=plus_days, hours=int(hhmm[:2]), minutes=int(hhmm[3:]))


def fen(tariff: Tariff, entered: datetime, exited: datetime, **kwargs) -> int:
    fast, slow = quote(tariff, entered, exited, **kwargs), reference_quote(tariff, entered, exited, **kwargs)
    assert [(c.raw_fen, c.amount_fen) for c in fast.cycles] == slow.cycles
    assert fast.amount_fen == slow.amount_fen
    return fast.amount_fen


def stay(tariff: Tariff, minutes: int, start: datetime = MONDAY + timedelta(hours=9), **kwargs) -> int:
    return fen(tariff, start, start + timedelta(minutes=minutes), **kwargs)


# Zhumadian class-1 off-street (2020 hearing)


def test_zhumadian_first_half_hour_is_free_to_the_minute():
    assert stay(ZHUMADIAN_CLASS1, 30) == 0
    entered = at(MONDAY, "09:00")
    assert fen(ZHUMADIAN_CLASS1, entered, entered + timedelta(minutes=30, seconds=59)) == 0  # seconds are dropped


def test_zhumadian_up_to_an_hour_costs_4_yuan():
    assert stay(ZHUMADIAN_CLASS1, 31) == 400
    assert stay(ZHUMADIAN_CLASS1, 60) == 400


def test_zhumadian_further_hours_round_up():
    assert stay(ZHUMADIAN_CLASS1, 61) == 500
    assert stay(ZHUMADIAN_CLASS1, 3 * 60 + 10) == 700


def test_zhumadian_caps_at_20_yuan_per_24_hours():
    assert stay(ZHUMADIAN_CLASS1, 16 * 60) == 1900
    assert stay(ZHUMADIAN_CLASS1, 20 * 60) == 2000
    assert stay(ZHUMADIAN_CLASS1, 24 * 60) == 2000


def test_zhumadian_24_hours_20_minutes_loses_free_half_hour():
    # The second 24 h is priced afresh but without the free half-hour: 20 minutes cost ¥4, not nothing.
    assert stay(ZHUMADIAN_CLASS1, 24 * 60 + 20) == 2400


def test_zhumadian_25_hours_starts_the_second_day_at_4_yuan():
    assert stay(ZHUMADIAN_CLASS1, 25 * 60) == 2400
    assert stay(ZHUMADIAN_CLASS1, 48 * 60 + 10) == 4400


def test_zhumadian_breakdown_shows_cap_and_second_day():
    entered = at(MONDAY, "09:00")
    q = quote(ZHUMADIAN_CLASS1, entered, entered + timedelta(hours=24, minutes=20))
    first, second = q.cycles
    assert [(line.kind, line.block, line.count, line.unit_fen, line.amount_fen) for line in first.lines] == [
        ("periods", 0, 1, 400, 400),
        ("periods", 1, 23, 100, 2300),
        ("cap", None, 0, 0, -700),
    ]
    assert (first.start, first.end) == (entered, entered + timedelta(hours=24))
    assert [(line.kind, line.amount_fen) for line in second.lines] == [("periods", 400)]
    assert q.as_dict()["cycles"][1]["start"] == "2026-03-03T09:00:00+08:00"


# Hangzhou-style road berth


def test_hangzhou_first_15_minutes_free_then_first_hour_5_yuan():
    assert stay(HANGZHOU_ROAD_BERTH, 15) == 0
    assert stay(HANGZHOU_ROAD_BERTH, 16) == 500
    assert stay(HANGZHOU_ROAD_BERTH, 60) == 500


def test_hangzhou_then_3_yuan_per_started_half_hour():
    assert stay(HANGZHOU_ROAD_BERTH, 61) == 800
    assert stay(HANGZHOU_ROAD_BERTH, 91) == 1100


def test_hangzhou_caps_at_50_yuan_per_calendar_day():
    assert fen(HANGZHOU_ROAD_BERTH, at(MONDAY, "08:00"), at(MONDAY, "20:00")) == 5000
    assert fen(HANGZHOU_ROAD_BERTH, at(MONDAY, "12:00"), at(MONDAY, "12:00", 1)) == 10000


def test_hangzhou_cap_is_per_calendar_day_not_per_24_hours():
    # 23:00 to 23:00: an hour on Monday (¥5) and 23 hours on Tuesday (capped at ¥50).
    assert fen(HANGZHOU_ROAD_BERTH, at(MONDAY, "23:00"), at(MONDAY, "23:00", 1)) == 5500


def test_hangzhou_progression_runs_on_across_midnight():
    # 22:00-24:00 first hour ¥5 + 2 x ¥3; 00:00-02:00 four more half-hours at ¥3, not a new first hour.
    assert fen(HANGZHOU_ROAD_BERTH, at(MONDAY, "22:00"), at(MONDAY, "02:00", 1)) == 2300


# Shenzhen-style progressive on-street


def test_shenzhen_first_half_hour_3_yuan():
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "09:00"), at(MONDAY, "09:20")) == 300


def test_shenzhen_6_yuan_per_half_hour_up_to_3_hours_then_10():
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "09:00"), at(MONDAY, "12:00")) == 300 + 5 * 600
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "09:00"), at(MONDAY, "13:00")) == 3300 + 2 * 1000


def test_shenzhen_free_outside_charging_hours():
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "20:00"), at(MONDAY, "07:30", 1)) == 0
    assert fen(SHENZHEN_ZONE_1, at(SATURDAY, "07:30"), at(SATURDAY, "10:00")) == 0  # rest days start at 10:00


def test_shenzhen_overnight_stay_starts_each_charging_day_afresh():
    assert fen(SHENZHEN_ZONE_1, at(FRIDAY, "19:00"), at(FRIDAY, "11:00", 1)) == 900 + 900


def test_shenzhen_public_holiday_charges_from_10_and_adjusted_workday_from_0730():
    data = SHENZHEN_ZONE_1.model_dump(mode="json")
    data["versions"][0]["calendar"] = {"holidays": ["2026-10-01"], "workdays": ["2026-09-27"]}
    tariff = Tariff.model_validate(data)
    holiday = datetime(2026, 10, 1, tzinfo=SHANGHAI)  # a Thursday
    assert fen(tariff, at(holiday, "08:00"), at(holiday, "10:00")) == 0
    assert fen(SHENZHEN_ZONE_1, at(holiday, "08:00"), at(holiday, "10:00")) == 300 + 3 * 600
    sunday_worked = datetime(2026, 9, 27, tzinfo=SHANGHAI)
    assert fen(tariff, at(sunday_worked, "08:00"), at(sunday_worked, "08:30")) == 300


def test_shenzhen_new_energy_first_hour_free():
    green = {"plate_colour": PlateColour.GREEN}
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "09:00"), at(MONDAY, "10:00"), **green) == 0
    # The progression counts the free hour: the third half-hour is priced at ¥6.
    assert fen(SHENZHEN_ZONE_1, at(MONDAY, "09:00"), at(MONDAY, "10:30"), **green) == 600


# Day/night


def test_day_night_daytime_progression():
    assert fen(DAY_NIGHT, at(MONDAY, "10:00"), at(MONDAY, "12:00")) == 300 + 200


def test_day_night_flat_5_yuan_per_night():
    assert fen(DAY_NIGHT, at(MONDAY, "18:30"), at(MONDAY, "09:00", 1)) == 500 + 500 + 300
    assert fen(DAY_NIGHT, at(MONDAY, "02:00"), at(MONDAY, "03:00")) == 500  # the night that began on Sunday


def test_day_night_two_nights():
    # Day 1 19-20 ¥3; night ¥5; day 2 08-20 ¥3 + 11 x ¥2; night ¥5; day 3 08-09 ¥3.
    assert fen(DAY_NIGHT, at(MONDAY, "19:00"), at(MONDAY, "09:00", 2)) == 300 + 500 + 2500 + 500 + 300


def test_day_night_new_energy_pays_half():
    assert fen(DAY_NIGHT, at(MONDAY, "18:30"), at(MONDAY, "09:00", 1), plate_colour=PlateColour.GREEN) == 650


# Vehicle classes and new-energy relief


def test_large_vehicles_pay_double_and_motorcycles_half():
    assert stay(CLASSES_AND_NEW_ENERGY, 120) == 800
    assert stay(CLASSES_AND_NEW_ENERGY, 120, vehicle_class=VehicleClass.LARGE) == 1600
    assert stay(CLASSES_AND_NEW_ENERGY, 120, vehicle_class=VehicleClass.MOTORCYCLE) == 400
    assert stay(CLASSES_AND_NEW_ENERGY, 15, vehicle_class=VehicleClass.LARGE) == 0


def test_class_multiple_applies_to_the_cap_too():
    assert stay(CLASSES_AND_NEW_ENERGY, 24 * 60) == 4000
    assert stay(CLASSES_AND_NEW_ENERGY, 24 * 60, vehicle_class=VehicleClass.LARGE) == 8000


@pytest.mark.parametrize(("minutes", "expected"), [(10, 0), (180, 0), (240, 400), (24 * 60, 2000), (30 * 60, 4000)])
def test_new_energy_three_hours_free_and_lower_24_hour_cap(minutes, expected):
    assert stay(CLASSES_AND_NEW_ENERGY, minutes, plate_colour=PlateColour.GREEN) == expected


def test_new_energy_large_vehicle_gets_relief_and_the_class_multiple():
    kwargs = {"plate_colour": PlateColour.YELLOW_GREEN, "vehicle_class": VehicleClass.LARGE}
    assert stay(CLASSES_AND_NEW_ENERGY, 24 * 60, **kwargs) == 4000
