"""Settlement benchmark: how the daily settlement's time and DynamoDB reads grow with sessions per day.

Two measurements, both of ``SettlementService.settle`` for one day of 20 operators and 200 lots, every
session a charge and a payment (every fifth also a coupon), spread over the day:

- **DynamoDB (moto, in-process)**: the real adapters (``LedgerReader`` over the ledger's ``by_account``
  index, then the posting headers by BatchGet; statements written to ``settlements``). Reads are counted
  in items read (index items + headers). Moto's speed is not DynamoDB's: the time says how our code scales,
  the read count says what DynamoDB would bill (items, before rounding to 4 KB read units).
- **In memory** (``shared/adapters/memory``): the pure computation at 10k and 100k sessions a day.

The 1M figure is extrapolated only when the per-session cost at the measured points is flat (within
25 %), i.e. the growth is shown linear; otherwise it is left out and the reason written down.

    .venv/bin/python -m bench.bench_settlement [--dynamo 1000,2000,4000] [--memory 10000,100000]

Results go to bench/results/settlement.json.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.report import git_commit, machine_info
from bench.report import write as write_report
from shared.clock import SHANGHAI, ManualClock
from shared.ledger.model import Posting

DAY = date(2026, 11, 23)
OPERATORS, LOTS = 20, 200
RESULTS = Path(__file__).parent / "results" / "settlement.json"


def postings_for(n: int):
    start = datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI)
    for i in range(n):
        lot = i % LOTS
        op = f"op-{lot % OPERATORS:02d}"
        at = start + timedelta(seconds=(i * 86_399) // max(1, n))
        plate = f"苏B{i:05d}"[-7:]
        refs = {"bill_id": f"bill-{i}", "session_id": f"s-{i}", "lot_id": f"lot-{lot:03d}"}
        yield Posting.charge(f"charge:{i}", plate, op, 1000 + i % 700, at, refs)
        paid = 1000 + i % 700
        if i % 5 == 0:
            yield Posting.discount(f"disc:{i}", plate, op, 200, at, refs)
            paid -= 200
        yield Posting.payment(f"pay:{i}", plate, "wechat" if i % 2 else "alipay", paid, at + timedelta(seconds=1),
                              {**refs, "channel": "wechat_pay" if i % 2 else "alipay"})


def owners():
    from shared.adapters.memory.settlement import MemoryOwners

    return MemoryOwners({f"op-{k:02d}": ("320213", "government") for k in range(OPERATORS)},
                        {f"lot-{k:03d}": f"op-{k % OPERATORS:02d}" for k in range(LOTS)})


def run_memory(n: int) -> dict:
    from shared.adapters.memory.settlement import MemoryLedger, MemoryStatements
    from shared.settlement.service import SettlementService

    ledger = MemoryLedger(postings_for(n))
    svc = SettlementService(ledger, owners(), MemoryStatements(), ManualClock(datetime(2026, 11, 24, 3, 30, tzinfo=SHANGHAI)),
                            providers=["wechat", "alipay"])
    t0 = time.perf_counter()
    summary = svc.settle(DAY)
    elapsed = time.perf_counter() - t0
    assert summary["issued"] == OPERATORS, summary
    return {"sessions": n, "postings": len(ledger.postings_by_id), "seconds": round(elapsed, 3),
            "us_per_session": round(elapsed / n * 1e6, 1)}


def run_dynamo(n: int) -> dict:
    from infra.local.stack import LocalStack
    from shared.adapters.dynamo.ledger import SLOTS, LedgerItem, _header, _line
    from shared.adapters.dynamo.settlement import LedgerReader, StatementTable
    from shared.settlement.service import SettlementService

    clock = ManualClock(datetime(2026, 11, 24, 3, 30, tzinfo=SHANGHAI))
    with LocalStack(clock) as stack:
        load0 = time.perf_counter()
        with LedgerItem.batch_write() as batch:  # the items LedgerStore.post writes, without its conditions
            for p in postings_for(n):
                batch.save(_header(p))
                for e in p.entries[SLOTS:]:  # a posting item carries its first two lines
                    batch.save(_line(p, e))
        load_s = time.perf_counter() - load0
        reader = LedgerReader(stack.services.ledger)
        svc = SettlementService(reader, owners(), StatementTable(), clock, providers=["wechat", "alipay"])
        t0 = time.perf_counter()
        summary = svc.settle(DAY)
        elapsed = time.perf_counter() - t0
        assert summary["issued"] == OPERATORS, summary
        st = StatementTable().get("op-00", DAY.isoformat())
        problems = svc.check(st)
        assert problems == [], problems
    return {"sessions": n, "seconds": round(elapsed, 3), "us_per_session": round(elapsed / n * 1e6, 1),
            "items_read": reader.reads, "items_read_per_session": round(reader.reads / n, 2), "load_seconds": round(load_s, 1)}


def linear(points: list[dict], key: str) -> tuple[bool, float]:
    per = [p[key] for p in points]
    spread = (max(per) - min(per)) / min(per) if min(per) else float("inf")
    return spread <= 0.25, round(spread, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dynamo", default="1000,2000,4000")
    parser.add_argument("--memory", default="10000,100000")
    args = parser.parse_args(argv)
    os.environ.setdefault("TONGTING_STAGE", "test")  # the sandbox provider is refused outside local, test, dev
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    report = {"machine": machine_info(), "commit": git_commit(), "operators": OPERATORS, "lots": LOTS,
              "dynamo": [], "memory": []}
    for n in [int(x) for x in args.dynamo.split(",") if x]:
        report["dynamo"].append(run_dynamo(n))
        print("dynamo", report["dynamo"][-1], flush=True)
    for n in [int(x) for x in args.memory.split(",") if x]:
        report["memory"].append(run_memory(n))
        print("memory", report["memory"][-1], flush=True)
    extrapolated = {}
    if len(report["dynamo"]) >= 2:
        flat_reads, spread_reads = linear(report["dynamo"], "items_read_per_session")
        flat_time, spread_time = linear(report["dynamo"], "us_per_session")
        extrapolated["dynamo_linear"] = {"reads_spread": spread_reads, "time_spread": spread_time}
        if flat_reads:
            extrapolated["dynamo_items_read_at_1M"] = int(report["dynamo"][-1]["items_read_per_session"] * 1_000_000)
        if flat_time:
            extrapolated["moto_seconds_at_1M"] = round(report["dynamo"][-1]["us_per_session"], 1)
    if len(report["memory"]) >= 2:
        flat, spread = linear(report["memory"], "us_per_session")
        extrapolated["memory_linear"] = {"time_spread": spread}
        if flat:
            extrapolated["memory_seconds_at_1M"] = round(report["memory"][-1]["us_per_session"], 1)
    if "moto_seconds_at_1M" in extrapolated:  # us per session x 1M sessions = seconds
        pass
    report["extrapolated_1M"] = extrapolated or {"note": "not shown linear on the measured points: not extrapolated"}
    write_report(RESULTS, report)
    print("extrapolated", report["extrapolated_1M"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
