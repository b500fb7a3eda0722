"""``python -m bench.bench_chaos [--stays 400] [--seed 15]``: the chaos scenario of tests/chaos at a larger
size, on the embedded local stack through the in-process HTTP API, then its crash phase (``--citizens``
pay-later citizens, half of whose methods decline into arrears, with workflow tasks and callbacks crashing
after their side effects at ``--crash-rate``). Writes bench/results/chaos.json with the counts (deliveries,
exits before entries, double payments, callbacks, crashes) and any invariant broken; exits 1 if one is.
Timings are of this machine and of moto, not of AWS. Over HTTP against ``make run``: tools/chaos_http.py."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TONGTING_STAGE", "test")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

from bench.report import git_commit, machine_info  # noqa: E402
from bench.report import write as write_report  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "chaos.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stays", type=int, default=400)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--citizens", type=int, default=12)
    parser.add_argument("--crash-rate", type=float, default=0.5)
    opts = parser.parse_args(argv if argv is not None else [])
    from chalice.test import Client

    from functions.api.app import app
    from infra.local.gateway import shape_test_client
    from infra.local.stack import LocalStack
    from shared.clock import ManualClock
    from shared.tariffs.samples import ZHUMADIAN_CLASS1
    from tests.chaos import scenario
    from tests.conftest import DevicePoster
    from tests.support import build_city, price_lot

    clock = ManualClock()
    with LocalStack(clock) as stack, Client(app) as client:
        api = shape_test_client(client.http)
        city = build_city(stack.services.registry)
        price_lot(stack.services, scenario.LOT, ZHUMADIAN_CLASS1)
        started = time.monotonic()
        outcome = scenario.run(stack, api, clock, lambda d: DevicePoster(api, clock, d, city.secrets[d]), n=opts.stays, seed=opts.seed)
        elapsed = time.monotonic() - started
        started = time.monotonic()
        crashed = scenario.run_pay_later(stack, api, clock, lambda d: DevicePoster(api, clock, d, city.secrets[d]),
                                         citizens=opts.citizens, seed=opts.seed, crash_rate=opts.crash_rate)  # fmt: skip
        crash_elapsed = time.monotonic() - started
    report = {"benchmark": "chaos", "commit": git_commit(), "machine": machine_info(), "seed": opts.seed,
              "stays": outcome.stays, "deliveries": outcome.deliveries, "exits_before_entries": outcome.exits_before_entries,
              "double_paid_bills": outcome.double_paid, "callbacks_delivered": outcome.callbacks, "seconds": round(elapsed, 1),
              "problems": outcome.problems,
              "crash_phase": {"pay_later_citizens": crashed.citizens, "pay_later_bills": crashed.bills,
                              "arrears_cases": crashed.arrears_cases, "crash_rate": opts.crash_rate,
                              "task_crashes": dict(crashed.task_crashes), "callback_crashes": crashed.callback_crashes,
                              "callback_posts": crashed.callbacks, "seconds": round(crash_elapsed, 1),
                              "problems": crashed.problems}}  # fmt: skip
    write_report(RESULTS, report)
    print(f"chaos: {outcome.stays} stays, {outcome.deliveries} deliveries ({outcome.exits_before_entries} exits before "
          f"their entries), {outcome.double_paid} bills paid twice, {outcome.callbacks} callbacks, {elapsed:.1f} s; "
          f"problems: {len(outcome.problems)}")  # fmt: skip
    print(f"crash phase: {crashed.citizens} pay-later citizens, {crashed.bills} bills, {crashed.arrears_cases} arrears cases, "
          f"task crashes {dict(crashed.task_crashes)}, {crashed.callback_crashes} callback crashes, {crash_elapsed:.1f} s; "
          f"problems: {len(crashed.problems)}")  # fmt: skip
    return 1 if outcome.problems or crashed.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
