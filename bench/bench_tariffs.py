"""Tariff engine benchmark: quotes per second for 2-hour, 1-day and 30-day stays, against the reference.

What it measures: how many quotes per second ``shared.tariffs.quote`` computes on this machine, one
thread, for a mixed workload over the five sample tariffs (every vehicle class, blue and green plates,
entries spread over a year at random minutes and seconds), and the same for the minute-by-minute
reference (``shared.tariffs.reference``), whose cost grows with the stay's length while the engine's
grows with the number of windows and cap periods it crosses. Every stay the reference prices is also
checked against the engine: a disagreement fails the run.

    .venv/bin/python -m bench.bench_tariffs [--seconds 2.0]

Timing is by loops of time.perf_counter, each loop running at least ``--seconds``. Results go to
bench/results/tariffs.json and a summary is printed; the exit status is 1 if the engine and the
reference disagreed on any stay.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.report import git_commit, machine_info
from bench.report import write as write_report
from shared.clock import SHANGHAI
from shared.plates import PlateColour
from shared.protocol.events import VehicleClass
from shared.tariffs import quote
from shared.tariffs.reference import reference_quote
from shared.tariffs.samples import SAMPLES

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "tariffs.json"
STAYS = {"2h": timedelta(hours=2), "1d": timedelta(days=1), "30d": timedelta(days=30)}
WORKLOAD_SIZE = 500
SEED = 20260301


def workload(length: timedelta, size: int = WORKLOAD_SIZE) -> list[tuple]:
    """Stays of ``length`` (give or take a few minutes, so periods end at varied points) on every sample."""
    rng = random.Random(SEED)
    tariffs = list(SAMPLES.values())
    start = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    out = []
    for i in range(size):
        entered = start + timedelta(minutes=rng.randrange(365 * 1440), seconds=rng.randrange(60))
        exited = entered + length + timedelta(minutes=rng.randrange(-10, 11))
        out.append(
            (
                tariffs[i % len(tariffs)],
                entered,
                exited,
                rng.choice(list(VehicleClass)),
                rng.choice([PlateColour.BLUE, PlateColour.BLUE, PlateColour.YELLOW, PlateColour.GREEN]),
            )
        )
    return out


def timed(fn, stays: list[tuple], min_seconds: float, min_quotes: int) -> tuple[int, float]:
    """Run ``fn`` over the stays round-robin until both minimums are reached; (quotes, seconds)."""
    n, started = 0, time.perf_counter()
    while True:
        for stay in stays:
            fn(*stay)
            n += 1
            elapsed = time.perf_counter() - started
            if n >= min_quotes and elapsed >= min_seconds:
                return n, elapsed


def measure(label: str, length: timedelta, min_seconds: float) -> tuple[dict, list[str]]:
    stays = workload(length)
    for stay in stays:  # warm the per-version compile cache, as a long-lived function would be
        quote(*stay)
    n_fast, t_fast = timed(quote, stays, min_seconds, len(stays))
    n_ref, t_ref = timed(reference_quote, stays, min_seconds, 3)
    problems = []
    for stay in stays[: min(n_ref, len(stays))]:
        fast, slow = quote(*stay).amount_fen, reference_quote(*stay).amount_fen
        if fast != slow:
            problems.append(f"{label}: {stay[0].id} {stay[1].isoformat()} -> {stay[2].isoformat()}: {fast} != {slow}")
    engine_qps, reference_qps = n_fast / t_fast, n_ref / t_ref
    return {
        "stay": label,
        "engine_quotes": n_fast,
        "engine_seconds": round(t_fast, 3),
        "engine_quotes_per_s": round(engine_qps, 1),
        "engine_us_per_quote": round(1e6 / engine_qps, 1),
        "reference_quotes": n_ref,
        "reference_seconds": round(t_ref, 3),
        "reference_quotes_per_s": round(reference_qps, 2),
        "speedup": round(engine_qps / reference_qps, 1),
    }, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum time of each timing loop")
    args = parser.parse_args(argv if argv is not None else [])
    results, problems = [], []
    for label, length in STAYS.items():
        figures, wrong = measure(label, length, args.seconds)
        results.append(figures)
        problems += wrong
    report = {
        "benchmark": "tariffs",
        "date": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine_info(),
        "parameters": {
            "min_seconds": args.seconds,
            "workload_size": WORKLOAD_SIZE,
            "seed": SEED,
            "tariffs": sorted(SAMPLES),
        },
        "results": results,
        "ok": not problems,
        "problems": problems[:20],
    }
    write_report(RESULTS_FILE, report)
    m = report["machine"]
    print(
        f"Tariff benchmark  {report['date']}  ({m['cpu_model'] or m['processor']}, {m['cpu_count']} CPUs, Python {m['python']})"
    )
    print(f"{'stay':>5} {'engine q/s':>12} {'us/quote':>9} {'reference q/s':>14} {'speedup':>9}")
    for r in results:
        print(
            f"{r['stay']:>5} {r['engine_quotes_per_s']:>12,.0f} {r['engine_us_per_quote']:>9.1f} "
            f"{r['reference_quotes_per_s']:>14,.1f} {r['speedup']:>8,.0f}x"
        )
    for problem in problems[:20]:
        print("DISAGREES", problem)
    print(f"written to {RESULTS_FILE}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
