"""Hotspots (S2): utilisation by hour from stays, turnover, the hot lot-hours, and the PNG plot."""

from __future__ import annotations

from datetime import date, datetime

from shared.clock import SHANGHAI
from shared.hotspots.model import Stay, utilisation
from shared.hotspots.plot import heatmap_png

DAY = date(2026, 11, 23)


def at(h, m=0):
    return datetime(2026, 11, 23, h, m, tzinfo=SHANGHAI)


def test_utilisation_turnover_and_hotspots():
    stays = [Stay("a", at(9), at(11)), Stay("a", at(9, 30), at(10, 30)), Stay("b", at(10), None),
             Stay("b", datetime(2026, 11, 22, 23, 0, tzinfo=SHANGHAI), at(1))]
    out = utilisation(stays, {"a": ("320213", 2), "b": ("320214", 4)}, DAY)
    assert out["lots"]["a"][9] == 0.75 and out["lots"]["a"][10] == 0.75 and out["lots"]["a"][11] == 0
    assert out["lots"]["b"][0] == 0.25 and out["lots"]["b"][23] == 0.25  # still parked at midnight
    assert out["turnover"] == {"a": 1.0, "b": 0.25}  # the stay from the day before does not count
    assert out["districts"]["320213"][9] == 0.75
    assert out["hotspots"] == []
    hot = utilisation([*stays, Stay("a", at(9), at(10))], {"a": ("320213", 2)}, DAY)
    assert hot["hotspots"] == [{"lot_id": "a", "district_code": "320213", "hour": 9, "utilisation": 1.0}]


def test_plot_is_a_png():
    report = utilisation([Stay("a", at(9), at(11))], {"a": ("320213", 1), "b": ("320213", 5)}, DAY)
    png = heatmap_png(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
