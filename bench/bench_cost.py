"""Cost benchmark: what one parking session costs on AWS, whole, and how many sequential DynamoDB round
trips each request waits for.

Where ``bench_paylater`` follows the pay-later workflows for days, this benchmark prices the common paths
end to end, entry included, and the latency floor of each request (a driver waits at the barrier for the
exit acknowledgement):

- ``pay_on_exit``:      entry; exit answered ``pay``; the driver opens the lane's pay page, pays with the
  pay code; the provider's callback;
- ``prepay_in_lot``:    entry; inside the lot the driver opens the lot's pay page with the plate (priced to
  now), pays, the callback; 5 minutes later the exit opens as paid;
- ``paylater_grace``:   a registered citizen's pay-later session (entry; exit opens, the bill and the
  citizen's notice stored with it; the citizen opens ``GET /v1/me/bills`` and pays within the grace period;
  callback; the grace-end sweep finds nothing to start: no workflow runs);
- ``paylater_auto``:    the same but nobody pays: at the end of the grace period the sweep starts the billing
  workflow, which charges the saved method;
- ``returning_citizen``: ONE citizen doing ``paylater_grace`` N times (default 200); the 1st, the 4th and
  the Nth session are measured, so a cost that grows with a citizen's history shows. From the 4th on the
  citizen's bills page is full (``shared/bills/paging.py``: four bills read by id); the 1st reads fewer.

It reuses ``bench_paylater``'s metering (every botocore call by function, DynamoDB units from item sizes,
Lambda invocations, Step Functions transitions from the execution histories) and its prices, adding the API
Gateway HTTP API price and S3 PUTs for the archive. On top it records, per request and per workflow task,
the AWS calls made in that request's own thread in order: each DynamoDB call is one sequential round trip
(the code is sequential; a ``BatchGetItem`` or ``TransactWriteItems`` is one).

The grace-end sweep (a scheduled function, every 5 minutes) is fired at each session's grace end under a
meter of its own; what a run costs whatever it finds (one invocation, one query: measured on an idle run) is
amortised over ``ASSUMED_PAYLATER_SESSIONS_PER_DAY``, what it does per bill it starts is counted whole.

Lambda duration: modelled per invocation (see ``duration_model`` and bench/README.md): the invocation's
own CPU time measured here, scaled by Lambda's CPU share at the deployed memory, plus its sequential calls
times a stated in-region latency, rounded up to the millisecond; the former flat 100 ms is reported beside it.

Archiving: after a scenario's sessions the acks stream is pumped to the archive writer (batches of up to
500 records, as the event-source mapping is configured) under its own meter; its cost is shown per session,
amortised over the scenario's sessions, beside the session's total (``with_archive``).

    .venv/bin/python -m bench.bench_cost [--sessions 10] [--returning 200] [--scenarios pay_on_exit,...]

Results: bench/results/cost.json (``--output``), a table on stdout. Exit status 1 when a session left its
path (gate decision, bill not settled, workflow not succeeded) or the counts differ between sessions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
import tracemalloc
import traceback
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench import bench_paylater as pl
from bench.report import finish, git_commit, machine_info

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "cost.json"
SCENARIOS = ("pay_on_exit", "prepay_in_lot", "paylater_grace", "paylater_auto", "returning_citizen")
LOT, LANE = pl.LOT, "out-1"

PRICES = {
    **pl.PRICES,
    "api_gateway_http_per_request": {
        "usd": "0.000001", "as_listed": "$1.00 per million HTTP API requests (first 300 million a month, 512 KB each)",
        "source": "https://aws.amazon.com/api-gateway/pricing/",
    },
    "s3_standard_put_per_request": {
        "usd": "0.000005", "as_listed": "$0.005 per 1,000 PUT, COPY, POST, LIST requests (S3 Standard)",
        "source": "https://aws.amazon.com/s3/pricing/",
    },
}
PRICE = {k: Decimal(v["usd"]) for k, v in PRICES.items()}
# Which API Gateway flavour the CDK stack deploys (infra/cdk/api.py: an HTTP API since issue 10); both totals are reported.
API_FLAVOUR = "http"
ASSUMPTIONS = [
    "Lambda duration, modelled per invocation (lambda_duration_model): billed ms = ceil(local CPU ms x "
    "max(1, 1769 / memory MB) + the sum of its calls' round-trip latency). Local CPU: the invocation's thread CPU "
    "time in the platform's code and botocore's client side (moto's answers, the benchmark's meters and the "
    "sandbox provider's own work not charged), with the deployed log level (INFO) and metrics on, their output "
    "dropped; the local core is ASSUMED as fast as one Lambda vCPU. CPU share: Lambda allocates CPU in proportion "
    "to memory, 1,769 MB = one vCPU (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); "
    "single-threaded handlers gain nothing above it. Memory: each function's deployed memory (shared/resources.py Function.memory_mb, else the stage's function_memory_mb, infra/cdk/stages.py); an invocation is billed at its own function's memory. "
    "Latency per sequential call, ASSUMED and conservative for a warm in-region connection (DynamoDB advertises "
    "single-digit ms): DynamoDB reads and single writes 10 ms, TransactWriteItems 30 ms, TransactGetItems and "
    "BatchWriteItem 15 ms, KMS 15, SSM 20, Step Functions / Lambda / SNS 30, S3 40, other AWS 30; a payment "
    "provider API call (create_payment, refund, create_setup, list_transactions: Stripe, outside the region) "
    "300 ms. Billed per 1 ms, rounded up. Warm containers only (no cold-start init). The former flat assumption "
    f"({pl.LAMBDA_AVG_DURATION_MS} ms per invocation at {pl.LAMBDA_MEMORY_MB} MB) is reported beside it, not in "
    "the totals (lambda_duration_flat, total_with_flat_lambda_duration).",
    *pl.ASSUMPTIONS[1:4],
    "Counted from the entry event on (bench_paylater counts from the exit). Registration of a citizen and a first "
    "warm-up session with cold caches (KMS for device secrets, ...) are not in the totals.",
    "Archive (with_archive): the session's events reach S3 through the acks stream and the archive writer; "
    "the writer's calls, units, invocations and S3 PUTs are measured once per scenario and divided by its "
    "sessions (stream reads and the stream itself are free for Lambda triggers).",
    "API Gateway: both prices are given; 'total' uses the flavour the stack deploys (API_FLAVOUR).",
    "Pay-later grace-end sweep (grace_sweep_per_session, in the totals): the schedule runs 288 times a day (every "
    "5 minutes) whatever the volume; a run's fixed part (one invocation and one query of the sparse index, "
    "measured on a run with nothing due) is divided by an assumed 10,000 pay-later sessions a day (0.0288 runs "
    "a session; fewer sessions raise it: at 1,000 a day it is 0.288 runs, about $0.30 per million sessions); "
    "the work per bill it starts (the bill read, StartExecution, the mark) is counted whole.",
    "Not counted: CloudWatch Logs and metrics, X-Ray, WAF, data transfer, storage, KMS on a warm container, "
    "the payment provider's fees.",
]


# --------------------------------------------------------------------------------------------------
# The grace-end sweep (issue 10): a fixed part per run, amortised; the part per bill counted whole

SWEEP_RUNS_PER_DAY = 24 * 60 // 5  # rate(5 minutes): shared.resources, schedule pay-later-grace-end
ASSUMED_PAYLATER_SESSIONS_PER_DAY = 10_000  # ASSUMPTION: pay-later sessions whose grace period ends a day
_sweeps: dict[int, list] = {}  # id(the phase's meter) -> [the sweep runs' meter, runs]


def _grace_ends(world, problems: list[str], started: int) -> None:
    """The grace period passes and the grace-end schedule fires; its runs go to their own meter."""
    meter = pl._meter
    entry = _sweeps.setdefault(id(meter), [pl.Meter(), 0]) if meter is not None else None
    pl.metering(entry[0] if entry else None)
    try:
        out = world.grace_ends()
    finally:
        pl.metering(meter)
    if entry:
        entry[1] += 1
    if out.get("started") != started:
        problems.append(f"the grace-end sweep started {out.get('started')} workflows, not {started}: {out}")


def _billed_total(meter: pl.Meter, memory: "Memory") -> tuple[int, Decimal]:
    """The modelled billed milliseconds of every invocation made under ``meter``, and their GB-seconds."""
    ms = [(billed_ms(r["cpu_s"] * 1000, r["calls"] + r["external"], memory(r["function"])), memory(r["function"]))
          for r in _invocations.get(id(meter), [])]
    return sum(m for m, _ in ms), sum((gb_seconds(m, mb) for m, mb in ms), Decimal(0))


def _idle_sweep(world) -> pl.Meter:
    """One sweep run with nothing due: the fixed part of every run."""
    from infra.local import scheduler
    from shared import resources

    idle = pl.Meter()
    pl.metering(idle)
    try:
        scheduler.fire(next(s for s in resources.SCHEDULES if s.function == "pay-later-grace"), world.clock.now())
    finally:
        pl.metering(None)
    return idle


def sweep_share(sweep: pl.Meter, runs: int, idle: pl.Meter, n: int, memory: "Memory") -> dict[str, Decimal]:
    """Per session: the runs' work beyond their fixed part, plus the fixed part amortised."""
    share = Decimal(SWEEP_RUNS_PER_DAY) / ASSUMED_PAYLATER_SESSIONS_PER_DAY
    values = {
        "lambda_billed_ms": (Decimal(_billed_total(sweep, memory)[0]), Decimal(_billed_total(idle, memory)[0])),
        "lambda_gb_s": (_billed_total(sweep, memory)[1], _billed_total(idle, memory)[1]),
        "lambda_invocations": (Decimal(sum(sweep.invocations.values())), Decimal(sum(idle.invocations.values()))),
        "aws_calls": (Decimal(sum(sweep.calls.values())), Decimal(sum(idle.calls.values()))),
        "dynamodb_wru": (sweep.wru, idle.wru),
        "dynamodb_rru": (sweep.rru, idle.rru),
    }
    return {k: (total - runs * fixed) / n + fixed * share for k, (total, fixed) in values.items()}


# --------------------------------------------------------------------------------------------------
# Lambda billed duration: a model per invocation, from what the benchmark measures (not moto's wall time)
#
#   billed ms = ceil(local CPU ms x max(1, LAMBDA_MB_PER_VCPU / memory MB) + sum of its round trips' latency)
#
# - local CPU: the invocation's thread CPU time (time.thread_time) in the platform's code, botocore's
#   client side (serialising, signing, parsing) included; moto's side of each call (its backends: AWS's
#   side), the benchmark's own metering and the sandbox provider's side are not charged. The local core
#   is taken to be as fast as one Lambda vCPU (both are server x86 cores: an ASSUMPTION).
# - CPU share: "Lambda allocates CPU power in proportion to the amount of memory configured ... At 1,769 MB,
#   a function has the equivalent of one vCPU" (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
#   The handlers are single-threaded Python, so more than one vCPU does not help: the factor is at least 1.
# - latency: each call of the request is sequential (the code is); ROUND_TRIP_MS per call, ASSUMED and
#   conservative for a warm connection in the same region: DynamoDB advertises single-digit millisecond
#   reads and writes (aws.amazon.com/dynamodb), taken as 10 ms; a transaction (two-phase) as 30 ms.
# - billed by the millisecond, rounded up (aws.amazon.com/lambda/pricing). Warm containers only: a cold
#   start's init is not in it (it shows in no session the benchmark counts).
# The old flat assumption (LAMBDA_AVG_DURATION_MS per invocation) is kept beside it: lambda_duration_flat.

LAMBDA_MB_PER_VCPU = 1769
ROUND_TRIP_MS = {  # ASSUMPTION: in-region latency of one call, by operation (DynamoDB) or service
    "GetItem": 10, "BatchGetItem": 10, "Query": 10, "Scan": 10, "TransactGetItems": 15,
    "PutItem": 10, "UpdateItem": 10, "DeleteItem": 10, "BatchWriteItem": 15, "TransactWriteItems": 30,
    "kms": 15, "s3": 40, "stepfunctions": 30, "ssm": 20, "lambda": 30, "sns": 30, "scheduler": 30,
    "provider": 300,  # the payment provider's API (Stripe in AWS: outside the region, over the internet)
}
OTHER_ROUND_TRIP_MS = 30  # any other AWS service
PROVIDER_CALLS = ("create_payment", "refund", "list_transactions", "create_setup")  # network calls in AWS


def lambda_memory_mb(function: str = "api") -> int:
    """The memory ``function`` (a logical name) is deployed with in prod: its own ``Function.memory_mb``
    (shared/resources.py), else the stage's ``function_memory_mb`` (infra/cdk/stages.py), as the CDK reads it."""
    from infra.cdk import derive
    from infra.cdk.stages import stage_config
    from shared import resources

    return derive.memory_mb(resources.function(function), stage_config("prod", {}))


class Memory:
    """Each function's memory for the model: the deployed one, or ``override`` for every function (what-if)."""

    def __init__(self, override: int | None = None) -> None:
        self.override = override

    def __call__(self, function: str) -> int:
        return self.override or lambda_memory_mb(function)

    def deployed(self) -> dict[str, int]:
        from shared import resources

        return {f.logical: self(f.logical) for f in resources.FUNCTIONS}


def gb_seconds(ms: int | Decimal, memory_mb: int) -> Decimal:
    return Decimal(memory_mb) / 1024 * Decimal(ms) / 1000


def round_trip_ms(call: str) -> int:
    """``GetItem(local-bills)`` -> the GetItem latency; ``kms:Decrypt`` -> KMS's; ``provider:...`` -> the PSP's."""
    if "(" in call:
        return ROUND_TRIP_MS.get(call.split("(", 1)[0], OTHER_ROUND_TRIP_MS)
    return ROUND_TRIP_MS.get(call.split(":", 1)[0], OTHER_ROUND_TRIP_MS)


def billed_ms(cpu_ms: float, calls: list[str], memory_mb: int) -> int:
    scale = max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)
    return max(1, math.ceil(cpu_ms * scale + sum(round_trip_ms(c) for c in calls)))


class _Account(threading.local):
    """Who the thread's CPU is charged to: a stack of (invocation, charged?) entries."""

    def __init__(self) -> None:
        self.entries: list[tuple[dict | None, bool]] = []
        self.mark = 0.0


_account = _Account()


def _charge() -> None:
    now = time.thread_time()
    if _account.entries:
        frame, charged = _account.entries[-1]
        if charged and frame is not None:
            frame["cpu_s"] += now - _account.mark
    _account.mark = now


@contextmanager
def _charging(frame: dict | None, charged: bool):
    _charge()
    _account.entries.append((frame, charged))
    try:
        yield
    finally:
        _charge()
        _account.entries.pop()


def _owner() -> dict | None:
    return _account.entries[-1][0] if _account.entries else None


_invocations: dict[int, list[dict]] = {}  # id(meter) -> one record per invocation: label, cpu_s, calls
_invocations_lock = threading.Lock()


def install_cpu_probe():
    """Below the meters (call before ``pl.install_meters``): botocore's own work is charged to the invocation,
    moto's answer (AWS's side) is not. Returns a function that undoes it."""
    import botocore.client
    from moto.core.botocore_stubber import BotocoreStubber

    original_call = botocore.client.BaseClient._make_api_call
    original_stub = BotocoreStubber.__call__

    def make_api_call(self, operation_name, api_params):
        with _charging(_owner(), True):
            return original_call(self, operation_name, api_params)

    def stub(self, *args, **kwargs):
        with _charging(_owner(), False):
            return original_stub(self, *args, **kwargs)

    return pl.patch((botocore.client.BaseClient, "_make_api_call", make_api_call), (BotocoreStubber, "__call__", stub))


def install_provider_probe(providers: dict) -> None:
    """The payment provider's network calls: a round trip each in the model; the sandbox's own work is the
    provider's side, not charged."""
    for name, provider in providers.items():
        for op in PROVIDER_CALLS:
            method = getattr(provider, op, None)
            if method is None or getattr(method, "_probed", False):
                continue

            def probed(*args, _method=method, _name=f"provider:{name}.{op}", **kwargs):
                external = getattr(_trace, "external", None)
                if external is not None:
                    external.append(_name)
                with _charging(_owner(), False):
                    return _method(*args, **kwargs)

            probed._probed = True
            setattr(provider, op, probed)


class _InvocationOutputSink:
    """stdout for the run: what a function prints inside an invocation (its INFO logs, its EMF metrics, as in
    AWS: CloudWatch) is formatted, so its CPU is measured, then dropped; the benchmark's own lines pass."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return len(text) if _account.entries else self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextmanager
def production_output():
    """Log and metrics settings as deployed (infra/cdk/derive.py: INFO; metrics on), output dropped."""
    import logging

    saved = {k: os.environ.get(k) for k in ("POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_DISABLED")}
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_METRICS_DISABLED": "false"})
    stdout, sys.stdout = sys.stdout, _InvocationOutputSink(sys.stdout)
    from shared.observability import SERVICE

    log = logging.getLogger(SERVICE)
    streams = [(h, h.setStream(sys.stdout)) for h in log.handlers if isinstance(h, logging.StreamHandler)]
    level = log.level
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.setLevel(level)
        for handler, stream in streams:
            handler.setStream(stream)
        sys.stdout = stdout
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def handler_footprint() -> dict:
    """The API function's peak RSS in a fresh process serving pay-on-exit sessions, the embedded AWS in
    another process (bench/footprint.py)."""
    from bench.footprint import api_function_footprint

    return api_function_footprint()


def duration_model(records: list[dict], n: int, memory: Memory) -> dict:
    """Per session: the modelled billed milliseconds (and GB-seconds, each invocation at its function's
    memory) of every invocation, and by request or task."""
    by_label: dict[str, list[dict]] = {}
    for r in records:
        by_label.setdefault(r["label"], []).append(r)
    out, total, gb_s = {}, 0, Decimal(0)
    for label, runs in sorted(by_label.items()):
        mb = memory(runs[0]["function"])
        ms = [billed_ms(r["cpu_s"] * 1000, r["calls"] + r["external"], mb) for r in runs]
        total += sum(ms)
        gb_s += gb_seconds(sum(ms), mb)
        out[label] = {
            "function": runs[0]["function"],
            "memory_mb": mb,
            "per_session": pl.plain(pl.per(len(runs), n)),
            "local_cpu_ms_mean": round(sum(r["cpu_s"] for r in runs) * 1000 / len(runs), 2),
            "round_trip_ms": _span([sum(round_trip_ms(c) for c in r["calls"] + r["external"]) for r in runs]),
            "external_calls": max((r["external"] for r in runs), key=len),
            "billed_ms_mean": round(sum(ms) / len(ms), 1),
            **({"python_heap_peak_kb_max": round(max(r["heap_peak_kb"] for r in runs))}
               if all("heap_peak_kb" in r for r in runs) else {}),
        }
    return {"memory_mb_by_function": {f: memory(f) for f in sorted({r["function"] for r in records})},
            "cpu_scale_by_function": {f: round(max(1.0, LAMBDA_MB_PER_VCPU / memory(f)), 3)
                                      for f in sorted({r["function"] for r in records})},
            "billed_ms_per_session": pl.plain(pl.per(total, n)),
            "gb_s_per_session": pl.plain(gb_s / n), "by_request": out}


# --------------------------------------------------------------------------------------------------
# Round trips: the AWS calls of one request or task, in its own thread, in order

_trace = threading.local()


_label = threading.local()  # the scenario names the request it is about to make
_trips: dict | None = None  # label -> list of call sequences; None: not recording


@contextmanager
def step(label: str):
    """The next API request(s) made in this thread are recorded under ``label``."""
    previous = getattr(_label, "value", None)
    _label.value = label
    try:
        yield
    finally:
        _label.value = previous


@contextmanager
def traced(label: str, function: str):
    """One invocation: its calls in order (round trips), its provider calls and its CPU (the duration model)."""
    previous, previous_external = getattr(_trace, "calls", None), getattr(_trace, "external", None)
    _trace.calls, _trace.external = [], []
    meter = pl._meter
    frame = {"label": label, "function": function, "cpu_s": 0.0}
    heap = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None
    if heap is not None:
        tracemalloc.reset_peak()
    try:
        with _charging(frame, True):
            yield
    finally:
        if heap is not None:
            frame["heap_peak_kb"] = (tracemalloc.get_traced_memory()[1] - heap) / 1024
        calls, _trace.calls = _trace.calls, previous
        external, _trace.external = _trace.external, previous_external
        trips = _trips
        if trips is not None:
            with _trips_lock:
                trips.setdefault(label, []).append(calls)
        if meter is not None:
            frame.update(calls=calls, external=external)
            with _invocations_lock:
                _invocations.setdefault(id(meter), []).append(frame)


_trips_lock = threading.Lock()


def _call_name(service: str, op: str, params: dict) -> str:
    if service != "dynamodb":
        return f"{service}:{op}"
    tables = []
    if "TableName" in params:
        tables = [params["TableName"]]
    elif op in ("TransactWriteItems", "TransactGetItems"):
        tables = [next(iter(e.values()))["TableName"] for e in params.get("TransactItems", [])]
    elif op in ("BatchGetItem", "BatchWriteItem"):
        tables = list(params.get("RequestItems", {}))
    short = [t.removeprefix("tongting-").removesuffix("-local") for t in tables]
    return f"{op}({','.join(short)})"


def install_tracing():
    """Wrap (again) botocore and the Lambda dispatcher, after ``bench_paylater.install_meters``."""
    import botocore.client

    from infra.local import lambda_dispatch
    from shared import resources

    original_call = botocore.client.BaseClient._make_api_call
    original_invoke = lambda_dispatch.invoke
    logical = {f.name: f.logical for f in resources.FUNCTIONS}

    def make_api_call(self, operation_name, api_params):
        with _charging(_owner(), False):  # the meters' work is the benchmark's, not the platform's
            calls = getattr(_trace, "calls", None)
            if calls is not None:
                calls.append(_call_name(self.meta.service_model.service_name, operation_name, api_params))
            return original_call(self, operation_name, api_params)

    def invoke(function_name, event):
        action = event.get("action") if isinstance(event, dict) else None
        name = logical.get(function_name, function_name)
        label = f"task {name}" + (f":{action}" if action else "")
        with traced(label, name):
            return original_invoke(function_name, event)

    return pl.patch((botocore.client.BaseClient, "_make_api_call", make_api_call), (lambda_dispatch, "invoke", invoke))


class TracedApi(pl.Api):
    def request(self, method: str, route: str, path: str, headers: dict, body=None):
        label = getattr(_label, "value", None) or f"{method} {route}"
        with traced(label, "api"):
            return super().request(method, route, path, headers, body)


def round_trips(trips: dict[str, list[list[str]]], sessions: int) -> dict:
    """Per request or task: sequential DynamoDB round trips and AWS calls (min-max over occurrences)."""
    out = {}
    for label, runs in sorted(trips.items()):
        ddb = [sum(c.split(":")[0] not in ("kms", "s3", "stepfunctions", "ssm", "lambda") and "(" in c for c in r)
               for r in runs]
        out[label] = {
            "per_session": pl.plain(pl.per(len(runs), sessions)),
            "dynamodb_round_trips": _span(ddb),
            "aws_calls": _span([len(r) for r in runs]),
            "calls_in_order": max(runs, key=len),
        }
    return out


def _span(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


# --------------------------------------------------------------------------------------------------
# The sessions


def _json(resp) -> dict:
    return json.loads(resp.body or b"null")


def _expect(resp, what: str, ok=(200, 201, 202)) -> dict:
    if resp.status_code not in ok:
        raise RuntimeError(f"{what}: HTTP {resp.status_code} {resp.body!r}")
    return _json(resp)


def _pay_and_callback(world, method_path: tuple[str, str, str], body: dict) -> str:
    method, route, path = method_path
    with step("pay"):
        payment = _expect(world.api.request(method, route, path, {"Content-Type": "application/json"},
                                            json.dumps(body)), "pay")
    services = world.stack.services
    with _unmetered():
        ref = services.payments.payment(payment["payment_id"]).provider_ref
    services.providers["sandbox"].approve(ref)
    with step("provider callback"):
        world.deliver_callbacks()
    return payment["bill_id"]


@contextmanager
def _unmetered():
    """The benchmark's own look-ups: no meter, no trace."""
    meter = pl._meter
    pl.metering(None)
    try:
        yield
    finally:
        pl.metering(meter)


def _arrive(world, plate: str, hours: float = pl.STAY_HOURS) -> None:
    world.next_morning()
    with step("POST /v1/events (entry)"):
        ack = world.gate("entry", plate)
    if ack.get("status") != "accepted":
        raise RuntimeError(f"entry {ack}")
    world.clock.advance(hours * 3600)


def _exit(world, plate: str, decision: str, reason: str, problems: list[str]) -> dict:
    with step("POST /v1/events (exit)"):
        ack = world.gate("exit", plate)
    gate = ack.get("gate") or {}
    if (gate.get("decision"), gate.get("reason")) != (decision, reason):
        problems.append(f"exit gate {gate}, expected {decision}/{reason}")
    return gate


def _settled(world, bill_id: str, problems: list[str]) -> None:
    with _unmetered():
        bill = world.stack.services.billing.get(bill_id)
    if bill.balance_fen != 0 or not bill.paid_fen:
        problems.append(f"bill {bill_id}: balance {bill.balance_fen}, paid {bill.paid_fen}")


def pay_on_exit(world, n: int, citizen=None) -> dict:
    problems: list[str] = []
    plate = f"苏E{20000 + n:05d}"
    _arrive(world, plate)
    _exit(world, plate, "pay", "pay", problems)
    with step("GET /v1/pay/{lot} (lane)"):
        page = _expect(world.api.request("GET", "/v1/pay/{lot_id}", f"/v1/pay/{LOT}?lane={LANE}", {}), "pay page")
    bill_id = _pay_and_callback(world, ("POST", "/v1/pay/{lot_id}/payments", f"/v1/pay/{LOT}/payments"),
                                {"bill_id": page["bill"]["bill_id"], "channel": "wechat_pay"})
    _settled(world, bill_id, problems)
    return {"problems": problems, "executions": {}}


def prepay_in_lot(world, n: int, citizen=None) -> dict:
    from urllib.parse import quote

    problems: list[str] = []
    plate = f"苏E{40000 + n:05d}"
    _arrive(world, plate)
    with step("GET /v1/pay/{lot} (plate)"):
        page = _expect(world.api.request("GET", "/v1/pay/{lot_id}", f"/v1/pay/{LOT}?plate={quote(plate)}", {}),
                       "pay page")
    bill_id = _pay_and_callback(world, ("POST", "/v1/pay/{lot_id}/payments", f"/v1/pay/{LOT}/payments"),
                                {"bill_id": page["bill"]["bill_id"], "channel": "alipay"})
    world.clock.advance(300)  # to the exit, within the prepaid grace period
    _exit(world, plate, "open", "paid", problems)
    _settled(world, bill_id, problems)
    return {"problems": problems, "executions": {}}


def paylater_grace(world, n: int, citizen) -> dict:
    problems: list[str] = []
    world.stack.services.providers["sandbox"].configure(fail_next_off_session=0)
    _arrive(world, citizen.plate)
    _exit(world, citizen.plate, "open", "pay_later", problems)
    with step("GET /v1/me/bills"):
        bills = world.call(citizen, "GET", "/v1/me/bills")["bills"]
    due = [b for b in bills if b.get("due_fen")]
    if len(due) != 1:
        problems.append(f"{len(due)} bills due")
        return {"problems": problems, "executions": {}}
    bill_id = _pay_and_callback(world, ("POST", "/v1/bills/{bill_id}/payments", f"/v1/bills/{due[0]['bill_id']}/payments"),
                                {"channel": "alipay"})
    _grace_ends(world, problems, started=0)  # paid in grace: no workflow starts
    with _unmetered():
        executions = pl.check(world, "pay_in_grace", bill_id, problems)
    return {"problems": problems, "executions": executions}


def paylater_auto(world, n: int, citizen) -> dict:
    problems: list[str] = []
    world.stack.services.providers["sandbox"].configure(fail_next_off_session=0)
    _arrive(world, citizen.plate)
    _exit(world, citizen.plate, "open", "pay_later", problems)
    _grace_ends(world, problems, started=1)  # the grace period passes unpaid: the billing workflow starts
    world.run_until()  # the saved method is charged
    with _unmetered():
        bill_id = pl._bill_of(world.stack, citizen.plate)
        executions = pl.check(world, "auto_charge", bill_id, problems)
    return {"problems": problems, "executions": executions}


RUNNERS = {"pay_on_exit": pay_on_exit, "prepay_in_lot": prepay_in_lot, "paylater_grace": paylater_grace,
           "paylater_auto": paylater_auto}
NEEDS_CITIZEN = {"paylater_grace", "paylater_auto", "returning_citizen"}


# --------------------------------------------------------------------------------------------------
# A scenario on a fresh stack


def run_scenario(scenario: str, sessions: int, returning: int, memory: Memory | None = None) -> dict:
    from chalice.test import Client

    from infra.local.stack import LocalStack
    from shared.tariffs.samples import ZHUMADIAN_CLASS1
    from tests.support import build_city, price_lot

    global _trips
    memory = memory or Memory()
    clock = pl.tracking_clock()
    started = time.perf_counter()
    measured: list[tuple[str, pl.Meter, dict, list[dict]]] = []  # (phase, meter, trips, sessions seen)
    idle = None  # a grace-end sweep run with nothing due
    problems: list[str] = []
    archive = pl.Meter()
    with LocalStack(clock) as stack:
        from functions.api.app import app

        unprobe = install_cpu_probe()
        uninstall = pl.install_meters()
        untrace = install_tracing()
        try:
            with Client(app) as client:
                city = build_city(stack.services.registry)
                price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
                world = pl.World(stack, TracedApi(client.http), clock, city.secrets)
                install_provider_probe(stack.services.providers)
                if scenario == "returning_citizen":
                    citizen = world.register(0)
                    # the 4th: the first whose bills page is full (PAGE bills shown, one more key), as the Nth's
                    phases = {1: "first", 4: "session_4", returning: f"session_{returning}"}
                    for k in range(returning + 1):  # session 0 warms the caches
                        phase = phases.get(k)
                        meter, trips = pl.Meter(), {}
                        if phase:
                            pl.metering(meter)
                            _trips = trips
                        try:
                            seen = paylater_grace(world, k, citizen)
                        finally:
                            pl.metering(None)
                            _trips = None
                        problems += [f"session {k}: {p}" for p in seen["problems"]]
                        if phase:
                            measured.append((phase, meter, trips, [seen]))
                            print(f"[{scenario}] session {k}: {sum(meter.calls.values())} AWS calls", flush=True)
                        elif k % 50 == 0:
                            print(f"[{scenario}] session {k}/{returning}", flush=True)
                        if seen["problems"]:
                            break
                else:
                    runner = RUNNERS[scenario]
                    meter, trips, seen_all = pl.Meter(), {}, []
                    for k in range(sessions + 1):  # session 0 warms the caches: not counted
                        citizen = world.register(k) if scenario in NEEDS_CITIZEN else None
                        if k:
                            pl.metering(meter)
                            _trips = trips
                        try:
                            seen = runner(world, k, citizen)
                        finally:
                            pl.metering(None)
                            _trips = None
                        problems += [f"session {k}: {p}" for p in seen["problems"]]
                        if k:
                            seen_all.append(seen)
                        else:
                            while stack.pump_streams():  # the warm-up's events: archived, not counted
                                pass
                        if seen["problems"]:
                            break
                    measured.append(("session", meter, trips, seen_all))
                    pl.metering(archive)
                    try:
                        with pl.within("archive-writer"):
                            while stack.pump_streams():
                                pass
                    finally:
                        pl.metering(None)
                    print(f"[{scenario}] {len(seen_all)} sessions: "
                          f"{pl.per(sum(meter.calls.values()), max(1, len(seen_all))):.1f} AWS calls each", flush=True)
                if any(id(m) in _sweeps for _, m, _, _ in measured):
                    idle = _idle_sweep(world)
        except Exception as exc:  # noqa: BLE001 - reported in the results
            traceback.print_exc()
            problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            untrace()
            uninstall()
            unprobe()
            pl.metering(None)
    result = {"scenario": scenario, "problems": problems, "wall_s": round(time.perf_counter() - started, 1)}
    for phase, meter, trips, seen in measured:
        n = len(seen)
        if not n:
            continue
        sweep = (*_sweeps[id(meter)], idle) if id(meter) in _sweeps and idle is not None else None
        result[phase] = summarise(meter, trips, seen, n, archive if phase == "session" else None, sweep,
                                  memory=memory)
    for meter in [archive, idle, *(m for _, m, _, _ in measured)]:  # ids may be reused by the next scenario
        if meter is not None:
            runs_meter = _sweeps.pop(id(meter), [None])[0]
            for m in (meter, runs_meter):
                if m is not None:
                    _invocations.pop(id(m), None)
    return result


def summarise(meter: pl.Meter, trips: dict, seen: list[dict], n: int, archive: pl.Meter | None,
              sweep: tuple[pl.Meter, int, pl.Meter] | None = None, *, memory: Memory) -> dict:
    figures = pl.meter_figures(meter, n)
    added = {k: Decimal(0) for k in ("lambda_invocations", "dynamodb_wru", "dynamodb_rru", "lambda_gb_s")}
    swept = None
    durations = duration_model(_invocations.get(id(meter), []), n, memory)
    if sweep is not None:
        runs_meter, runs, idle = sweep
        share = sweep_share(runs_meter, runs, idle, n, memory)
        added = {k: share[k] for k in added}
        run_trips = {k: v for k, v in trips.items() if k.startswith("task pay-later-grace")}
        swept = {"runs_measured": runs, "runs_per_day": SWEEP_RUNS_PER_DAY,
                 "assumed_paylater_sessions_per_day": ASSUMED_PAYLATER_SESSIONS_PER_DAY,
                 **{k: pl.plain(v) for k, v in share.items()},
                 "measured_runs": pl.meter_figures(runs_meter, max(1, runs)),
                 "idle_run": {k: v for k, v in pl.meter_figures(idle, 1).items()
                              if k in ("aws_calls_by_operation", "dynamodb_rru", "lambda_invocations")},
                 "round_trips": round_trips(run_trips, n) if run_trips else {}}
    transitions_each = [sum(x["entered"] + x["retries"] for x in s["executions"].values()) for s in seen]
    by_state = Counter()
    for s in seen:
        for machine, x in s["executions"].items():
            by_state.update({f"{machine}:{k}": v for k, v in x["by_state"].items()})
    transitions = pl.per(sum(transitions_each), n)
    s3_puts = pl.per(sum(c for (_, svc, op), c in meter.calls.items() if (svc, op) == ("s3", "PutObject")), n)
    out = {
        "sessions": n,
        "per_session": {**figures, "state_transitions": pl.plain(transitions),
                        "transitions_by_state": {k: pl.plain(pl.per(v, n)) for k, v in sorted(by_state.items())},
                        "transitions_differ_between_sessions": len(set(transitions_each)) > 1},
        "round_trips": round_trips(trips, n),
        "lambda_duration_model": durations,
        "cost": cost(Decimal(figures["api_requests"]), Decimal(figures["lambda_invocations"]) + added["lambda_invocations"],
                     Decimal(figures["dynamodb_wru"]) + added["dynamodb_wru"],
                     Decimal(figures["dynamodb_rru"]) + added["dynamodb_rru"], transitions, s3_puts,
                     gb_s=Decimal(durations["gb_s_per_session"]) + added["lambda_gb_s"]),
    }
    if swept is not None:
        out["grace_sweep_per_session"] = swept
    if archive is not None:
        a = pl.meter_figures(archive, n)
        a_puts = pl.per(sum(c for (_, svc, op), c in archive.calls.items() if (svc, op) == ("s3", "PutObject")), n)
        out["archive_per_session"] = {**{k: a[k] for k in ("aws_calls", "aws_calls_by_operation", "dynamodb_wru",
                                                           "dynamodb_rru", "lambda_invocations")},
                                      "s3_puts": pl.plain(a_puts)}
        a_ms = duration_model(_invocations.get(id(archive), []), n, memory)
        out["archive_per_session"]["lambda_duration_model"] = a_ms
        out["archive_cost"] = cost(Decimal(0), Decimal(a["lambda_invocations"]), Decimal(a["dynamodb_wru"]),
                                   Decimal(a["dynamodb_rru"]), Decimal(0), a_puts,
                                   gb_s=Decimal(a_ms["gb_s_per_session"]))
        total = Decimal(out["cost"]["usd_per_million_sessions_exact"]["total"]) + Decimal(
            out["archive_cost"]["usd_per_million_sessions_exact"]["total"])
        out["cost"]["usd_per_million_sessions"]["with_archive"] = pl.money(total)
    return out


def cost(api_requests: Decimal, invocations: Decimal, wru: Decimal, rru: Decimal, transitions: Decimal,
         s3_puts: Decimal, *, gb_s: Decimal) -> dict:
    """USD per million sessions, exact; the inputs are per session. Lambda duration from the modelled
    GB-seconds (``gb_s``: every invocation of a session, its billed ms at its function's memory); the old
    flat assumption beside it, not in the totals (``lambda_duration_flat``: LAMBDA_AVG_DURATION_MS per
    invocation at pl.LAMBDA_MEMORY_MB)."""
    flat_gb_s = Decimal(pl.LAMBDA_MEMORY_MB) / 1024 * Decimal(pl.LAMBDA_AVG_DURATION_MS) / 1000
    flat = invocations * flat_gb_s * PRICE["lambda_per_gb_second"] * pl.ONE_MILLION
    parts = {
        "step_functions_transitions": transitions * PRICE["stepfunctions_standard_per_state_transition"],
        "lambda_requests": invocations * PRICE["lambda_per_request"],
        "lambda_duration": gb_s * PRICE["lambda_per_gb_second"],
        "dynamodb_writes": wru * PRICE["dynamodb_on_demand_per_write_request_unit"],
        "dynamodb_reads": rru * PRICE["dynamodb_on_demand_per_read_request_unit"],
        "s3_puts": s3_puts * PRICE["s3_standard_put_per_request"],
    }
    api = {"rest": api_requests * PRICE["api_gateway_rest_per_request"],
           "http": api_requests * PRICE["api_gateway_http_per_request"]}
    per_million = {k: v * pl.ONE_MILLION for k, v in parts.items()}
    base = sum(per_million.values(), Decimal(0))
    totals = {f"total_{k}_api": base + v * pl.ONE_MILLION for k, v in api.items()}
    exact = {**per_million, "api_gateway": api[API_FLAVOUR] * pl.ONE_MILLION, **totals,
             "total": totals[f"total_{API_FLAVOUR}_api"],
             "lambda_duration_flat": flat,  # not in the totals: the old assumption, for comparison
             "total_with_flat_lambda_duration": totals[f"total_{API_FLAVOUR}_api"] - per_million["lambda_duration"] + flat}
    return {
        "api_flavour": API_FLAVOUR,
        "usd_per_million_sessions_exact": {k: pl.plain(v) for k, v in exact.items()},
        "usd_per_million_sessions": {k: pl.money(v) for k, v in exact.items()},
    }


# --------------------------------------------------------------------------------------------------
# Report


def table(report: dict) -> str:
    m = report["machine"]
    lines = [f"Cost benchmark  {report['date']}  commit {report['commit']}  ({m['cpu_model'] or m['processor']})",
             f"  per session, entry included; USD per 1,000,000 sessions ({API_FLAVOUR.upper()} API deployed)", ""]
    head = (f"  {'scenario':<28}{'API':>4} {'λ inv':>6} {'calls':>6} {'WRU':>6} {'RRU':>6} {'SFN':>4} | "
            f"{'SFN $':>7} {'λ $':>6} {'DDB $':>7} {'APIGW $':>7} {'total $':>8} {'REST-API $':>10} {'+archive $':>10}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    rows = []
    for s in report["scenarios"]:
        for phase in ("session", "first", *[k for k in s if k.startswith("session_")]):
            if phase in s:
                rows.append((s["scenario"] + ("" if phase == "session" else f" ({phase})"), s[phase]))
    for name, r in rows:
        p, c = r["per_session"], r["cost"]["usd_per_million_sessions"]
        lam = Decimal(c["lambda_requests"]) + Decimal(c["lambda_duration"])
        ddb = Decimal(c["dynamodb_writes"]) + Decimal(c["dynamodb_reads"])
        lines.append(
            f"  {name:<28}{pl._f(p['api_requests']):>4} {pl._f(p['lambda_invocations']):>6} {pl._f(p['aws_calls']):>6} "
            f"{pl._f(p['dynamodb_wru']):>6} {pl._f(p['dynamodb_rru']):>6} {pl._f(p['state_transitions']):>4} | "
            f"{c['step_functions_transitions']:>7} {pl.money(lam):>6} {pl.money(ddb):>7} {c['api_gateway']:>7} "
            f"{c['total']:>8} {c['total_rest_api']:>10} {c.get('with_archive', '-'):>10}")
    lines += ["", "  sequential DynamoDB round trips (AWS calls) per request or task:"]
    for name, r in rows:
        trips = ", ".join(f"{label} {t['dynamodb_round_trips']} ({t['aws_calls']})" for label, t in r["round_trips"].items())
        lines.append(f"  {name}: {trips}")
    lines.append(f"  verdict: {'OK' if report['ok'] else 'PROBLEMS: ' + '; '.join(report['problems'][:10])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=10, help="sessions per scenario (default 10)")
    p.add_argument("--returning", type=int, default=200, help="sessions of the returning citizen (default 200)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    p.add_argument("--output", type=Path, default=RESULTS_FILE)
    p.add_argument("--footprint", action="store_true",
                   help="also measure the API function's memory: its Python heap per request (tracemalloc, slower) "
                        "and a fresh interpreter's RSS after importing it")
    p.add_argument("--memory-mb", type=int, default=None,
                   help="model every function at this memory (default: each function's deployed memory: "
                        "Function.memory_mb in shared/resources.py, else function_memory_mb in infra/cdk/stages.py)")
    args = p.parse_args(argv)
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if args.sessions < 1 or args.returning < 2 or not chosen or any(s not in SCENARIOS for s in chosen):
        p.error(f"--sessions >= 1, --returning >= 2; --scenarios from {', '.join(SCENARIOS)}")
    for key, value in {"POWERTOOLS_TRACE_DISABLED": "true"}.items():  # logs and metrics: production_output
        os.environ.setdefault(key, value)
    machine, commit = machine_info(), git_commit()
    started = time.monotonic()
    memory = Memory(args.memory_mb)
    footprint = handler_footprint() if args.footprint else None
    if args.footprint:
        tracemalloc.start()
    with production_output():
        scenarios = [run_scenario(name, args.sessions, args.returning, memory) for name in chosen]
    tracemalloc.stop()
    problems = [f"{s['scenario']}: {x}" for s in scenarios for x in s["problems"]]
    for s in scenarios:
        for phase in [k for k in s if k == "session" or k == "first" or k.startswith("session_")]:
            if s[phase]["per_session"]["transitions_differ_between_sessions"]:
                problems.append(f"{s['scenario']}: transitions differ between sessions")
    report = {
        "benchmark": "cost",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": machine,
        "parameters": {"sessions_per_scenario": args.sessions, "returning_citizen_sessions": args.returning,
                       "scenarios": chosen, "lot": LOT, "stay_hours": pl.STAY_HOURS,
                       "stack": "a fresh local stack per scenario (moto in-process, real ASL executions)"},
        "prices": {"region": pl.REGION, "as_of": pl.PRICES_AS_OF, "currency": "USD", "free_tiers": "ignored",
                   "items": PRICES, "api_flavour_deployed": API_FLAVOUR,
                   "lambda": {"memory_mb_by_function": memory.deployed(),
                              "memory_override_mb": args.memory_mb,
                              "deployed_memory_mb_by_function": Memory().deployed(),
                              "duration": "modelled per invocation (assumptions, lambda_duration_model)",
                              "mb_per_vcpu": LAMBDA_MB_PER_VCPU, "round_trip_ms_assumed": ROUND_TRIP_MS,
                              "other_round_trip_ms_assumed": OTHER_ROUND_TRIP_MS,
                              "flat_assumption_for_comparison": {
                                  "memory_mb": pl.LAMBDA_MEMORY_MB,
                                  "avg_billed_duration_ms": pl.LAMBDA_AVG_DURATION_MS}}},
        "assumptions": ASSUMPTIONS,
        **({"api_function_footprint": footprint} if footprint else {}),
        "scenarios": scenarios,
    }
    return finish(args.output, report, started, problems, table)


if __name__ == "__main__":
    sys.exit(main())
