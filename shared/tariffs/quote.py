"""What a quote returns, and how instants become the engine's local minutes.

Time is counted in whole minutes. A stay lasts its real duration rounded down to whole minutes (a started
minute is not charged), and its minutes are laid on the local (Asia/Shanghai) clock from the minute of
entry, seconds dropped: entered at 07:59:40 and left at 08:30:10, the stay is 30 minutes, 07:59 to 08:29.
A stay shorter than a minute costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.clock import SHANGHAI, has_offset, iso, local_seconds
from shared.errors import InvalidInput

_ZERO = timedelta(0)
_EPOCH = datetime(1970, 1, 1)  # naive local wall clock: minute 0 is 1970-01-01 00:00 Shanghai time


def _aware(instant: datetime) -> None:
    if not has_offset(instant):
        raise InvalidInput("times must carry a UTC offset", code="quote_naive_time")


def local_minute(instant: datetime) -> int:
    """Minutes since 1970-01-01 00:00 local wall-clock time (so minute % 1440 is the time of day)."""
    _aware(instant)
    return local_seconds(instant) // 60


def instant_of(minute: int) -> datetime:
    return (_EPOCH + timedelta(minutes=minute)).replace(tzinfo=SHANGHAI)


def stay_minutes(entered_at: datetime, exited_at: datetime) -> tuple[int, int]:
    """The stay as (first minute, end minute); ``quote_bad_interval`` if it ends before it starts."""
    if not (has_offset(entered_at) and has_offset(exited_at)):  # two calls fewer when both are aware
        _aware(entered_at)
        _aware(exited_at)
    start = local_seconds(entered_at) // 60  # local_minute's, without a second check of the offset
    stay = exited_at - entered_at
    if stay < _ZERO:
        raise InvalidInput(
            "the stay ends before it starts",
            code="quote_bad_interval",
            entered_at=iso(entered_at),
            exited_at=iso(exited_at),
        )
    return start, start + (stay.days * 86400 + stay.seconds) // 60  # whole minutes: the seconds' floor, as stay // 1 min


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator/denominator rounded to the nearest integer, halves up (inputs are never negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class Line:
    """One item of the breakdown. ``kind``: periods (``count`` periods of ``block`` of ``rule`` at
    ``unit_fen``), flat (``count`` occurrences of ``rule``), cap (the reduction to the cap), ratio (the
    class/new-energy adjustment after rounding). ``amount_fen`` is negative for reductions."""

    kind: str
    amount_fen: int
    rule: int | None = None
    block: int | None = None
    count: int = 1
    unit_fen: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("kind", "rule", "block", "count", "unit_fen", "amount_fen")}


@dataclass(frozen=True, slots=True)
class Cycle:
    """One cap period of the stay (the whole stay when the tariff has no cap)."""

    index: int
    start_minute: int
    end_minute: int
    raw_fen: int  # charges incurred in the period, before the cap
    capped_fen: int  # after the cap
    amount_fen: int  # after the ratio, rounded half up
    lines: tuple[Line, ...]

    @property
    def start(self) -> datetime:
        return instant_of(self.start_minute)

    @property
    def end(self) -> datetime:
        return instant_of(self.end_minute)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": iso(self.start),
            "end": iso(self.end),
            "raw_fen": self.raw_fen,
            "capped_fen": self.capped_fen,
            "amount_fen": self.amount_fen,
            "lines": [line.as_dict() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class Quote:
    tariff_id: str
    version_from: datetime
    minutes: int
    new_energy: bool
    ratio: tuple[int, int]  # the combined class x new-energy multiplier, num/den
    cap_fen: int | None  # the applicable cap per cycle before the ratio (None: no cap)
    amount_fen: int
    cycles: tuple[Cycle, ...]

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for cycle in self.cycles for line in cycle.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tariff_id": self.tariff_id,
            "version_from": iso(self.version_from),
            "minutes": self.minutes,
            "new_energy": self.new_energy,
            "ratio": {"num": self.ratio[0], "den": self.ratio[1]},
            "cap_fen": self.cap_fen,
            "amount_fen": self.amount_fen,
            "cycles": [cycle.as_dict() for cycle in self.cycles],
        }
