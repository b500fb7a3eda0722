"""``make bench``: run every benchmark present, one after the other, and fail if any reports a problem.

bench_ingest always; bench_tariffs, bench_paylater, bench_chaos, bench_settlement, bench_cost, bench_replay, bench_replay_jobs and bench_verify when those modules exist. Each writes its own results
file under bench/results/ and prints its own summary.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
import traceback

BENCHMARKS = ("bench.bench_ingest", "bench.bench_tariffs", "bench.bench_paylater", "bench.bench_chaos", "bench.bench_settlement", "bench.bench_cost", "bench.bench_replay", "bench.bench_replay_jobs", "bench.bench_verify")
REQUIRED = {"bench.bench_ingest"}


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if importlib.util.find_spec(name) is None:
            if name in REQUIRED:
                raise SystemExit(f"{name} is missing")
            print(f"== {name}: not present, skipped", flush=True)
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            status = importlib.import_module(name).main()
        except SystemExit as exc:  # a benchmark's argparse or its own exit
            status = exc.code
        except Exception:  # report it and go on with the next benchmark
            traceback.print_exc()
            status = "crashed"
        status = 0 if status is None else status
        print(
            f"== {name}: {'ok' if status == 0 else f'FAILED ({status})'} in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if status != 0:
            failed.append(name)
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
