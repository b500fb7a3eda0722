"""The fast quote: charges computed arithmetically per window occurrence and per block, never per minute.

How a stay is priced (``docs/tariffs.md`` has the full semantics and examples):
1. The version in force at entry applies. Free time marks a prefix of the stay (deducted) or the whole
   stay (grace, when the stay is short enough) as free.
2. The stay is cut into cycles: the cap periods (calendar days, or 24 h from entry), or one cycle
   without a cap.
3. Each progressive rule's in-window minutes form progression groups (per run of consecutive minutes, or
   one per stay; also cut at cycle boundaries when the cap restarts the progression). Along a group's
   minutes the blocks lay out periods; a period costs its price if any of its minutes is not free, and the
   charge belongs to the cycle of its first non-free minute.
4. A flat rule charges once per window occurrence in which the stay spends ``min_minutes`` non-free minutes.
5. Per cycle: the sum is capped, multiplied by the class x new-energy ratio and rounded half up once.

Without the breakdown (``itemised=False``: replay, which needs only the fen) the amount is remembered per
version and *shape* of stay: its length, and the time of day it starts at with the kinds of the days it
meets (``_Compiled.shape``), or its length alone for a version whose charges do not depend on the clock.
Two stays of the same shape cost the same, whatever their dates (``tests/tariffs/test_properties.py``).
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs.model import FreeTime, Tariff, TariffVersion
from shared.tariffs.quote import Cycle, Line, Quote, round_half_up, stay_minutes

NEW_ENERGY_COLOURS = frozenset({PlateColour.GREEN, PlateColour.YELLOW_GREEN})
WORKDAY, REST_DAY = 1, 2
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()

Span = tuple[int, int]  # [start, end) in local minutes
_SHAPE_MAX_MINUTES = 7 * 1440  # longer stays are priced afresh each time (rare; their shapes rarely repeat)
_AMOUNTS_MAX = 200_000  # remembered shapes per version and vehicle: memory stays bounded


@dataclass(frozen=True, slots=True)
class _Progressive:
    index: int
    windows: tuple[tuple[int, int, int], ...] | None  # (start minute of day, length, day-kind mask)
    blocks: tuple[tuple[int, int, int | None, int], ...]  # (axis start, period minutes, periods, price)
    each_run: bool


@dataclass(frozen=True, slots=True)
class _Flat:
    index: int
    windows: tuple[tuple[int, int, int], ...]
    price: int
    min_minutes: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    progressive: tuple[_Progressive, ...]
    flat: tuple[_Flat, ...]
    holidays: frozenset[int]
    workdays: frozenset[int]
    free: tuple[int, bool] | None  # (minutes, is grace)
    nev_free: tuple[int, bool] | None
    cap_kind: str | None
    cap_fen: int | None
    nev_cap_fen: int | None
    restart: bool
    class_ratio: dict[VehicleClass, tuple[int, int]]
    nev_ratio: tuple[int, int]
    prices: dict[tuple[int, int], int]  # (rule, block or -1 for flat) -> unit price
    clock_free: bool  # no windows and no calendar-day cap: a stay's charge depends on its length alone
    amounts: dict[tuple, Quote] = field(default_factory=dict, compare=False)  # shape -> quote without lines
    kinds: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict, compare=False)  # days -> kinds

    def shape(self, start: int, end: int) -> tuple | None:
        """What a stay's charge depends on besides the vehicle: its length, and unless the version ignores
        the clock, its start's minute of the day and the kinds of the days its windows can meet (the same
        days ``_occurrences`` looks at). None for stays too long to be worth remembering."""
        minutes = end - start
        if self.clock_free:
            return (minutes,)
        if minutes > _SHAPE_MAX_MINUTES:
            return None
        days = (start // 1440 - 1, (end - 1) // 1440 + 1)
        kinds = self.kinds.get(days)
        if kinds is None:  # remembered per run of days (a stay of a week or less meets at most 9)
            if len(self.kinds) >= _AMOUNTS_MAX:
                self.kinds.clear()
            kinds = self.kinds[days] = tuple(self.day_kind(day) for day in range(*days))
        return (minutes, start % 1440, kinds)

    def day_kind(self, day: int) -> int:
        if day in self.workdays:
            return WORKDAY
        if day in self.holidays:
            return REST_DAY
        return WORKDAY if (day + 3) % 7 < 5 else REST_DAY  # 1970-01-01 was a Thursday


def _windows(windows) -> tuple[tuple[int, int, int], ...]:
    masks = {"workday": WORKDAY, "rest_day": REST_DAY}
    spans = [(w.start_minute, w.length, sum(masks[d.value] for d in w.days)) for w in windows]
    return tuple(sorted(spans))


def _free(free: FreeTime | None) -> tuple[int, bool] | None:
    return None if free is None else (free.minutes, free.mode == "grace")


# id(version) -> (weak reference, compiled form). Versions are immutable, so compiling once is enough; the
# cache is kept beside them, not on them, so model equality and dumps never see it.
_COMPILED: dict[int, tuple[weakref.ref, _Compiled]] = {}
# id(tariff) -> (weak reference, (each version's effective_from as time since the epoch, the versions))
_STARTS: dict[int, tuple[weakref.ref, tuple[list[timedelta], list[TariffVersion]]]] = {}
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = timedelta(0)


def _forget(cache: dict, key: int, ref: weakref.ref) -> None:
    if cache.get(key, (None,))[0] is ref:
        del cache[key]


def _remember(cache: dict, obj, value):
    key = id(obj)
    cache[key] = (weakref.ref(obj, lambda ref: _forget(cache, key, ref)), value)
    return value


def _version_at(tariff: Tariff, instant: datetime) -> TariffVersion:
    """``tariff.version_at(instant)`` by bisection over exact offsets from the epoch: comparing aware
    datetimes of different zones asks both zones for their offsets, once per version per quote."""
    cached = _STARTS.get(id(tariff))
    if cached is not None and cached[0]() is tariff:
        starts_at, versions = cached[1]
    else:
        starts_at, versions = _remember(_STARTS, tariff, ([v.effective_from - _UTC_EPOCH for v in tariff.versions],
                                                          list(tariff.versions)))  # fmt: skip
    i = bisect_right(starts_at, instant - _UTC_EPOCH)
    return versions[i - 1] if i else tariff.version_at(instant)  # none in force: its error


def compile_version(version: TariffVersion) -> _Compiled:
    """The version in the engine's form, built on its first quote and remembered while it lives."""
    cached = _COMPILED.get(id(version))
    if cached is not None and cached[0]() is version:
        return cached[1]
    progressive, flat = [], []
    for i, rule in enumerate(version.rules):
        if rule.kind == "progressive":
            blocks, start = [], 0
            for b in rule.blocks:
                blocks.append((start, b.period_minutes, b.periods, b.price_fen))
                start += b.period_minutes * (b.periods or 0)
            windows = None if rule.windows is None else _windows(rule.windows)
            progressive.append(_Progressive(i, windows, tuple(blocks), rule.restart == "each_run"))
        else:
            flat.append(_Flat(i, _windows(rule.windows), rule.price_fen, rule.min_minutes))
    nev = version.new_energy
    cap = version.cap
    compiled = _Compiled(
        progressive=tuple(progressive),
        flat=tuple(flat),
        holidays=frozenset(d.toordinal() - _EPOCH_ORDINAL for d in version.calendar.holidays),
        workdays=frozenset(d.toordinal() - _EPOCH_ORDINAL for d in version.calendar.workdays),
        free=_free(version.free),
        nev_free=_free(nev.free) if nev and nev.free else _free(version.free),
        cap_kind=cap.period if cap else None,
        cap_fen=cap.amount_fen if cap else None,
        nev_cap_fen=(nev.cap_fen if nev and nev.cap_fen is not None else cap.amount_fen) if cap else None,
        restart=bool(cap and cap.restart_progression),
        class_ratio={k: (r.num, r.den) for k, r in version.vehicle_classes.items()},
        nev_ratio=(nev.ratio.num, nev.ratio.den) if nev and nev.ratio else (1, 1),
        prices={(r.index, bi): b[3] for r in progressive for bi, b in enumerate(r.blocks)}
        | {(r.index, -1): r.price for r in flat},
        clock_free=not flat
        and all(r.windows is None for r in progressive)
        and (cap is None or cap.period != "calendar_day"),
    )
    return _remember(_COMPILED, version, compiled)


def _occurrences(c: _Compiled, windows, start: int, end: int) -> list[Span]:
    """Window occurrences meeting [start, end), clipped to it, in time order (windows never overlap)."""
    out = []
    for day in range(start // 1440 - 1, (end - 1) // 1440 + 1):
        kind = c.day_kind(day)
        base = day * 1440
        for s, length, mask in windows:
            if mask & kind:
                a = base + s
                b = a + length
                if b > start and a < end:
                    out.append((max(start, a), min(end, b)))
    return out


def _runs(spans: list[Span]) -> list[Span]:
    runs: list[Span] = []
    for a, b in spans:
        if runs and runs[-1][1] == a:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


class _Cycles:
    """The cap periods of a stay and which one a minute belongs to."""

    def __init__(self, kind: str | None, start: int, end: int) -> None:
        self.kind, self.start = kind, start
        if kind is None:
            self.spans = [(start, end)]
        elif kind == "rolling_24h":
            self.spans = [(t, min(t + 1440, end)) for t in range(start, end, 1440)]
        else:
            first = start // 1440
            self.spans = [
                (max(start, d * 1440), min(end, d * 1440 + 1440)) for d in range(first, (end - 1) // 1440 + 1)
            ]

    def of(self, minute: int) -> int:
        if self.kind is None:
            return 0
        if self.kind == "rolling_24h":
            return (minute - self.start) // 1440
        return minute // 1440 - self.start // 1440

    def split(self, group: list[Span]) -> list[tuple[int, list[Span]]]:
        """Cut a group at cycle boundaries: one (cycle, spans) per cycle it touches."""
        out: list[tuple[int, list[Span]]] = []
        for a, b in group:
            while a < b:
                cycle = self.of(a)
                cut = min(b, self.spans[cycle][1])
                if out and out[-1][0] == cycle:
                    out[-1][1].append((a, cut))
                else:
                    out.append((cycle, [(a, cut)]))
                a = cut
        return out

    def ranges(self, group: list[Span], length: int) -> list[tuple[int, int, int]]:
        """(cycle, axis from, axis to) for the cycles a group spans: where its minutes fall on its axis."""
        first, last = self.of(group[0][0]), self.of(group[-1][1] - 1)
        if first == last:
            return [(first, 0, length)]
        out, pos, i, lo = [], 0, 0, 0
        for cycle in range(first, last):
            boundary = self.spans[cycle][1]
            while i < len(group) and group[i][1] <= boundary:
                pos += group[i][1] - group[i][0]
                i += 1
            axis = pos + (max(0, boundary - group[i][0]) if i < len(group) else 0)
            out.append((cycle, lo, axis))
            lo = axis
        out.append((last, lo, length))
        return out


def _periods(start: int, period: int, count: int | None, length: int, free: int, lo: int, hi: int) -> int:
    """Charged periods of one block whose first non-free axis minute lies in [lo, hi).

    The block's periods start at ``start + k * period``; the group's axis is [0, length) and its first
    ``free`` minutes are free. A period is charged when it reaches past ``free``; one that straddles
    ``free`` is charged at ``free``, the others at their start.
    """
    end = length if count is None else min(length, start + count * period)
    if end <= start:
        return 0
    n = 0
    first, last = max(lo, free, start), min(hi, end)
    if last > first:
        n = -((start - last) // period) + ((start - first) // period)  # ceil(last-start) - ceil(first-start)
    if start < free < end and (free - start) % period and lo <= free < hi:
        n += 1
    return n


def quote(
    tariff: Tariff,
    entered_at: datetime,
    exited_at: datetime,
    vehicle_class: VehicleClass = VehicleClass.SMALL,
    plate_colour: PlateColour = PlateColour.BLUE,
    itemised: bool = True,
) -> Quote:
    """What a stay costs, to the fen, with an itemised breakdown per cap period (``itemised=False``: the
    same amount without the breakdown, ``cycles`` empty, remembered per shape of stay)."""
    if not itemised:
        found = _remembered(tariff, entered_at, exited_at, vehicle_class, plate_colour)
        if found is not None:
            return found
    start, end = stay_minutes(entered_at, exited_at)
    version = _version_at(tariff, entered_at)
    c = compile_version(version)
    new_energy = plate_colour in NEW_ENERGY_COLOURS
    free = c.nev_free if new_energy else c.free
    cap_fen = c.nev_cap_fen if new_energy else c.cap_fen
    num, den = _ratio(c, vehicle_class, new_energy)

    minutes = end - start
    if not itemised:  # the same quote for every stay of this shape (quotes are immutable: shared)
        shape = c.shape(start, end)
        key = None if shape is None else (tariff.id, new_energy, num, den, shape)
        found = c.amounts.get(key) if key is not None else None
        if found is None:
            cycles, counts = _charge(c, start, end, free)
            amount = sum(_cycle_amounts(c, cycles, counts, cap_fen, num, den)) if minutes else 0
            found = Quote(tariff.id, version.effective_from, minutes, new_energy, (num, den), cap_fen, amount, ())
            if key is not None:
                if len(c.amounts) >= _AMOUNTS_MAX:
                    c.amounts.clear()
                c.amounts[key] = found
        return found
    cycles, counts = _charge(c, start, end, free)
    return _finish(tariff, version, c, cycles if minutes else None, counts, minutes, new_energy, cap_fen, num, den)


def _ratio(c: _Compiled, vehicle_class: VehicleClass, new_energy: bool) -> tuple[int, int]:
    """The class x new-energy multiplier, num/den (not reduced: part of a remembered quote's key)."""
    cn, cd = c.class_ratio.get(vehicle_class, (1, 1))
    if not new_energy:
        return cn, cd
    nn, nd = c.nev_ratio
    return cn * nn, cd * nd


def _remembered(tariff: Tariff, entered_at: datetime, exited_at: datetime, vehicle_class: VehicleClass,
                plate_colour: PlateColour) -> Quote | None:
    """The quote remembered for this stay's shape, found with the least work (replay asks once per closed
    session, and almost every shape is remembered): None when anything is not at hand yet (the tariff's
    versions or the version's compiled form not cached, no quote of this shape yet) or the stay is not a
    plain one (times with a zone rather than a fixed offset, or naive; a negative stay; no version in
    force), and ``quote`` then takes its general path, which checks, raises and remembers as before.
    The same version, ratio and key as that path (``tests/tariffs/test_properties.py`` compares the two)."""
    if type(entered_at.tzinfo) is not timezone or type(exited_at.tzinfo) is not timezone:
        return None
    cached = _STARTS.get(id(tariff))
    if cached is None or cached[0]() is not tariff:
        return None
    starts_at, versions = cached[1]
    i = bisect_right(starts_at, entered_at - _UTC_EPOCH)
    if not i:
        return None
    version = versions[i - 1]
    compiled = _COMPILED.get(id(version))
    if compiled is None or compiled[0]() is not version:
        return None
    c = compiled[1]
    if c.clock_free:  # the length alone: no local clock needed (the start's minute is not part of the shape)
        stay = exited_at - entered_at
        if stay < _ZERO:
            return None
        shape = ((stay.days * 86400 + stay.seconds) // 60,)
    else:
        start, end = stay_minutes(entered_at, exited_at)
        shape = c.shape(start, end)
        if shape is None:
            return None
    new_energy = plate_colour in NEW_ENERGY_COLOURS
    num, den = _ratio(c, vehicle_class, new_energy)
    return c.amounts.get((tariff.id, new_energy, num, den, shape))


def _charge(c: _Compiled, start: int, end: int, free: tuple[int, bool] | None) -> tuple[_Cycles, dict]:
    """The stay's cycles and its charged counts per (cycle, rule, block or -1 for flat)."""
    minutes = end - start
    cycles = _Cycles(c.cap_kind, start, end)
    counts: dict[tuple[int, int, int], int] = {}
    if minutes > 0 and not (free and free[1] and minutes <= free[0]):
        free_end = min(end, start + free[0]) if free and not free[1] else start
        _charge_progressive(c, cycles, start, end, free_end, counts)
        _charge_flat(c, cycles, start, end, free_end, counts)
    return cycles, counts


def _cycle_amounts(c: _Compiled, cycles: _Cycles, counts: dict, cap_fen, num: int, den: int) -> list[int]:
    """Each cycle's amount: its charges summed, capped, multiplied by the ratio and rounded once."""
    raw = [0] * len(cycles.spans)
    for (cyc, rule, block), n in counts.items():
        raw[cyc] += n * c.prices[(rule, block)]
    return [_capped_amount(r, cap_fen, num, den)[1] for r in raw]


def _capped_amount(raw: int, cap_fen: int | None, num: int, den: int) -> tuple[int, int]:
    capped = raw if cap_fen is None or raw <= cap_fen else cap_fen
    return capped, capped if num == den else round_half_up(capped * num, den)


def _charge_progressive(c: _Compiled, cycles: _Cycles, start: int, end: int, free_end: int, counts: dict) -> None:
    for rule in c.progressive:
        runs = [(start, end)] if rule.windows is None else _runs(_occurrences(c, rule.windows, start, end))
        if not runs:
            continue
        groups = [[run] for run in runs] if rule.each_run else [runs]
        tagged = [t for g in groups for t in cycles.split(g)] if c.restart else [(None, g) for g in groups]
        for cycle, group in tagged:
            length = sum(b - a for a, b in group)
            free = sum(min(max(free_end - a, 0), b - a) for a, b in group)
            if free >= length:
                continue
            ranges = [(cycle, 0, length)] if cycle is not None else cycles.ranges(group, length)
            for bi, (bstart, period, count, price) in enumerate(rule.blocks):
                if bstart >= length:
                    break
                for cyc, lo, hi in ranges:
                    n = _periods(bstart, period, count, length, free, lo, hi)
                    if n:
                        key = (cyc, rule.index, bi)
                        counts[key] = counts.get(key, 0) + n


def _charge_flat(c: _Compiled, cycles: _Cycles, start: int, end: int, free_end: int, counts: dict) -> None:
    for rule in c.flat:
        for a, b in _occurrences(c, rule.windows, start, end):
            first = max(free_end, a)
            if b - first >= rule.min_minutes:
                key = (cycles.of(first + rule.min_minutes - 1), rule.index, -1)
                counts[key] = counts.get(key, 0) + 1


def _finish(tariff, version, c, cycles, counts, minutes, new_energy, cap_fen, num, den) -> Quote:
    per_cycle: dict[int, list[Line]] = {}
    for (cyc, rule, block), n in sorted(counts.items()):
        unit = c.prices[(rule, block)]
        line = Line("flat" if block < 0 else "periods", n * unit, rule, None if block < 0 else block, n, unit)
        per_cycle.setdefault(cyc, []).append(line)
    out, total = [], 0
    for i, (a, b) in enumerate(cycles.spans if cycles else ()):
        lines = per_cycle.get(i, [])
        raw = sum(line.amount_fen for line in lines)
        capped, amount = _capped_amount(raw, cap_fen, num, den)
        if capped != raw:
            lines.append(Line("cap", capped - raw, count=0))
        if amount != capped:
            lines.append(Line("ratio", amount - capped, count=0))
        out.append(Cycle(i, a, b, raw, capped, amount, tuple(lines)))
        total += amount
    return Quote(tariff.id, version.effective_from, minutes, new_energy, (num, den), cap_fen, total, tuple(out))
