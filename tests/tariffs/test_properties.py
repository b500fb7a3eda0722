"""Properties of the engine on random valid tariffs and stays, and agreement with the minute-by-minute reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.tariffs import quote
from shared.clock import SHANGHAI
from shared.tariffs.quote import local_minute, round_half_up
from shared.tariffs.reference import reference_quote
from shared.tariffs.samples import SAMPLES
from tests.tariffs.strategies import durations, instants, plate_colours, tariffs, vehicle_classes

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AGREEMENT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MONTH = 30 * 1440


def _agree(tariff, entered, exited, vehicle, colour) -> None:
    fast = quote(tariff, entered, exited, vehicle, colour)
    slow = reference_quote(tariff, entered, exited, vehicle, colour)
    assert [(c.raw_fen, c.amount_fen) for c in fast.cycles] == slow.cycles
    assert fast.amount_fen == slow.amount_fen


@AGREEMENT
@given(tariffs(), instants(), durations(4 * 1440), vehicle_classes, plate_colours)
def test_engine_agrees_with_minute_by_minute_reference(tariff, entered, stay, vehicle, colour):
    _agree(tariff, entered, entered + stay, vehicle, colour)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tariffs(), instants(), st.integers(MONTH - 1440, MONTH), vehicle_classes, plate_colours)
def test_engine_agrees_with_reference_on_month_long_stays(tariff, entered, minutes, vehicle, colour):
    _agree(tariff, entered, entered + timedelta(minutes=minutes), vehicle, colour)


@AGREEMENT
@given(st.sampled_from(sorted(SAMPLES)), instants(), durations(3 * 1440), vehicle_classes, plate_colours)
def test_samples_agree_with_reference(tariff_id, entered, stay, vehicle, colour):
    _agree(SAMPLES[tariff_id], entered, entered + stay, vehicle, colour)


@PROPERTY
@given(tariffs(), instants(), durations(MONTH), vehicle_classes, plate_colours)
def test_never_negative_and_lines_add_up(tariff, entered, stay, vehicle, colour):
    q = quote(tariff, entered, entered + stay, vehicle, colour)
    assert q.amount_fen >= 0
    assert all(c.amount_fen >= 0 and c.raw_fen >= 0 for c in q.cycles)
    assert sum(line.amount_fen for line in q.lines) == q.amount_fen
    assert sum(c.end_minute - c.start_minute for c in q.cycles) == q.minutes


@PROPERTY
@given(tariffs(), instants(), durations(MONTH), vehicle_classes, plate_colours)
def test_never_more_than_the_cap_per_cap_period(tariff, entered, stay, vehicle, colour):
    q = quote(tariff, entered, entered + stay, vehicle, colour)
    version = tariff.version_at(entered)
    if version.cap is None:
        assert len(q.cycles) <= 1
        return
    cap = version.cap.amount_fen
    if q.new_energy and version.new_energy and version.new_energy.cap_fen is not None:
        cap = version.new_energy.cap_fen
    num, den = q.ratio
    for cycle in q.cycles:
        assert cycle.capped_fen <= cap
        assert cycle.amount_fen <= round_half_up(cap * num, den)
        length = cycle.end_minute - cycle.start_minute
        assert 0 < length <= 1440
        if version.cap.period == "calendar_day":
            assert cycle.start_minute // 1440 == (cycle.end_minute - 1) // 1440


@PROPERTY
@given(tariffs(), instants(), durations(MONTH), st.integers(0, 3 * 1440), vehicle_classes, plate_colours)
def test_a_longer_stay_never_costs_less(tariff, entered, stay, extra, vehicle, colour):
    shorter = quote(tariff, entered, entered + stay, vehicle, colour)
    longer = quote(tariff, entered, entered + stay + timedelta(minutes=extra), vehicle, colour)
    assert longer.amount_fen >= shorter.amount_fen


@PROPERTY
@given(tariffs(), instants(), durations(9 * 1440), st.lists(st.integers(-60, 60), min_size=1, max_size=4),
       vehicle_classes, plate_colours)  # fmt: skip
def test_the_amount_without_breakdown_is_the_quotes_on_any_date(tariff, entered, stay, days, vehicle, colour):
    # the same stay moved by whole days: the remembered amount of its shape must be each date's own
    for d in [0, *days, 0]:
        at = entered + timedelta(days=d)
        if at < tariff.versions[0].effective_from:
            continue
        fast = quote(tariff, at, at + stay, vehicle, colour, itemised=False)
        full = quote(tariff, at, at + stay, vehicle, colour)
        assert fast.amount_fen == full.amount_fen
        assert (fast.tariff_id, fast.version_from, fast.minutes) == (full.tariff_id, full.version_from, full.minutes)
        assert fast.cycles == ()


@PROPERTY
@given(tariffs(), instants(), st.integers(-3 * 365 * 1440, 3 * 365 * 1440))
def test_the_version_found_by_bisection_is_the_models(tariff, entered, shift):
    from shared.errors import InvalidInput
    from shared.tariffs.engine import _version_at

    at = entered + timedelta(minutes=shift)
    try:
        expected = tariff.version_at(at)
    except InvalidInput as e:
        with pytest.raises(InvalidInput) as raised:
            _version_at(tariff, at)
        assert raised.value.code == e.code
        return
    assert _version_at(tariff, at) is expected


@PROPERTY
@given(st.datetimes(datetime(1900, 1, 2), datetime(2100, 1, 1)),
       st.sampled_from([UTC, SHANGHAI, timezone(-timedelta(hours=5, minutes=30))]))  # fmt: skip
@example(datetime(1941, 3, 15, 0, 30), SHANGHAI)  # a wall time in a spring-forward gap: the clock read 01:30
def test_local_minutes_are_the_zones_wall_clock(wall, zone):
    # the engine's offsets by the hour (historical daylight saving included) against the zone's conversion, made
    # through UTC (astimezone() to an instant's own zone would return a gap's wall time as written)
    instant = wall.replace(tzinfo=zone)
    local = instant.astimezone(UTC).astimezone(SHANGHAI).replace(tzinfo=None) - datetime(1970, 1, 1)
    assert local_minute(instant) == local.days * 1440 + local.seconds // 60



@PROPERTY
@given(tariffs(), instants(), durations(9 * 1440), vehicle_classes, plate_colours)
def test_a_remembered_quote_is_found_again_by_the_short_path(tariff, entered, stay, vehicle, colour):
    # ``quote`` first looks the stay's shape up without the general path (``_remembered``): once a shape is
    # remembered, the short path finds that very quote for a stay of the same shape (fixed offsets; a zone's
    # times take the general path, None here)
    from shared.tariffs.engine import _remembered

    if entered < tariff.versions[0].effective_from:
        return
    first = quote(tariff, entered, entered + stay, vehicle, colour, itemised=False)
    found = _remembered(tariff, entered, entered + stay, vehicle, colour)
    if type(entered.tzinfo) is not timezone:
        assert found is None
        return
    if stay < timedelta(days=7):  # every such stay has a shape (a longer one only if the clock does not matter)
        assert found is first
    assert found is None or found is first
