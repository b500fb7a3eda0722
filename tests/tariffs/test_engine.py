"""Engine rules not tied to one sample: versions, rounding, runs, flat fees, caps, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import SHANGHAI
from shared.errors import InvalidInput
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs import Tariff, quote
from shared.tariffs.quote import round_half_up
from shared.tariffs.reference import reference_quote
from shared.tariffs.samples import HANGZHOU_ROAD_BERTH, ZHUMADIAN_CLASS1

MONDAY = datetime(2026, 3, 2, tzinfo=SHANGHAI)


def tariff(*versions: dict) -> Tariff:
    return Tariff.model_validate({"id": "t", "name": "test", "versions": list(versions)})


def version(effective_from: str = "2020-01-01T00:00:00+08:00", **fields) -> dict:
    return {"effective_from": effective_from, **fields}


def hourly(price: int, **rule) -> dict:
    return {"kind": "progressive", "blocks": [{"period_minutes": 60, "price_fen": price}], **rule}


def both(t: Tariff, entered: datetime, exited: datetime, **kwargs) -> int:
    fast = quote(t, entered, exited, **kwargs)
    assert fast.amount_fen == reference_quote(t, entered, exited, **kwargs).amount_fen
    return fast.amount_fen


def test_the_version_in_force_at_entry_prices_the_whole_stay():
    t = tariff(version(rules=[hourly(100)]), version("2026-03-02T12:00:00+08:00", rules=[hourly(300)]))
    assert both(t, MONDAY + timedelta(hours=11), MONDAY + timedelta(hours=14)) == 300  # entered before the switch
    assert both(t, MONDAY + timedelta(hours=12), MONDAY + timedelta(hours=15)) == 900
    assert quote(t, MONDAY + timedelta(hours=12), MONDAY + timedelta(hours=13)).version_from.hour == 12


def test_a_stay_before_the_first_version_is_rejected():
    with pytest.raises(InvalidInput) as exc:
        quote(ZHUMADIAN_CLASS1, datetime(2019, 1, 1, tzinfo=SHANGHAI), datetime(2019, 1, 2, tzinfo=SHANGHAI))
    assert exc.value.code == "tariff_not_in_force"


def test_exit_before_entry_is_a_bad_interval():
    with pytest.raises(InvalidInput) as exc:
        quote(ZHUMADIAN_CLASS1, MONDAY, MONDAY - timedelta(seconds=1))
    assert exc.value.code == "quote_bad_interval"


def test_naive_times_are_rejected():
    with pytest.raises(InvalidInput) as exc:
        quote(ZHUMADIAN_CLASS1, datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10))
    assert exc.value.code == "quote_naive_time"


def test_any_utc_offset_is_read_as_shanghai_local_time():
    entered = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert quote(HANGZHOU_ROAD_BERTH, entered, entered + timedelta(minutes=61)).amount_fen == 800
    shenzhen_like = tariff(version(rules=[hourly(100, windows=[{"start": "08:00", "end": "10:00"}])]))
    assert both(shenzhen_like, entered, entered + timedelta(hours=3)) == 100  # only 09:00-10:00 is charged


def test_a_stay_is_its_duration_in_whole_minutes_from_the_entry_minute():
    t = tariff(
        version(
            rules=[
                {
                    "kind": "progressive",
                    "windows": [{"start": "08:00", "end": "09:00"}],
                    "blocks": [{"period_minutes": 1, "price_fen": 1}],
                }
            ]
        )
    )
    entered = MONDAY + timedelta(hours=7, minutes=59, seconds=40)
    q = quote(t, entered, entered + timedelta(minutes=30, seconds=30))
    assert q.minutes == 30 and q.amount_fen == 29  # 07:59 to 08:28: 29 of them in the window
    assert both(t, entered, entered + timedelta(seconds=50)) == 0


def test_zero_minute_stay_costs_nothing_and_has_no_cycles():
    q = quote(ZHUMADIAN_CLASS1, MONDAY, MONDAY + timedelta(seconds=40))
    assert (q.amount_fen, q.minutes, q.cycles) == (0, 0, ())


def test_ratio_rounds_half_up_once_per_cap_period():
    t = tariff(
        version(
            rules=[{"kind": "progressive", "blocks": [{"period_minutes": 1, "price_fen": 1}]}],
            cap={"period": "rolling_24h", "amount_fen": 1001},
            vehicle_classes={"motorcycle": {"num": 1, "den": 2}, "large": {"num": 5, "den": 3}},
        )
    )
    moto = {"vehicle_class": VehicleClass.MOTORCYCLE}
    assert both(t, MONDAY, MONDAY + timedelta(minutes=3), **moto) == 2  # 1.5 -> 2
    assert both(t, MONDAY, MONDAY + timedelta(minutes=2), **moto) == 1
    # Two cap periods of 1001 fen each: 500.5 rounds up in each, so 1002 (not 1001 once at the end).
    assert both(t, MONDAY, MONDAY + timedelta(days=2), **moto) == 1002
    q = quote(t, MONDAY, MONDAY + timedelta(minutes=7), vehicle_class=VehicleClass.LARGE)
    assert q.amount_fen == 12 and q.lines[-1].kind == "ratio" and q.lines[-1].amount_fen == 5  # 11.67 -> 12


def test_round_half_up():
    assert [round_half_up(n, 2) for n in (0, 1, 2, 3)] == [0, 1, 1, 2]
    assert round_half_up(5, 3) == 2 and round_half_up(4, 3) == 1


def test_touching_windows_of_one_rule_are_one_run():
    blocks = [{"period_minutes": 60, "price_fen": 500, "periods": 1}, {"period_minutes": 60, "price_fen": 100}]
    windows = [{"start": "08:00", "end": "20:00"}, {"start": "20:00", "end": "08:00"}]
    t = tariff(version(rules=[{"kind": "progressive", "windows": windows, "blocks": blocks}]))
    assert both(t, MONDAY + timedelta(hours=19), MONDAY + timedelta(hours=22)) == 700  # no new first hour at 20:00


def test_each_run_restarts_but_never_continues_across_a_gap():
    blocks = [{"period_minutes": 60, "price_fen": 500, "periods": 1}, {"period_minutes": 60, "price_fen": 100}]
    windows = [{"start": "08:00", "end": "10:00"}, {"start": "12:00", "end": "14:00"}]
    each = tariff(version(rules=[{"kind": "progressive", "windows": windows, "blocks": blocks}]))
    never = tariff(version(rules=[{"kind": "progressive", "windows": windows, "blocks": blocks, "restart": "never"}]))
    entered, exited = MONDAY + timedelta(hours=9, minutes=30), MONDAY + timedelta(hours=12, minutes=45)
    assert both(each, entered, exited) == 500 + 500  # 09:30-10:00 and 12:00-12:45, each a first hour
    assert both(never, entered, exited) == 500 + 100  # 75 in-window minutes: the first hour and one more


def test_flat_fee_needs_min_minutes_and_belongs_to_the_day_it_becomes_due():
    night = {"kind": "flat", "windows": [{"start": "22:00", "end": "06:00"}], "price_fen": 800, "min_minutes": 180}
    t = tariff(version(rules=[night], cap={"period": "calendar_day", "amount_fen": 1000}))
    assert both(t, MONDAY + timedelta(hours=22), MONDAY + timedelta(hours=24, minutes=59)) == 0
    q = quote(t, MONDAY + timedelta(hours=22), MONDAY + timedelta(hours=25))
    assert q.amount_fen == 800 and [c.raw_fen for c in q.cycles] == [0, 800]  # due at 00:59 on Tuesday


def test_cap_bounds_flat_fees_and_progressive_charges_together():
    rules = [
        hourly(300, windows=[{"start": "08:00", "end": "20:00"}]),
        {"kind": "flat", "windows": [{"start": "20:00", "end": "08:00"}], "price_fen": 1000},
    ]
    t = tariff(version(rules=rules, cap={"period": "calendar_day", "amount_fen": 2000}))
    q = quote(t, MONDAY + timedelta(hours=16), MONDAY + timedelta(hours=22))
    assert q.amount_fen == 2000 and q.cycles[0].raw_fen == 4 * 300 + 1000
    assert [line.kind for line in q.lines] == ["periods", "flat", "cap"]


def test_deducted_free_time_charges_a_straddling_period_in_full():
    t = tariff(version(free={"minutes": 45, "mode": "deducted"}, rules=[hourly(400)]))
    assert both(t, MONDAY, MONDAY + timedelta(minutes=45)) == 0
    assert both(t, MONDAY, MONDAY + timedelta(minutes=46)) == 400  # the first hour reaches past the free time
    assert both(t, MONDAY, MONDAY + timedelta(minutes=61)) == 800


def test_new_energy_free_time_replaces_the_grace_period():
    t = tariff(
        version(
            free={"minutes": 15, "mode": "grace"},
            rules=[hourly(400)],
            new_energy={"free": {"minutes": 60, "mode": "deducted"}},
        )
    )
    assert both(t, MONDAY, MONDAY + timedelta(minutes=20)) == 400
    assert both(t, MONDAY, MONDAY + timedelta(minutes=20), plate_colour=PlateColour.GREEN) == 0
    assert both(t, MONDAY, MONDAY + timedelta(minutes=61), plate_colour=PlateColour.GREEN) == 400


def test_month_long_stay_across_month_end():
    entered = datetime(2026, 1, 31, 23, 30, tzinfo=SHANGHAI)
    exited = entered + timedelta(days=30)
    q = quote(HANGZHOU_ROAD_BERTH, entered, exited)
    assert len(q.cycles) == 31 and q.cycles[1].start == datetime(2026, 2, 1, tzinfo=SHANGHAI)
    # ¥5 for the last half-hour of January, then 30 calendar days (Feb 1 - Mar 2) capped at ¥50 each.
    assert q.amount_fen == 500 + 30 * 5000 == reference_quote(HANGZHOU_ROAD_BERTH, entered, exited).amount_fen


def test_quote_as_dict_is_json_ready():
    import json

    q = quote(HANGZHOU_ROAD_BERTH, MONDAY, MONDAY + timedelta(hours=30))
    body = json.loads(json.dumps(q.as_dict()))
    assert body["amount_fen"] == q.amount_fen and body["cycles"][0]["end"] == "2026-03-03T00:00:00+08:00"


def test_quoting_leaves_the_tariff_as_it_was():
    fresh = Tariff.model_validate_json(HANGZHOU_ROAD_BERTH.model_dump_json())
    quote(fresh, MONDAY, MONDAY + timedelta(hours=2))
    assert fresh == HANGZHOU_ROAD_BERTH and fresh.model_dump() == HANGZHOU_ROAD_BERTH.model_dump()
