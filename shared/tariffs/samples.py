"""Sample tariffs: the rule sets Chinese cities actually use, each expressed in the tariff format.

They are worked examples (``tests/tariffs/test_samples.py``) and are published as JSON under
``events/samples/tariffs/`` (``python -m shared.tariffs write`` regenerates those files). The amounts follow
the public rules they are named after; holidays are left for the operator's calendar.
"""

from __future__ import annotations

from pathlib import Path

from shared.tariffs.model import Tariff

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "events" / "samples" / "tariffs"

_ALWAYS = ["workday", "rest_day"]

ZHUMADIAN_CLASS1 = Tariff.model_validate(
    {
        "id": "zhumadian-class1-offstreet",
        "name": "Zhumadian class-1 off-street (2020 hearing)",
        "versions": [
            {
                "effective_from": "2020-12-01T00:00:00+08:00",
                "note": "First 30 min free; up to 1 h ¥4, then ¥1 per further started hour; at most ¥20 per 24 h, "
                "each 24 h priced afresh and without the free half-hour, which only a stay of at most 30 min gets.",
                "free": {"minutes": 30, "mode": "grace"},
                "rules": [
                    {
                        "kind": "progressive",
                        "blocks": [
                            {"period_minutes": 60, "price_fen": 400, "periods": 1},
                            {"period_minutes": 60, "price_fen": 100},
                        ],
                    }
                ],
                "cap": {"period": "rolling_24h", "amount_fen": 2000, "restart_progression": True},
            }
        ],
    }
)

HANGZHOU_ROAD_BERTH = Tariff.model_validate(
    {
        "id": "hangzhou-style-road-berth",
        "name": "Hangzhou-style road berth",
        "versions": [
            {
                "effective_from": "2021-01-01T00:00:00+08:00",
                "note": "First 15 min free; first hour ¥5; then ¥3 per started half-hour; at most ¥50 per calendar day.",
                "free": {"minutes": 15, "mode": "grace"},
                "rules": [
                    {
                        "kind": "progressive",
                        "blocks": [
                            {"period_minutes": 60, "price_fen": 500, "periods": 1},
                            {"period_minutes": 30, "price_fen": 300},
                        ],
                    }
                ],
                "cap": {"period": "calendar_day", "amount_fen": 5000},
            }
        ],
    }
)

SHENZHEN_ZONE_1 = Tariff.model_validate(
    {
        "id": "shenzhen-style-onstreet-zone1",
        "name": "Shenzhen-style on-street, zone 1 (progressive)",
        "versions": [
            {
                "effective_from": "2019-07-01T00:00:00+08:00",
                "note": "¥3 the first half-hour, ¥6 per half-hour up to 3 h, ¥10 per half-hour after; charged "
                "07:30-20:00 on workdays and 10:00-20:00 on rest days, free otherwise; each charging day "
                "starts afresh. New-energy vehicles: the first hour of a stay free.",
                "rules": [
                    {
                        "kind": "progressive",
                        "windows": [
                            {"days": ["workday"], "start": "07:30", "end": "20:00"},
                            {"days": ["rest_day"], "start": "10:00", "end": "20:00"},
                        ],
                        "blocks": [
                            {"period_minutes": 30, "price_fen": 300, "periods": 1},
                            {"period_minutes": 30, "price_fen": 600, "periods": 5},
                            {"period_minutes": 30, "price_fen": 1000},
                        ],
                        "restart": "each_run",
                    }
                ],
                "new_energy": {"free": {"minutes": 60, "mode": "deducted"}},
            }
        ],
    }
)

DAY_NIGHT = Tariff.model_validate(
    {
        "id": "day-night-offstreet",
        "name": "Day/night off-street: daytime progressive, ¥5 per night",
        "versions": [
            {
                "effective_from": "2024-01-01T00:00:00+08:00",
                "note": "08:00-20:00: ¥3 the first hour, then ¥2 per started hour, each day afresh; "
                "20:00-08:00: ¥5 per night. New-energy vehicles pay half.",
                "rules": [
                    {
                        "kind": "progressive",
                        "windows": [{"days": _ALWAYS, "start": "08:00", "end": "20:00"}],
                        "blocks": [
                            {"period_minutes": 60, "price_fen": 300, "periods": 1},
                            {"period_minutes": 60, "price_fen": 200},
                        ],
                    },
                    {
                        "kind": "flat",
                        "windows": [{"days": _ALWAYS, "start": "20:00", "end": "08:00"}],
                        "price_fen": 500,
                    },
                ],
                "new_energy": {"ratio": {"num": 1, "den": 2}},
            }
        ],
    }
)

CLASSES_AND_NEW_ENERGY = Tariff.model_validate(
    {
        "id": "classes-new-energy-offstreet",
        "name": "Off-street with vehicle classes and new-energy relief",
        "versions": [
            {
                "effective_from": "2025-03-01T00:00:00+08:00",
                "note": "¥2 per started half-hour after 15 free minutes, at most ¥40 per 24 h. Large vehicles pay "
                "double, motorcycles half. New-energy vehicles: the first 3 h of a stay free and at most ¥20 "
                "per 24 h (before the class multiple).",
                "free": {"minutes": 15, "mode": "grace"},
                "rules": [{"kind": "progressive", "blocks": [{"period_minutes": 30, "price_fen": 200}]}],
                "cap": {"period": "rolling_24h", "amount_fen": 4000},
                "vehicle_classes": {"large": {"num": 2, "den": 1}, "motorcycle": {"num": 1, "den": 2}},
                "new_energy": {"free": {"minutes": 180, "mode": "deducted"}, "cap_fen": 2000},
            }
        ],
    }
)

SAMPLES: dict[str, Tariff] = {
    t.id: t for t in (ZHUMADIAN_CLASS1, HANGZHOU_ROAD_BERTH, SHENZHEN_ZONE_1, DAY_NIGHT, CLASSES_AND_NEW_ENERGY)
}


def sample_json(tariff: Tariff) -> str:
    """The published form of a sample: defaults included, so every field's meaning is visible."""
    return tariff.model_dump_json(indent=2) + "\n"
