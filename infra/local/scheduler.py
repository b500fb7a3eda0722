"""Fires the project's schedules locally (moto stores EventBridge rules but never fires them).

Reads ``shared.resources.SCHEDULES``, the same definitions CDK turns into EventBridge rules, and
evaluates ``rate(...)`` and ``cron(...)`` expressions (cron in UTC, as EventBridge does).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from shared import resources
from infra.local import lambda_dispatch

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    m = _RATE.match(expression)
    if not m:
        return None
    return int(m.group(1)) * _UNIT[m.group(2).rstrip("s")]


def _field_matches(spec: str, value: int) -> bool:
    if spec in ("*", "?"):
        return True
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/")
            step = int(step_s)
        if part in ("*", "?"):
            lo, hi = 0, 10_000
        elif "-" in part:
            lo, hi = map(int, part.split("-"))
        else:
            lo = hi = int(part)
        if lo <= value <= hi and (value - lo) % step == 0:
            return True
    return False


def cron_matches(expression: str, instant: datetime) -> bool:
    """EventBridge cron: minutes hours day-of-month month day-of-week year (numeric fields only)."""
    m = _CRON.match(expression)
    if not m:
        raise ValueError(f"not a cron expression: {expression}")
    minute, hour, dom, month, dow, year = m.group(1).split()
    t = instant.astimezone(timezone.utc)
    eb_dow = (t.isoweekday() % 7) + 1  # EventBridge: 1 = Sunday
    return all(
        (
            _field_matches(minute, t.minute),
            _field_matches(hour, t.hour),
            _field_matches(dom, t.day),
            _field_matches(month, t.month),
            _field_matches(dow, eb_dow),
            _field_matches(year, t.year),
        )
    )


class Scheduler:
    def __init__(self, start: datetime) -> None:
        self._last: dict[str, datetime] = {s.logical: start for s in resources.SCHEDULES}

    def due(self, now: datetime) -> list[resources.Schedule]:
        due = []
        for s in resources.SCHEDULES:
            last = self._last[s.logical]
            seconds = rate_seconds(s.expression)
            if seconds is not None:
                fire = now - last >= timedelta(seconds=seconds)
            else:  # any whole minute passed since the last check that the cron matches
                minute = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
                fire = False
                while minute <= now and not fire:
                    fire = cron_matches(s.expression, minute)
                    minute += timedelta(minutes=1)
            if fire:
                self._last[s.logical] = now
                due.append(s)
        return due

    def run_due(self, now: datetime) -> dict[str, object]:
        results = {}
        for s in self.due(now):
            results[s.logical] = fire(s, now)
        return results


def fire(schedule: resources.Schedule, now: datetime) -> object:
    """Invoke a schedule's function with the payload the CDK rule sends (infra/cdk/schedules.py)."""
    fn = resources.function(schedule.function)
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "resources": [schedule.logical],
             "detail": schedule.payload, "time": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    body, errored = lambda_dispatch.invoke(fn.name, event)
    return {"error": body} if errored else body
