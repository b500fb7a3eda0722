"""Upload validation: every bad tariff is rejected with a code and a reason (the API answers 400)."""

from __future__ import annotations

import copy
import json

import pytest

from shared.errors import InvalidInput
from shared.tariffs import validate_tariff
from shared.tariffs.samples import DAY_NIGHT, SAMPLES, SHENZHEN_ZONE_1, ZHUMADIAN_CLASS1


def document(tariff=ZHUMADIAN_CLASS1) -> dict:
    return copy.deepcopy(tariff.model_dump(mode="json"))


def rejected(data) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        validate_tariff(data)
    assert exc.value.message.startswith("invalid tariff")
    return exc.value


@pytest.mark.parametrize("tariff_id", sorted(SAMPLES))
def test_samples_validate_from_json(tariff_id):
    text = SAMPLES[tariff_id].model_dump_json()
    assert validate_tariff(text) == SAMPLES[tariff_id]
    assert validate_tariff(json.loads(text)) == SAMPLES[tariff_id]


@pytest.mark.parametrize("path", [("rules", 0, "blocks", 0, "price_fen"), ("cap", "amount_fen")])
def test_negative_amount(path):
    data = document()
    target = data["versions"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = -100
    err = rejected(data)
    assert err.code == "tariff_negative_amount"
    assert err.details["errors"][0]["path"] == "versions.0." + ".".join(map(str, path))


def test_negative_flat_fee_and_ratio():
    data = document(DAY_NIGHT)
    data["versions"][0]["rules"][1]["price_fen"] = -500
    assert rejected(data).code == "tariff_negative_amount"
    data = document(DAY_NIGHT)
    data["versions"][0]["new_energy"]["ratio"] = {"num": -1, "den": 2}
    assert rejected(data).code == "tariff_negative_amount"


def test_overlapping_windows_of_two_rules():
    data = document(DAY_NIGHT)
    data["versions"][0]["rules"][1]["windows"][0]["start"] = "19:00"  # night now starts inside the day
    err = rejected(data)
    assert err.code == "tariff_overlapping_windows"
    assert "rule 0" in err.message and "rule 1" in err.message


def test_overlap_only_when_a_night_runs_into_a_rest_day():
    data = document(SHENZHEN_ZONE_1)
    rule = data["versions"][0]["rules"][0]
    rule["windows"] = [
        {"days": ["workday"], "start": "20:00", "end": "12:00"},  # Friday night runs into Saturday morning
        {"days": ["rest_day"], "start": "10:00", "end": "20:00"},
    ]
    err = rejected(data)
    assert err.code == "tariff_overlapping_windows" and "a workday followed by a rest_day" in err.message


def test_a_rule_at_all_times_overlaps_any_other_rule():
    data = document(DAY_NIGHT)
    data["versions"][0]["rules"][0]["windows"] = None
    assert rejected(data).code == "tariff_overlapping_windows"


def test_touching_windows_are_allowed():
    data = document(DAY_NIGHT)
    data["versions"][0]["rules"][1]["windows"][0]["end"] = "08:00"
    validate_tariff(data)


def test_cap_below_first_block():
    data = document()
    data["versions"][0]["cap"]["amount_fen"] = 300  # first hour costs ¥4
    err = rejected(data)
    assert err.code == "tariff_cap_below_first_block" and "400" in err.message


def test_new_energy_cap_below_first_block_and_without_cap():
    data = document()
    data["versions"][0]["new_energy"] = {"cap_fen": 100}
    assert rejected(data).code == "tariff_cap_below_first_block"
    data = document(SHENZHEN_ZONE_1)
    data["versions"][0]["new_energy"]["cap_fen"] = 1000
    assert rejected(data).code == "tariff_invalid_cap"


def test_blocks_must_end_with_exactly_one_repeating_block():
    data = document()
    data["versions"][0]["rules"][0]["blocks"][1]["periods"] = 3
    assert rejected(data).code == "tariff_invalid_blocks"
    data = document()
    data["versions"][0]["rules"][0]["blocks"][0]["periods"] = None
    assert rejected(data).code == "tariff_invalid_blocks"


def test_flat_min_minutes_longer_than_its_window():
    data = document(DAY_NIGHT)
    data["versions"][0]["rules"][1]["min_minutes"] = 721
    assert rejected(data).code == "tariff_invalid_rule"


def test_versions_must_be_in_order():
    data = document()
    later = copy.deepcopy(data["versions"][0])
    later["effective_from"] = "2019-01-01T00:00:00+08:00"
    data["versions"].append(later)
    assert rejected(data).code == "tariff_versions_unordered"


def test_calendar_date_both_holiday_and_workday():
    data = document()
    data["versions"][0]["calendar"] = {"holidays": ["2026-10-01"], "workdays": ["2026-10-01"]}
    assert rejected(data).code == "tariff_calendar_conflict"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda v: v.update(effective_from="2020-12-01T00:00:00"), "versions.0.effective_from"),  # no offset
        (lambda v: v["rules"][0].update(kind="hourly"), "versions.0.rules.0"),
        (lambda v: v.update(surprise=1), "versions.0.surprise"),
        (lambda v: v["rules"][0]["blocks"][0].update(period_minutes=0), "versions.0.rules.0.blocks.0.period_minutes"),
    ],
)
def test_malformed_documents(mutate, path):
    data = document()
    mutate(data["versions"][0])
    err = rejected(data)
    assert err.code == "tariff_invalid"
    assert err.details["errors"][0]["path"].startswith(path)


def test_bad_window_time_and_json_text():
    data = document(SHENZHEN_ZONE_1)
    data["versions"][0]["rules"][0]["windows"][0]["start"] = "7:30"
    assert rejected(data).code == "tariff_invalid"
    assert rejected("{not json").code == "tariff_invalid"
    assert rejected(b'{"id": "x"}').code == "tariff_invalid"
