"""Time as a dependency: code takes a ``Clock`` so tests move time instead of sleeping.

All instants are timezone-aware. Tariffs and calendar days are evaluated in Asia/Shanghai.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_POLL_S = 0.005  # how often (real time) ``wait_for`` re-checks a condition another thread may have made true


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Block until ``predicate()`` holds (True) or ``seconds`` of this clock's time pass (False)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Block until ``predicate()`` holds (True) or ``seconds`` pass (False)."""
        deadline = time.monotonic() + seconds
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(_POLL_S, remaining))
        return True


class ManualClock:
    """A clock that only moves when told to. ``sleep`` blocks until ``advance`` passes its deadline,
    so a workflow's Wait state in another thread resumes exactly when a test moves time."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._cond = threading.Condition()
        self._deadlines: list[datetime] = []  # one per thread blocked in ``sleep`` or ``wait_for``

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            deadline = self._now + timedelta(seconds=seconds)
            self._deadlines.append(deadline)
            try:
                while self._now < deadline:
                    self._cond.wait()
            finally:
                self._deadlines.remove(deadline)

    def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Block until ``predicate()`` holds (True) or ``advance`` moves time ``seconds`` past the call (False);
        the predicate wins a tie. It is made true by other threads without telling the clock, so it is re-checked
        every few milliseconds of real time. Counts in ``sleepers`` while blocked, like ``sleep``."""
        with self._cond:
            deadline = self._now + timedelta(seconds=seconds)
            self._deadlines.append(deadline)
            try:
                while not predicate():
                    if self._now >= deadline:
                        return False
                    self._cond.wait(_POLL_S)
                return True
            finally:
                self._deadlines.remove(deadline)

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        with self._cond:
            self._now += timedelta(seconds=seconds, **delta)
            self._cond.notify_all()
            return self._now

    def set(self, instant: datetime) -> None:
        with self._cond:
            self._now = instant
            self._cond.notify_all()

    @property
    def sleepers(self) -> int:
        """How many threads are blocked in ``sleep`` or ``wait_for`` (tests wait for a workflow to reach its Wait
        state or its task-token wait)."""
        with self._cond:
            return len(self._deadlines)

    def next_wake(self) -> datetime | None:
        """The earliest instant a blocked thread waits for (None: no thread is blocked): a test moving time
        in steps can skip the steps that would wake no one."""
        with self._cond:
            return min(self._deadlines, default=None)


def has_offset(instant: datetime) -> bool:
    """Aware: a UTC offset is known. A fixed offset (UTC, +08:00: every decoded timestamp) always gives one, so
    it is not asked (the hot path of pricing and replay); a zone may give none, and is asked."""
    tz = instant.tzinfo
    return tz is not None and (type(tz) is timezone or instant.utcoffset() is not None)


def local_date(instant: datetime) -> str:
    """The Asia/Shanghai calendar date of an instant, ``YYYY-MM-DD``."""
    if not has_offset(instant):  # naive: the machine's local time, as astimezone takes it
        return instant.astimezone(SHANGHAI).date().isoformat()
    day = local_seconds(instant) // 86400
    text = _DATES.get(day)
    if text is None:
        if len(_DATES) > 100_000:  # bounded memory
            _DATES.clear()
        text = _DATES[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return text


def local_seconds(instant: datetime) -> int:
    """Whole seconds since 1970-01-01 00:00 on Shanghai's wall clock at an aware instant: what
    ``instant.astimezone(SHANGHAI)`` reads, by the hour's offset instead of a zone conversion (replay asks
    for several per event; ``tests/test_clock.py`` checks it against the zone)."""
    since = instant - _UTC_EPOCH
    seconds = since.days * 86400 + since.seconds
    offset = _OFFSETS.get(seconds // 3600)
    if offset is None and (offset := _hour_offset(seconds // 3600)) is None:  # the offset changes in the hour
        wall = instant.astimezone(SHANGHAI).replace(tzinfo=None) - _WALL_EPOCH
        return wall.days * 86400 + wall.seconds
    return seconds + offset


_UTC_EPOCH, _WALL_EPOCH = datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1)
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
_OFFSETS: dict[int, int] = {}  # UTC hour -> Shanghai's offset through it (s); hours with a change are not kept
_DATES: dict[int, str] = {}  # local day number -> YYYY-MM-DD


def _hour_offset(hour: int) -> int | None:
    first, last = (datetime.fromtimestamp(hour * 3600 + s, SHANGHAI).utcoffset() for s in (0, 3599))
    if first != last:
        return None
    if len(_OFFSETS) > 200_000:  # about 23 years of hours: bounded memory
        _OFFSETS.clear()
    _OFFSETS[hour] = int(first.total_seconds())
    return _OFFSETS[hour]


def iso(instant: datetime) -> str:
    """RFC 3339 with the Shanghai offset, the form every stored and returned timestamp takes."""
    return instant.astimezone(SHANGHAI).isoformat(timespec="seconds")
