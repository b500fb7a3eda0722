"""Shanghai's wall clock by the hour's offset (``shared.clock.local_seconds``, ``local_date``) against the zone's
own conversion, across the years its clocks moved for daylight saving too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.clock import SHANGHAI, local_date, local_seconds

ZONES = st.sampled_from([UTC, SHANGHAI, timezone(-timedelta(hours=5, minutes=30)), timezone(timedelta(hours=14))])


def _shanghai(instant: datetime) -> datetime:
    # through UTC: astimezone() to an instant's own zone returns it as written, and a wall time in a spring-forward
    # gap (1941-03-15 00:30 did not exist: the clocks went from 00:00 to 01:00) is not what the clock read
    return instant.astimezone(UTC).astimezone(SHANGHAI)


def _wall_seconds(instant: datetime) -> int:
    wall = _shanghai(instant).replace(tzinfo=None) - datetime(1970, 1, 1)
    return wall.days * 86400 + wall.seconds


@settings(max_examples=500, deadline=None)
@given(st.datetimes(datetime(1900, 1, 2), datetime(2100, 1, 1)), ZONES)
@example(datetime(1941, 3, 15, 0, 30), SHANGHAI)  # in the gap: the clock read 01:30 (+09:00)
def test_local_seconds_and_dates_are_the_zones(wall, zone):
    instant = wall.replace(tzinfo=zone)
    assert local_seconds(instant) == _wall_seconds(instant)
    assert local_date(instant) == _shanghai(instant).date().isoformat()


def test_through_shanghais_daylight_saving_years():
    at, end = datetime(1985, 12, 31, 16, 0, 7, 999_999, tzinfo=UTC), datetime(1992, 1, 1, tzinfo=UTC)
    while at < end:  # every 37 minutes across 1986-1991, each of whose summers moved the clock by an hour
        assert local_seconds(at) == _wall_seconds(at)
        assert local_date(at) == at.astimezone(SHANGHAI).date().isoformat()
        at += timedelta(minutes=37)


def test_a_naive_time_is_the_machines_local_time_as_before():
    naive = datetime(2026, 12, 1, 23, 30)
    assert local_date(naive) == naive.astimezone(SHANGHAI).date().isoformat()
