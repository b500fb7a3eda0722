"""Pay-later cost benchmark: what one "leave first, pay later" session costs in AWS requests, and in dollars.

What it measures, per session and from the exit event onward: the AWS API calls the platform's own code
makes (by Lambda function, service and operation), an estimate of the DynamoDB read and write request
units they consume, the Lambda invocations (API requests, workflow tasks),
the API Gateway requests, and the Step Functions state transitions of the pay-later-billing and
arrears-escalation executions, read from their execution histories. Then what a million such sessions
cost at AWS list prices (us-east-1, on-demand, free tiers ignored; the prices are in ``PRICES`` below and
in the results file, with their source and the date they apply from).

Why: Standard workflows bill per state transition and a pay-later session lives for days (weeks on the
arrears path), so the per-session request count is what sizes the bill; the figures catch a change that
adds calls or transitions. The counts are exact for this code on the local stack (moto in-process, the
real ASL files run by moto's interpreter, the project's handlers as the Lambda tasks); the DynamoDB
units and the Lambda durations are estimates (see ``dynamodb_units`` and ``ASSUMPTIONS``). No timing is
measured: time is a ``ManualClock`` moved to the next deadline a workflow waits for, never slept.

Scenarios, each on a fresh local stack, each session a new citizen (account with consent, a verified
plate, a saved sandbox method) entering an enclosed lot at 09:00 and leaving 2.5 h later (¥6.00):

- ``pay_in_grace``:  the citizen opens their bills (GET /v1/me/bills) and pays within the grace period
  (POST /v1/bills/{id}/payments, the provider's callback); no billing workflow ever starts (issue 10);
- ``auto_charge``:   nobody pays; at the end of the 24 h grace period the grace-end sweep starts the billing
  workflow, which charges the saved method off-session;
- ``arrears_repaid``: every off-session charge declines (the first and 3 retries after 1 h, 24 h, 72 h),
  an arrears case opens and its ladder runs (reminders on days 1, 3, 7, pay-later suspended on day 7, the
  plate flagged at exits on day 15); then the citizen repays through the service window
  (POST /v1/bills/{id}/payments and the callback): the case closes and the ladder ends;
- ``arrears_handover``: the same declines, nobody pays, the ladder runs to the hand-over to collection
  on day 30 (the case stays open in the collection queues; what happens there is not counted).

    .venv/bin/python -m bench.bench_paylater [--sessions 20] [--scenarios auto_charge,arrears_handover]

Before the counted sessions, one warm-up session per scenario fills the caches a warm Lambda container
holds (a device secret decrypted with KMS, ...); it is reported apart. The provider's callbacks (the saved
method's setup, each off-session charge's result, a citizen's payment) are delivered to the API before the
clock moves on, as the provider's servers would send them.

Results go to bench/results/paylater.json; a table is printed. The exit status is 1 when a session did
not follow its path (wrong gate decision, an execution that did not succeed, a bill not settled, a case
in the wrong state) or a count differs between sessions of one scenario.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from bench.report import finish, git_commit, machine_info

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "paylater.json"
SCENARIOS = ("pay_in_grace", "auto_charge", "arrears_repaid", "arrears_handover")
LOT = "lx-nanchang-st-01"
STAY_HOURS = 2.5  # 09:00-11:30 at ZHUMADIAN_CLASS1: ¥6.00
DECLINES = 4  # the first off-session charge and its three retries
SETTLE_TIMEOUT_S = 60.0  # real time a workflow may take to reach its next wait before the run gives up
ONE_MILLION = Decimal(1_000_000)

# --------------------------------------------------------------------------------------------------
# Prices: AWS list prices, us-east-1, on-demand, USD, free tiers ignored, from the pricing pages named in
# "source", as in force from 2024-11-01 (when DynamoDB on-demand was cut to these prices). They are written
# here, not fetched: re-check the pages before quoting the dollar figures, and change them here.

PRICES = {
    "stepfunctions_standard_per_state_transition": {
        "usd": "0.000025", "as_listed": "$0.025 per 1,000 state transitions",
        "source": "https://aws.amazon.com/step-functions/pricing/",
        "note": "Standard workflows. 'Step Functions counts a state transition each time a step of your workflow "
                "is executed ... including retries.' API calls (StartExecution, SendTaskSuccess, ...) are not billed.",
    },
    "lambda_per_request": {
        "usd": "0.0000002", "as_listed": "$0.20 per 1M requests",
        "source": "https://aws.amazon.com/lambda/pricing/",
    },
    "lambda_per_gb_second": {
        "usd": "0.0000166667", "as_listed": "$0.0000166667 per GB-second (x86, first 6 billion GB-s a month)",
        "source": "https://aws.amazon.com/lambda/pricing/",
    },
    "dynamodb_on_demand_per_write_request_unit": {
        "usd": "0.000000625", "as_listed": "$0.625 per million write request units (since 2024-11-01)",
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    },
    "dynamodb_on_demand_per_read_request_unit": {
        "usd": "0.000000125", "as_listed": "$0.125 per million read request units (since 2024-11-01)",
        "source": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    },
    "api_gateway_rest_per_request": {
        "usd": "0.0000035", "as_listed": "$3.50 per million REST API requests (first 333 million a month)",
        "source": "https://aws.amazon.com/api-gateway/pricing/",
    },
}
PRICE = {k: Decimal(v["usd"]) for k, v in PRICES.items()}
REGION = "us-east-1"
PRICES_AS_OF = "2024-11-01"

# What the counts cannot tell: stated in the results and the README.
LAMBDA_MEMORY_MB = 512  # the flat assumption: the stage default (infra/cdk/stages.py); the API has its own since issue 10 (bench_cost models it)
LAMBDA_AVG_DURATION_MS = 100  # ASSUMPTION: billed duration per invocation (not measured: moto is not AWS)
ASSUMPTIONS = [
    (
        f"Lambda: {LAMBDA_MEMORY_MB} MB (the stack's function_memory_mb) and an assumed average billed duration of "
        f"{LAMBDA_AVG_DURATION_MS} ms per invocation for every function (API, workflow tasks): not "
        "measured, the local durations are moto's, not AWS's."
    ),
    (
        "API Gateway: one request, priced as a REST API request (the stack deploys an HTTP API since issue 10, "
        "$1.00 per million: bench_cost reports both), and one invocation of the API function per HTTP request the "
        "scenario makes. The API verifies bearer tokens itself: no authorizer invocation."
    ),
    (
        "DynamoDB units are estimated from the calls (moto reports no consumed capacity), with item sizes as "
        "DynamoDB counts them (attribute names, string bytes, number digits as an upper bound, 3 bytes per map or "
        "list plus 1 per element), read from the embedded tables before and after each write. Writes: "
        "ceil(max(old, new size) / 1 KB) per item, at least 1, also for a write whose condition failed; every global "
        "secondary index the old or new item is in (all project ALL) adds ceil(size / 1 KB), twice when the index "
        "key changed. Transactions (TransactWriteItems): 2 units per item per started KB, ConditionCheck items "
        "counted like writes (an upper bound), index writes at the normal rate; a cancelled transaction is counted "
        "as if it had committed (an upper bound). Reads: GetItem ceil(size / 4 KB), at least 1, halved when "
        "eventually consistent; Query/Scan: the returned items' total size / 4 KB rounded up, at least 1, halved "
        "when eventually consistent (filtered-out items are not seen: a lower bound for filtered queries); "
        "TransactGetItems 2 units per item per 4 KB."
    ),
    (
        "Step Functions: one transition per state entered (the *StateEntered events of the execution history, "
        "Choice/Succeed/Fail states included) plus one per task retry; an execution's start is not a transition."
    ),
    (
        "The grace-end sweep (the pay-later-grace function, every 5 minutes) is fired once per session, at the "
        "end of its grace period, and counted whole in that session: an upper bound, since one run (one "
        "invocation, one query of the sparse index) serves every bill whose grace period ended in its 5 minutes "
        "(bench_cost amortises it)."
    ),
    (
        "Not counted: the entry event, the citizen's registration and a first warm-up session with cold caches "
        "(each reported under not_in_the_totals); archiving of the exit event (the event-acks stream to the archive "
        "writer and S3, an ingest cost per event, batched 500 records per invocation, see bench_ingest); CloudWatch "
        "Logs, metrics, X-Ray, data transfer, KMS, SSM and the payment provider's own fees; storage (GB-month) of "
        "the items and of execution history."
    ),
]

SCHEDULED_OR_API = ("api", "pay-later-grace")  # invoked by API Gateway or a schedule, not Step Functions

TRANSITION_NOTES = (
    "Choice and Succeed states are billed transitions like Task states: Charged? is one of them on the charge "
    "path and 4 of 13 in billing on the arrears path; Open? is 6 of the ladder's 18. The ladder's "
    "Advance task applies every due rung itself (it was 33-36 transitions per case with a separate ApplyStep), "
    "and billing starts only when the grace period ended unpaid (issue 10: started by the grace-end sweep, at "
    "Charge; a bill paid in grace has no execution)."
)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------------
# A clock that knows what its sleepers wait for, so the benchmark moves it to the next deadline exactly


def tracking_clock():
    from shared.clock import ManualClock

    class TrackingClock(ManualClock):
        """``ManualClock`` that records each sleeper's deadline: ``advance_to_next_deadline`` wakes exactly
        the earliest waiter (a workflow resumes at the instant it asked for, as in AWS)."""

        def __init__(self, start: datetime | None = None) -> None:
            super().__init__(start)
            self._deadlines: dict[int, datetime] = {}
            self._ids = iter(range(1 << 62))
            self._ids_lock = threading.Lock()

        def _track(self, seconds: float):
            with self._ids_lock:
                key = next(self._ids)
            self._deadlines[key] = self.now() + timedelta(seconds=seconds)
            return key

        def sleep(self, seconds: float) -> None:
            key = self._track(seconds)
            try:
                super().sleep(seconds)
            finally:
                self._deadlines.pop(key, None)

        def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
            key = self._track(seconds)
            try:
                return super().wait_for(predicate, seconds)
            finally:
                self._deadlines.pop(key, None)

        def advance_to_next_deadline(self) -> float:
            """Move to the earliest deadline still ahead; returns the seconds moved (0 if none is ahead)."""
            now = self.now()
            ahead = [d for d in list(self._deadlines.values()) if d > now]
            if not ahead:
                return 0.0
            target = min(ahead)
            self.set(target)
            return (target - now).total_seconds()

    return TrackingClock()


# --------------------------------------------------------------------------------------------------
# Metering: every botocore call, by who made it


_origin = threading.local()  # .stack: list of logical function names ("api", task functions)


def _stack() -> list[str]:
    if not hasattr(_origin, "stack"):
        _origin.stack = []
    return _origin.stack


class within:
    """Marks the calls made in this thread, until exit, as made by a platform function."""

    def __init__(self, function: str) -> None:
        self.function = function

    def __enter__(self):
        _stack().append(self.function)

    def __exit__(self, *exc):
        _stack().pop()


@dataclass
class Meter:
    """What one measured phase used. Filled from every thread; Counter updates happen under ``lock``."""

    calls: Counter = field(default_factory=Counter)  # (function, service, operation) by the platform's code
    errors: Counter = field(default_factory=Counter)  # (service, operation, error code)
    wru: Decimal = Decimal(0)
    rru: Decimal = Decimal(0)
    ddb_by_table: dict = field(default_factory=lambda: defaultdict(lambda: {"wru": Decimal(0), "rru": Decimal(0)}))
    max_item_bytes: int = 0
    scans: int = 0
    invocations: Counter = field(default_factory=Counter)  # function -> Lambda invocations
    task_actions: Counter = field(default_factory=Counter)  # (function, action) of workflow tasks
    api_requests: Counter = field(default_factory=Counter)  # "METHOD /route" -> count
    sfn_lambda_invokes: int = 0  # Lambda Invoke requests made by Step Functions itself (moto's interpreter)
    harness_calls: int = 0  # the benchmark's own calls (waiting, checking): not counted anywhere else
    local_ms: Counter = field(default_factory=Counter)  # function -> total local wall ms (information only)
    lock: threading.Lock = field(default_factory=threading.Lock)


_meter: Meter | None = None


def metering(meter: Meter | None) -> None:
    global _meter
    _meter = meter


def _service(client) -> str:
    return client.meta.service_model.service_name


def patch(*replacements: tuple[object, str, object]):
    """Set each ``(owner, attribute, value)``; returns the function that puts the originals back (the
    benchmarks' meters wrap botocore and the local Lambda dispatch this way)."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in replacements]
    for owner, name, value in replacements:
        setattr(owner, name, value)

    def uninstall() -> None:
        for owner, name, value in originals:
            setattr(owner, name, value)

    return uninstall


def install_meters():
    """Wrap botocore (pynamodb's calls go through the same ``BaseClient._make_api_call``) and the Lambda
    dispatcher of the local stack. Returns a function that undoes it. (The API verifies bearer tokens in
    its own function since issue 10: no authorizer Lambda to count.)"""
    import botocore.client

    from infra.local import lambda_dispatch

    original_call = botocore.client.BaseClient._make_api_call
    original_invoke = lambda_dispatch.invoke
    physical = {}

    def logical(function_name: str) -> str:
        if not physical:
            from shared import resources

            physical.update({f.name: f.logical for f in resources.FUNCTIONS})
        return physical.get(function_name, function_name)

    def make_api_call(self, operation_name, api_params):
        meter, stack = _meter, _stack()
        service = _service(self)
        if meter is None:
            return original_call(self, operation_name, api_params)
        if not stack:
            with meter.lock:
                if service == "lambda" and operation_name == "Invoke":
                    meter.sfn_lambda_invokes += 1  # Step Functions calling a task function
                else:
                    meter.harness_calls += 1
            return original_call(self, operation_name, api_params)
        with meter.lock:
            meter.calls[(stack[-1], service, operation_name)] += 1
        if service != "dynamodb":
            try:
                return original_call(self, operation_name, api_params)
            except botocore.client.ClientError as exc:
                with meter.lock:
                    meter.errors[(service, operation_name, exc.response.get("Error", {}).get("Code"))] += 1
                raise
        return dynamodb_call(meter, lambda: original_call(self, operation_name, api_params), operation_name, api_params)

    def invoke(function_name, event):
        meter, name = _meter, logical(function_name)
        if meter is not None:
            with meter.lock:
                meter.invocations[name] += 1
                if isinstance(event, dict) and "action" in event:
                    meter.task_actions[(name, event["action"])] += 1
        t0 = time.perf_counter()
        with within(name):
            try:
                return original_invoke(function_name, event)
            finally:
                if meter is not None:
                    with meter.lock:
                        meter.local_ms[name] += (time.perf_counter() - t0) * 1000

    return patch((botocore.client.BaseClient, "_make_api_call", make_api_call), (lambda_dispatch, "invoke", invoke))


# --------------------------------------------------------------------------------------------------
# DynamoDB request units (estimated: moto reports no consumed capacity)

KB, READ_BLOCK = 1024, 4096


def _value_size(value: dict) -> int:
    """Size of one wire-format attribute value as DynamoDB counts it: strings and binaries by their bytes,
    numbers by their digits (an upper bound: DynamoDB stores about half), maps and lists 3 bytes plus 1 per
    element; attribute names count too."""
    (kind, v), = value.items()
    if kind in ("S", "N"):
        return len(v.encode()) if kind == "S" else len(str(v))
    if kind == "B":  # raw bytes: moto's stored items carry them base64-encoded, botocore's as bytes
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    return len(json.dumps(v))


def item_size(item: dict | None) -> int:
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


def _backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", REGION)]


def _table_spec(table_name: str):
    from shared import resources

    return next((t for t in resources.TABLES if t.name == table_name), None)


def _key_of(table_name: str, item: dict) -> dict:
    spec = _table_spec(table_name)
    keys = [spec.hash_key] + ([spec.range_key] if spec.range_key else []) if spec else list(item)[:1]
    return {k: item[k] for k in keys if k in item}


def _stored(table_name: str, key: dict):
    """(size, attrs) of the stored item, (0, None) if absent: read from moto's backend, not through the API."""
    try:
        item = _backend().get_item(table_name, key)
    except Exception:  # noqa: BLE001 - a bad key: the call itself will fail and say so
        return 0, None
    if item is None:
        return 0, None
    attrs = item.to_json()["Attributes"]
    return item_size(attrs), attrs


def _units(size: int, block: int) -> int:
    return max(1, math.ceil(size / block))


def _index_writes(table_name: str, old: dict | None, new: dict | None, old_size: int, new_size: int) -> int:
    spec = _table_spec(table_name)
    total = 0
    for index in spec.indexes if spec else ():
        names = [index.hash_key] + ([index.range_key] if index.range_key else [])

        def key(attrs, names=names):
            if not attrs or not all(n in attrs for n in names):
                return None
            return tuple(json.dumps(attrs[n], sort_keys=True) for n in names)

        old_key, new_key = key(old), key(new)
        if old_key is None and new_key is None:
            continue
        if getattr(index, "projection", "ALL") == "KEYS_ONLY":
            # only the keys are projected: an update that keeps them writes nothing to the index
            if old_key == new_key:
                continue
            old_size = new_size = 100  # the index and table keys: well under 1 KB
        if old_key is not None and new_key is not None and old_key != new_key:
            total += _units(old_size, KB) + _units(new_size, KB)  # delete the old index entry, put the new
        else:
            total += _units(max(old_size if old_key else 0, new_size if new_key else 0), KB)
    return total


def dynamodb_call(meter: Meter, call: Callable[[], dict], op: str, params: dict) -> dict:
    """Make the call, estimating its units from the stored items before and after. Writes hold moto's lock
    (re-entrant; every moto request takes it) so no other thread changes the items in between."""
    import botocore.exceptions

    from infra.local import moto_lock

    wru: dict[str, Decimal] = defaultdict(Decimal)
    rru: dict[str, Decimal] = defaultdict(Decimal)
    biggest = 0
    error = None
    with moto_lock._lock:
        writes = []  # (table, key, kind, factor): kind put/update/delete/check
        if op in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            key = _key_of(table, params["Item"]) if op == "PutItem" else params["Key"]
            writes.append((table, key, op, 1))
        elif op == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, body), = entry.items()
                key = _key_of(body["TableName"], body["Item"]) if kind == "Put" else body["Key"]
                writes.append((body["TableName"], key, kind, 2))
        elif op == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        writes.append((table, _key_of(table, request["PutRequest"]["Item"]), "PutItem", 1))
                    else:
                        writes.append((table, request["DeleteRequest"]["Key"], "DeleteItem", 1))
        before = [_stored(t, k) for t, k, _, _ in writes]
        try:
            response = call()
        except botocore.exceptions.ClientError as exc:
            error, response = exc, None
        after = [_stored(t, k) for t, k, _, _ in writes]
    committed = error is None or op == "TransactWriteItems"  # a cancelled transaction: counted as committed
    for (table, _, kind, factor), (old_size, old), (new_size, new) in zip(writes, before, after):
        if kind in ("ConditionCheck",):
            new_size, new = old_size, old
        biggest = max(biggest, old_size, new_size)
        wru[table] += factor * _units(max(old_size, new_size), KB)
        if committed and kind != "ConditionCheck":
            wru[table] += _index_writes(table, old, new, old_size, new_size)
    # Reads
    if response is not None:
        consistent = bool(params.get("ConsistentRead"))
        factor = Decimal(1) if consistent else Decimal("0.5")
        if op == "GetItem":
            size = item_size(response.get("Item"))
            biggest = max(biggest, size)
            rru[params["TableName"]] += factor * _units(size, READ_BLOCK)
        elif op in ("Query", "Scan"):
            items = response.get("Items", [])
            size = sum(item_size(i) for i in items)
            biggest = max([biggest, *map(item_size, items)])
            rru[params["TableName"]] += factor * _units(size, READ_BLOCK)
        elif op == "TransactGetItems":
            for entry, got in zip(params["TransactItems"], response.get("Responses", [])):
                size = item_size(got.get("Item"))
                rru[entry["Get"]["TableName"]] += 2 * _units(size, READ_BLOCK)
        elif op == "BatchGetItem":
            for table, items in response.get("Responses", {}).items():
                f = Decimal(1) if params["RequestItems"][table].get("ConsistentRead") else Decimal("0.5")
                for item in items:
                    rru[table] += f * _units(item_size(item), READ_BLOCK)
    with meter.lock:
        for table, units in wru.items():
            meter.wru += units
            meter.ddb_by_table[table]["wru"] += units
        for table, units in rru.items():
            meter.rru += units
            meter.ddb_by_table[table]["rru"] += units
        meter.max_item_bytes = max(meter.max_item_bytes, biggest)
        meter.scans += op == "Scan"
        if error is not None:
            meter.errors[("dynamodb", op, error.response.get("Error", {}).get("Code"))] += 1
    if error is not None:
        raise error
    return response


# --------------------------------------------------------------------------------------------------
# The world: a stack, a city, citizens, an API client that counts requests


class Api:
    """The Chalice test client (the API function in-process), counting each request as one API Gateway
    request and one invocation of the API function."""

    def __init__(self, http) -> None:
        self._http = http

    def request(self, method: str, route: str, path: str, headers: dict, body: bytes | str | None = None):
        meter = _meter
        if meter is not None:
            with meter.lock:
                meter.api_requests[f"{method} {route}"] += 1
                meter.invocations["api"] += 1
        t0 = time.perf_counter()
        with within("api"):
            try:
                return getattr(self._http, method.lower())(path, headers=headers, body=body)
            finally:
                if meter is not None:
                    with meter.lock:
                        meter.local_ms["api"] += (time.perf_counter() - t0) * 1000

    def post(self, path: str, headers: dict, body):  # CallbackPoster's interface
        route = "/v1/payments/callbacks/{provider}" if path.startswith("/v1/payments/callbacks/") else path
        return self.request("POST", route, path, headers, body)


@dataclass
class Citizen:
    n: int
    plate: str
    headers: dict


class World:
    def __init__(self, stack, api: Api, clock, secrets: dict[str, str]) -> None:
        self.stack, self.api, self.clock, self.secrets = stack, api, clock, secrets
        self._event = 0

    # Setup (its own meter)
    def register(self, n: int) -> Citizen:
        from shared.auth import Role
        from shared.tokens import mint

        plate = f"苏B{10000 + n:05d}"
        token = mint(self.stack.services.token_key(), subject=f"bench-citizen-{n}", role=Role.CITIZEN,
                     now=self.clock.now(), ttl=timedelta(days=3650))
        citizen = Citizen(n, plate, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        self.call(citizen, "POST", "/v1/me/account", {"consent": True}, expect=201)
        self.call(citizen, "POST", "/v1/me/plates", {"plate": plate}, expect=202)
        code = self.stack.services.plate_verifier.sent[plate]
        out = self.call(citizen, "POST", "/v1/me/plates/verify", {"plate": plate, "code": code})
        if plate not in out.get("plates", []):
            raise RuntimeError(f"plate {plate} not verified: {out}")
        if self.call(citizen, "POST", "/v1/me/payment-method", expect=201).get("ready") is not True:
            raise RuntimeError("payment method not ready")
        self.deliver_callbacks()  # the provider confirms the saved method (setup.succeeded)
        return citizen

    def deliver_callbacks(self) -> int:
        """The provider's pending callbacks reach the API (each a request), as its servers would send them."""
        from tests.support import CallbackPoster

        return self.stack.services.providers["sandbox"].deliver(CallbackPoster(self.api, "sandbox"))

    def call(self, citizen: Citizen, method: str, path: str, body: dict | None = None, expect: int = 200,
             route: str | None = None) -> dict:
        resp = self.api.request(method, route or path, path, citizen.headers,
                                json.dumps(body or {}) if method != "GET" else None)
        if resp.status_code != expect:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status_code} {resp.body!r}")
        return json.loads(resp.body or b"null")

    def gate(self, kind: str, plate: str) -> dict:
        from shared.protocol import signing
        from tests.support import gate_event

        self._event += 1
        device = "lx-in1" if kind == "entry" else "lx-out1"
        event = gate_event(kind, plate, self.clock.now(), lot=LOT, event_id=f"bench-{kind}-{self._event}")
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = signing.signed_headers(device, self.secrets[device], body, int(self.clock.now().timestamp()))
        resp = self.api.request("POST", "/v1/events", "/v1/events", headers, body)
        if resp.status_code != 200:
            raise RuntimeError(f"{kind} event: HTTP {resp.status_code} {resp.body!r}")
        return json.loads(resp.body)["acks"][0]

    def pay(self, bill_id: str, channel: str) -> None:
        """The citizen pays a bill through the service window; the provider's callback follows."""
        resp = self.api.request("POST", "/v1/bills/{bill_id}/payments", f"/v1/bills/{bill_id}/payments",
                                {"Content-Type": "application/json"}, json.dumps({"channel": channel}))
        if resp.status_code not in (200, 201, 202):
            raise RuntimeError(f"payment of {bill_id}: HTTP {resp.status_code} {resp.body!r}")
        sandbox = self.stack.services.providers["sandbox"]
        sandbox.approve(self.stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
        self.deliver_callbacks()

    # Harness: executions, waiting (its AWS calls are the benchmark's, not counted)
    def _arns(self) -> dict[str, str]:
        return {m: os.environ[_sm_env(m)] for m in ("pay-later-billing", "arrears-escalation")}

    def running(self) -> int:
        from shared.adapters.aws import client

        sfn = client("stepfunctions")
        return sum(len(sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"])
                   for arn in self._arns().values())

    def settle(self) -> int:
        """Wait (real time) until every running execution waits on the clock; returns how many run."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        stable = 0
        while True:
            running = self.running()
            stable = stable + 1 if running == self.clock.sleepers else 0
            if stable >= 2:  # the same answer twice, a few ms apart
                return running
            if time.monotonic() > deadline:
                raise RuntimeError(f"workflows did not settle: {running} running, {self.clock.sleepers} waiting")
            time.sleep(0.003)

    def run_until(self, done: Callable[[], bool] = lambda: False) -> None:
        """Move the clock to each next deadline until every execution has ended or ``done()`` holds (checked
        only when all executions wait). Before time moves, the provider's pending callbacks are delivered."""
        for _ in range(10_000):
            running = self.settle()
            if self.deliver_callbacks():  # e.g. an off-session charge's result: delivered before time moves on
                running = self.settle()
            if running == 0 or done():
                return
            if self.clock.advance_to_next_deadline() == 0:
                time.sleep(0.003)  # a waiter's deadline just passed: let it wake
        raise RuntimeError("the workflows never ended")

    def grace_ends(self) -> dict:
        """The pay-later grace period passes and the grace-end schedule fires, as EventBridge would."""
        from infra.local import scheduler
        from shared import resources
        from shared.bills.model import PAY_LATER_GRACE

        self.clock.advance(PAY_LATER_GRACE.total_seconds())
        schedule = next(s for s in resources.SCHEDULES if s.function == "pay-later-grace")
        out = scheduler.fire(schedule, self.clock.now())
        return out if isinstance(out, dict) else json.loads(out)

    def execution(self, machine: str, name: str) -> dict:
        ex = next((e for e in self.stack.executions(machine) if e["name"] == name), None)
        if ex is None:
            return {}
        return self.stack.wait_execution(ex["executionArn"], timeout_s=SETTLE_TIMEOUT_S)

    def transitions(self, execution_arn: str) -> dict:
        from shared.adapters.aws import client

        sfn, events, token = client("stepfunctions"), [], None
        while True:
            page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                             **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        task_entered = sum(e["type"] == "TaskStateEntered" for e in entered)
        scheduled = sum(e["type"] in ("TaskScheduled", "LambdaFunctionScheduled") for e in events)
        return {
            "entered": len(entered),
            "retries": max(0, scheduled - task_entered),
            "task_scheduled": scheduled,
            "by_state": Counter(e["stateEnteredEventDetails"]["name"] for e in entered),
            "by_type": Counter(e["type"].removesuffix("StateEntered") for e in entered),
        }

    def next_morning(self) -> None:
        """09:00 Shanghai of the next day: every session starts at the same time of day (same price)."""
        from shared.clock import SHANGHAI

        local = self.clock.now().astimezone(SHANGHAI)
        self.clock.set((local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0))


def _sm_env(machine: str) -> str:
    from shared import resources

    return resources.state_machine_env(machine)


# --------------------------------------------------------------------------------------------------
# One session of each scenario


def run_session(world: World, scenario: str, citizen: Citizen, meters: dict[str, Meter]) -> dict:
    """Entry (own meter), then the measured part from the exit event on; returns what it saw and checks."""
    from shared.arrears.model import case_id_for

    stack, sandbox = world.stack, world.stack.services.providers["sandbox"]
    sandbox.configure(fail_next_off_session=DECLINES if scenario.startswith("arrears") else 0)
    world.next_morning()
    metering(meters["entry"])
    world.gate("entry", citizen.plate)
    world.clock.advance(STAY_HOURS * 3600)
    metering(None)

    seen = {"problems": []}
    problems = seen["problems"]
    metering(meters["session"])
    try:
        ack = world.gate("exit", citizen.plate)
        gate = ack.get("gate") or {}
        seen["gate"] = gate
        if gate.get("decision") != "open" or gate.get("reason") != "pay_later" or not gate.get("amount_fen"):
            problems.append(f"exit gate {gate}")
        if scenario == "pay_in_grace":
            bills = world.call(citizen, "GET", "/v1/me/bills")["bills"]
            bill_id = bills[0]["bill_id"]
            world.pay(bill_id, "alipay")
            if world.grace_ends().get("started") != 0:  # paid in grace: nothing to start
                problems.append("the grace-end sweep started a workflow for a paid bill")
        else:
            if world.grace_ends().get("started") != 1:
                problems.append("the grace-end sweep did not start the billing workflow")
            bill_id = None
            if scenario == "arrears_repaid":
                def flagged():
                    nonlocal bill_id
                    bill_id = bill_id or _bill_of(stack, citizen.plate)
                    case = stack.services.arrears._cases.get(case_id_for(bill_id)) if bill_id else None
                    return bool(case and case.flagged)

                world.run_until(flagged)  # the ladder waits for its hand-over step (day 30)
                world.pay(bill_id, "unionpay")
            world.run_until()
            bill_id = bill_id or _bill_of(stack, citizen.plate)
    finally:
        metering(None)
    seen["bill_id"] = bill_id
    seen["executions"] = check(world, scenario, bill_id, problems)
    return seen


def _bill_of(stack, plate: str) -> str | None:
    bills = stack.services.billing.of_plate(plate)
    return bills[0].bill_id if bills else None


def check(world: World, scenario: str, bill_id: str | None, problems: list[str]) -> dict:
    """The session took its path: statuses, the bill, the case. Returns the transitions per execution."""
    from shared.arrears.model import case_id_for
    from shared.payments.model import PaymentSource

    stack, out = world.stack, {}
    if bill_id is None:
        problems.append("no bill")
        return out
    billing = world.execution("pay-later-billing", bill_id)
    if scenario == "pay_in_grace" and billing:
        problems.append("a billing execution ran for a bill paid in grace")
    elif scenario != "pay_in_grace" and billing.get("status") != "SUCCEEDED":
        problems.append(f"pay-later-billing {billing.get('status')}")
    if billing:
        out["pay-later-billing"] = world.transitions(billing["executionArn"])
    bill = stack.services.billing.get(bill_id)
    off_session = [p for p in map(stack.services.payments.payment, bill.payments) if p.source is PaymentSource.OFF_SESSION]
    case = stack.services.arrears._cases.get(case_id_for(bill_id))
    if scenario.startswith("arrears"):
        arrears = world.execution("arrears-escalation", case_id_for(bill_id))
        if arrears.get("status") != "SUCCEEDED":
            problems.append(f"arrears-escalation {arrears.get('status')}")
        if arrears:
            out["arrears-escalation"] = world.transitions(arrears["executionArn"])
        left = stack.services.providers["sandbox"].behaviour.fail_next_off_session
        if left:
            problems.append(f"{DECLINES - left} declines instead of {DECLINES}")
        if case is None:
            problems.append("no arrears case")
        elif scenario == "arrears_repaid" and (case.state.value, case.closed_reason) != ("closed", "repaid"):
            problems.append(f"case {case.state.value} {case.closed_reason}, not closed repaid")
        elif scenario == "arrears_handover" and not (case.handed_over and case.state.value == "open"):
            problems.append(f"case {case.state.value}, handed over {case.handed_over}")
        if scenario == "arrears_repaid" and bill.balance_fen != 0:
            problems.append(f"bill balance {bill.balance_fen} after repayment")
        if scenario == "arrears_handover" and (bill.balance_fen <= 0 or bill.paid_fen):
            problems.append(f"bill balance {bill.balance_fen}, paid {bill.paid_fen} on the hand-over path")
    else:
        if case is not None:
            problems.append("an arrears case opened")
        if bill.balance_fen != 0:
            problems.append(f"bill balance {bill.balance_fen}")
        if len(off_session) != (1 if scenario == "auto_charge" else 0):
            problems.append(f"{len(off_session)} off-session charges")
    return out


# --------------------------------------------------------------------------------------------------
# A scenario on a fresh stack


def run_scenario(scenario: str, sessions: int) -> dict:
    from chalice.test import Client

    from infra.local.stack import LocalStack
    from shared.tariffs.samples import ZHUMADIAN_CLASS1
    from tests.support import build_city, price_lot

    clock = tracking_clock()
    started = time.perf_counter()
    with LocalStack(clock) as stack:
        from functions.api.app import app

        uninstall = install_meters()
        try:
            with Client(app) as client:
                city = build_city(stack.services.registry)
                price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
                world = World(stack, Api(client.http), clock, city.secrets)
                meters = {"registration": Meter(), "entry": Meter(), "session": Meter()}
                warm_up = {"registration": Meter(), "entry": Meter(), "session": Meter()}
                per_session, problems = [], []
                for n in range(sessions + 1):  # session 0 warms the caches (device secrets, ...): not counted
                    m = warm_up if n == 0 else meters
                    metering(m["registration"])
                    try:
                        citizen = world.register(n)
                    finally:
                        metering(None)
                    before = snapshot(m["session"])
                    try:
                        seen = run_session(world, scenario, citizen, m)
                    except Exception as exc:  # noqa: BLE001 - reported; later sessions would not be clean
                        traceback.print_exc()
                        problems.append(f"session {n}: {type(exc).__name__}: {exc}")
                        break
                    seen["counts"] = delta(before, snapshot(m["session"]))
                    problems += [f"{'warm-up session' if n == 0 else f'session {n}'}: {p}" for p in seen["problems"]]
                    print(f"[{scenario}] {'warm-up' if n == 0 else f'session {n}/{sessions}'}: "
                          f"{seen['counts']['aws_calls']} AWS calls, "
                          f"{sum(x['entered'] + x['retries'] for x in seen['executions'].values())} transitions"
                          + (f"  PROBLEMS {seen['problems']}" if seen["problems"] else ""), flush=True)
                    if n > 0:
                        per_session.append(seen)
        finally:
            uninstall()
            metering(None)
    result = summarise(scenario, per_session, meters, problems)
    result.setdefault("not_in_the_totals", {})["warm_up_session_cold_caches"] = {
        "note": "the first session on a fresh stack, from the exit event on: cold caches (a device secret "
                "decrypted with KMS, ...), as in a new Lambda container",
        **meter_figures(warm_up["session"], 1),
    }
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def snapshot(meter: Meter) -> dict:
    with meter.lock:
        return {
            "aws_calls": sum(meter.calls.values()),
            "wru": meter.wru,
            "rru": meter.rru,
            "invocations": sum(meter.invocations.values()),
            "api_requests": sum(meter.api_requests.values()),
        }


def delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in after}


# --------------------------------------------------------------------------------------------------
# Figures and money


def per(total, n: int) -> Decimal:
    return Decimal(total) / Decimal(n)


def plain(value: Decimal) -> str:
    """An exact decimal as a string, without trailing zeros or exponent."""
    text = format(value.normalize(), "f")
    return text


def meter_figures(meter: Meter, n: int) -> dict:
    """Per-session averages of one meter, exact decimals as strings."""
    calls_by_op: dict[str, dict[str, str]] = defaultdict(dict)
    by_function: dict[str, dict[str, str]] = defaultdict(dict)
    service_ops = Counter()
    for (function, service, op), count in meter.calls.items():
        service_ops[f"{service}:{op}"] += count
        by_function[function][f"{service}:{op}"] = plain(per(count, n))
    for key, count in sorted(service_ops.items()):
        service, op = key.split(":")
        calls_by_op[service][op] = plain(per(count, n))
    return {
        "aws_calls": plain(per(sum(meter.calls.values()), n)),
        "aws_calls_by_service": {s: plain(per(sum(c for k, c in service_ops.items() if k.startswith(s + ":")), n))
                                 for s in sorted(calls_by_op)},
        "aws_calls_by_operation": dict(calls_by_op),
        "aws_calls_by_function": {f: dict(sorted(v.items())) for f, v in sorted(by_function.items())},
        "errors_answered": {f"{s}:{o}:{c}": plain(per(k, n)) for (s, o, c), k in sorted(meter.errors.items())},
        "dynamodb_wru": plain(per(meter.wru, n)),
        "dynamodb_rru": plain(per(meter.rru, n)),
        "dynamodb_by_table": {t: {"wru": plain(per(u["wru"], n)), "rru": plain(per(u["rru"], n))}
                              for t, u in sorted(meter.ddb_by_table.items())},
        "dynamodb_largest_item_bytes": meter.max_item_bytes,
        "dynamodb_scans": plain(per(meter.scans, n)),
        "api_requests": plain(per(sum(meter.api_requests.values()), n)),
        "api_requests_by_route": {r: plain(per(c, n)) for r, c in sorted(meter.api_requests.items())},
        "lambda_invocations": plain(per(sum(meter.invocations.values()), n)),
        "lambda_invocations_by_function": {f: plain(per(c, n)) for f, c in sorted(meter.invocations.items())},
        "workflow_task_actions": {f"{f}:{a}": plain(per(c, n)) for (f, a), c in sorted(meter.task_actions.items())},
        "lambda_invokes_by_step_functions": plain(per(meter.sfn_lambda_invokes, n)),
        "local_ms_by_function_information_only": {f: round(ms / max(1, meter.invocations[f]), 1)
                                                  for f, ms in sorted(meter.local_ms.items())},
    }


def cost(api_requests: Decimal, invocations: Decimal, wru: Decimal, rru: Decimal, transitions: Decimal) -> dict:
    """USD per million sessions, exact; the inputs are per session."""
    gb_s = Decimal(LAMBDA_MEMORY_MB) / 1024 * Decimal(LAMBDA_AVG_DURATION_MS) / 1000
    parts = {
        "step_functions_transitions": transitions * PRICE["stepfunctions_standard_per_state_transition"],
        "lambda_requests": invocations * PRICE["lambda_per_request"],
        "lambda_duration": invocations * gb_s * PRICE["lambda_per_gb_second"],
        "dynamodb_writes": wru * PRICE["dynamodb_on_demand_per_write_request_unit"],
        "dynamodb_reads": rru * PRICE["dynamodb_on_demand_per_read_request_unit"],
        "api_gateway_requests": api_requests * PRICE["api_gateway_rest_per_request"],
    }
    per_million = {k: v * ONE_MILLION for k, v in parts.items()}
    total = sum(per_million.values(), Decimal(0))
    return {
        "usd_per_million_sessions_exact": {**{k: plain(v) for k, v in per_million.items()}, "total": plain(total)},
        "usd_per_million_sessions": {**{k: money(v) for k, v in per_million.items()}, "total": money(total)},
    }


def summarise(scenario: str, sessions: list[dict], meters: dict[str, Meter], problems: list[str]) -> dict:
    n = len(sessions)
    result = {"scenario": scenario, "sessions": n, "problems": problems}
    if n == 0:
        return result
    # Transitions per execution, averaged; differences between sessions are a problem (the path is fixed)
    machines: dict[str, dict] = {}
    for machine in ("pay-later-billing", "arrears-escalation"):
        runs = [s["executions"][machine] for s in sessions if machine in s["executions"]]
        if not runs:
            continue
        totals = [r["entered"] + r["retries"] for r in runs]
        if len(set(totals)) > 1:
            problems.append(f"{machine}: transitions differ between sessions: {sorted(Counter(totals).items())}")
        by_state, by_type = Counter(), Counter()
        for r in runs:
            by_state.update(r["by_state"])
            by_type.update(r["by_type"])
        machines[machine] = {
            "executions_per_session": plain(per(len(runs), n)),
            "transitions": plain(per(sum(totals), n)),
            "states_entered": plain(per(sum(r["entered"] for r in runs), n)),
            "task_retries": plain(per(sum(r["retries"] for r in runs), n)),
            "tasks_scheduled": plain(per(sum(r["task_scheduled"] for r in runs), n)),
            "states_entered_by_name": {k: plain(per(v, n)) for k, v in sorted(by_state.items())},
            "states_entered_by_type": {k: plain(per(v, n)) for k, v in sorted(by_type.items())},
        }
    calls = [s["counts"]["aws_calls"] for s in sessions]
    if len(set(calls)) > 1:
        problems.append(f"AWS calls differ between sessions: {sorted(Counter(calls).items())}")
    figures = meter_figures(meters["session"], n)
    transitions = sum((Decimal(m["transitions"]) for m in machines.values()), Decimal(0))
    result.update({
        "per_session": {**figures, "state_transitions": plain(transitions), "state_machines": machines},
        "cost": cost(Decimal(figures["api_requests"]), Decimal(figures["lambda_invocations"]),
                     Decimal(figures["dynamodb_wru"]), Decimal(figures["dynamodb_rru"]), transitions),
        "not_in_the_totals": {
            "entry_event": meter_figures(meters["entry"], n),
            "citizen_registration": meter_figures(meters["registration"], n),
        },
        "cross_checks": {
            "task_invocations_equal_lambda_invokes_by_step_functions":
                sum(c for f, c in meters["session"].invocations.items() if f not in SCHEDULED_OR_API)
                == meters["session"].sfn_lambda_invokes,
            "task_invocations_equal_tasks_scheduled_in_histories":
                sum(c for f, c in meters["session"].invocations.items() if f not in SCHEDULED_OR_API)
                == sum(s["executions"][m]["task_scheduled"] for s in sessions for m in s["executions"]),
        },
    })
    for name, ok in result["cross_checks"].items():
        if not ok:
            problems.append(f"cross-check failed: {name}")
    return result


# --------------------------------------------------------------------------------------------------
# Report


def table(report: dict) -> str:
    m = report["machine"]
    lines = [(f"Pay-later cost benchmark  {report['date']}  commit {report['commit']}  "
             f"({m['cpu_model'] or m['processor']}, Python {m['python']})"),
             (f"  per session from the exit event on; USD per 1,000,000 sessions at {REGION} list prices "
             f"(as of {PRICES_AS_OF}, free tiers ignored; Lambda {LAMBDA_MEMORY_MB} MB x assumed "
             f"{LAMBDA_AVG_DURATION_MS} ms)"), ""]
    head = (f"  {'scenario':<17}{'n':>3} {'API':>4} {'λ inv':>6} {'AWS calls':>10} {'WRU':>6} {'RRU':>6} "
            f"{'SFN tr':>7} | {'SFN $':>8} {'λ $':>8} {'DDB $':>8} {'APIGW $':>8} {'total $':>9}")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for s in report["scenarios"]:
        if "per_session" not in s:
            lines.append(f"  {s['scenario']:<17}{s['sessions']:>3}  no completed session")
            continue
        p, c = s["per_session"], s["cost"]["usd_per_million_sessions"]
        lam = Decimal(c["lambda_requests"]) + Decimal(c["lambda_duration"])
        ddb = Decimal(c["dynamodb_writes"]) + Decimal(c["dynamodb_reads"])
        lines.append(
            f"  {s['scenario']:<17}{s['sessions']:>3} {_f(p['api_requests']):>4} {_f(p['lambda_invocations']):>6} "
            f"{_f(p['aws_calls']):>10} {_f(p['dynamodb_wru']):>6} {_f(p['dynamodb_rru']):>6} "
            f"{_f(p['state_transitions']):>7} | {c['step_functions_transitions']:>8} {money(lam):>8} "
            f"{money(ddb):>8} {c['api_gateway_requests']:>8} {c['total']:>9}")
    lines.append("")
    for s in report["scenarios"]:
        if "per_session" not in s:
            continue
        p = s["per_session"]
        ops = ", ".join(f"{svc}:{op} {_f(v)}" for svc, d in p["aws_calls_by_operation"].items() for op, v in d.items())
        sm = "; ".join(f"{k} {_f(v['transitions'])} ({', '.join(f'{t} {_f(x)}' for t, x in v['states_entered_by_type'].items())})"
                       for k, v in p["state_machines"].items())
        lam = ", ".join(f"{f} {_f(v)}" for f, v in p["lambda_invocations_by_function"].items())
        api = ", ".join(f"{r} {_f(v)}" for r, v in p["api_requests_by_route"].items())
        lines += [f"  {s['scenario']}: {ops}", f"      transitions: {sm}",
                  f"      Lambda invocations: {lam}; API requests: {api}"]
    lines.append(f"  verdict: {'OK' if report['ok'] else 'PROBLEMS: ' + '; '.join(report['problems'][:10])}")
    return "\n".join(lines)


def _f(text: str) -> str:
    value = Decimal(text)
    return str(value) if value == value.to_integral() else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=20, help="sessions per scenario (default 20)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    p.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = p.parse_args(argv)
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if args.sessions < 1 or not chosen or any(s not in SCENARIOS for s in chosen):
        p.error(f"--sessions must be positive; --scenarios from {', '.join(SCENARIOS)}")

    for key, value in {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                       "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        os.environ.setdefault(key, value)
    machine, commit = machine_info(), git_commit()
    started = time.monotonic()
    scenarios = [run_scenario(name, args.sessions) for name in chosen]
    problems = [f"{s['scenario']}: {p}" for s in scenarios for p in s["problems"]]
    problems += [f"{s['scenario']}: only {s['sessions']} of {args.sessions} sessions" for s in scenarios
                 if s["sessions"] < args.sessions]
    report = {
        "benchmark": "paylater",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": machine,
        "parameters": {
            "sessions_per_scenario": args.sessions,
            "scenarios": chosen,
            "stay": f"{STAY_HOURS} h from 09:00 Asia/Shanghai at {LOT} (ZHUMADIAN_CLASS1: 600 fen)",
            "declines_on_the_arrears_paths": DECLINES,
            "stack": "a fresh local stack (moto in-process, real ASL executions) per scenario; a new citizen per session",
            "clock": "ManualClock moved to each next workflow deadline; nothing sleeps for a period",
        },
        "prices": {"region": REGION, "as_of": PRICES_AS_OF, "currency": "USD", "free_tiers": "ignored",
                   "note": "list prices written in bench/bench_paylater.py (not fetched); re-check the sources",
                   "items": PRICES,
                   "lambda": {"memory_mb": LAMBDA_MEMORY_MB, "assumed_avg_billed_duration_ms": LAMBDA_AVG_DURATION_MS}},
        "assumptions": ASSUMPTIONS,
        "transition_notes": TRANSITION_NOTES,
        "scenarios": scenarios,
    }
    return finish(args.output, report, started, problems, table)


if __name__ == "__main__":
    sys.exit(main())
