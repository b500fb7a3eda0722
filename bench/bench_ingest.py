"""Ingest load benchmark: signed protocol v1 events through the real HTTP server of the local stack.

What it measures: how many device events per second the platform code accepts end to end on this
machine, and the latency a device sees, when events arrive over HTTP exactly as devices send them:
every request freshly signed (HMAC, unique nonce, current timestamp), authenticated, validated, written
to the embedded DynamoDB (acks, sessions, lot status) and acknowledged. Then how long the archive writer
takes to drain the acks table's stream into the S3 archive, and that every accepted event is archived.

Why: ingest is the hot path (every gate camera, berth robot and lot system in the city posts here), and
the figures are a baseline to catch regressions in it. They are NOT figures for AWS: the "AWS" here is
moto in-process and the HTTP server is Chalice's local dev server (a threaded ``http.server``), all in
one Python process sharing one GIL with the load generator. See bench/README.md.

Workload: the seeded demo city (enclosed lots and on-street zones in 7 districts). Each lot has its own
ordered feed: vehicles enter and later leave (so sessions open and close), berths start and end on
on-street zones, lot systems report absolute occupancy counts, devices send heartbeats. Lots are split
between client threads, so one lot's events arrive in order, as from one site, while lots run in
parallel. Two scenarios, each on a fresh stack and demo city:

- ``single``: one event per request, each from the device that would send it (entry camera, exit
  camera, lot system, berth robot, video pole);
- ``batch``:  50 events per request, from the lot's system (enclosed) or its berth robot (on-street),
  as after a network cut.

    .venv/bin/python -m bench.bench_ingest [--events 10000] [--threads 4] [--batch-size 50]

Results go to bench/results/ingest.json; a summary is printed. The exit status is 1 when any event was
not accepted, any request failed, the archive disagrees or the time limit cut the run short.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import itertools
import json
import math
import os
import random
import socket
import sys
import threading
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bench.report import finish, git_commit, machine_info

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "ingest.json"
HOST = "127.0.0.1"  # all traffic stays on loopback
TIME_LIMIT_S = 15 * 60  # the whole load (shared between the scenarios); past it clients stop and the report says so
SHANGHAI = timezone(timedelta(hours=8))
PLATE_LETTERS = "BCDEFHJKLMNPQRTUVWXY"


# --------------------------------------------------------------------------------------------------
# Workload: one ordered feed per lot


_plate_numbers = itertools.count()  # shared by all feeds; next() on a count is atomic in CPython


def new_plate() -> tuple[str, str]:
    """A unique, valid plate and its colour: mostly blue 苏B12345, every 6th a green new-energy 苏BD12345."""
    n = next(_plate_numbers)
    letter = PLATE_LETTERS[(n // 100_000) % len(PLATE_LETTERS)]
    if n % 6 == 5:
        return f"苏{letter}D{n % 100_000:05d}", "green"
    return f"苏{letter}{n % 100_000:05d}", "blue"


@dataclass
class LotFeed:
    """The events one lot produces, in order, each paired with the device that sends it."""

    lot_id: str
    on_street: bool
    capacity: int
    berths: list[str]
    rng: random.Random
    parked: deque = field(default_factory=deque)  # enclosed: (plate, colour), oldest first
    occupied: dict = field(default_factory=dict)  # on-street: berth -> (plate, colour)
    seq: int = 0
    last_at: datetime | None = None

    @property
    def batch_device(self) -> str:
        """Who pushes a buffered batch: the lot system, or the berth robot of an on-street zone."""
        return f"{self.lot_id}-robot" if self.on_street else f"{self.lot_id}-sys"

    def _occurred_at(self) -> str:
        # Strictly increasing per lot (ms resolution), so no occupancy report is older than the last one.
        now = datetime.now(SHANGHAI)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self.last_at is not None and now <= self.last_at:
            now = self.last_at + timedelta(milliseconds=1)
        self.last_at = now
        return now.isoformat(timespec="milliseconds")

    def _base(self, kind: str) -> dict:
        self.seq += 1
        return {
            "event_id": f"bench-{self.lot_id}-{self.seq}",
            "type": kind,
            "lot_id": self.lot_id,
            "occurred_at": self._occurred_at(),
        }

    def next_event(self) -> tuple[str, dict]:
        r = self.rng.random()
        if r < 0.06:
            device = f"{self.lot_id}-pole" if self.on_street else f"{self.lot_id}-sys"
            return device, self._base("heartbeat") | {"status": "ok"}
        if r < 0.18:
            in_use = len(self.occupied) if self.on_street else len(self.parked)
            baseline = 0 if self.on_street else self.capacity // 2  # cars parked before the run
            free = max(0, self.capacity - baseline - in_use)
            device = f"{self.lot_id}-pole" if self.on_street else f"{self.lot_id}-sys"
            return device, self._base("occupancy") | {"total": self.capacity, "free": free}
        return self._berth_event() if self.on_street else self._gate_event()

    def _gate_event(self) -> tuple[str, dict]:
        arrive = len(self.parked) < 3 or (len(self.parked) < 40 and self.rng.random() < 0.5)
        if arrive:
            plate, colour = new_plate()
            self.parked.append((plate, colour))
            kind, device, lane = "entry", f"{self.lot_id}-in1", "in-1"
        else:
            plate, colour = self.parked.popleft()
            kind, device, lane = "exit", f"{self.lot_id}-out1", "out-1"
        return device, self._base(kind) | {
            "plate": plate,
            "plate_colour": colour,
            "lane": lane,
            "confidence": round(self.rng.uniform(0.9, 1.0), 3),
        }

    def _berth_event(self) -> tuple[str, dict]:
        free = [b for b in self.berths if b not in self.occupied]
        if free and (len(self.occupied) < 3 or self.rng.random() < 0.5):
            berth = self.rng.choice(free)
            plate, colour = new_plate()
            self.occupied[berth] = (plate, colour)
            kind = "berth_start"
        else:
            berth = self.rng.choice(sorted(self.occupied))
            plate, colour = self.occupied.pop(berth)
            kind = "berth_end"
        return f"{self.lot_id}-robot", self._base(kind) | {"plate": plate, "plate_colour": colour, "berth": berth}


def build_feeds(credentials: dict[str, dict], seed: int = 7) -> list[LotFeed]:
    """One feed per seeded lot (``demo_lots`` is what ``seed`` registered: it is deterministic)."""
    from infra.local.seed import demo_lots

    rng = random.Random(seed)
    seeded = {c["lot_id"] for c in credentials.values() if c["lot_id"]}
    lots = [lot for lot in demo_lots() if lot["lot_id"] in seeded]
    if len(lots) != len(seeded):
        raise SystemExit("the seeded lots and demo_lots() disagree")
    return [
        LotFeed(
            lot_id=lot["lot_id"],
            on_street=lot["kind"] == "on_street",
            capacity=lot["capacity"],
            berths=list(lot.get("berths", [])),
            rng=random.Random(rng.random()),
        )
        for lot in lots
    ]


# --------------------------------------------------------------------------------------------------
# Client side


@dataclass
class Tally:
    """What one client thread saw; merged after the run."""

    latencies_ms: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # perf_counter when each request completed
    events_sent: int = 0
    acks: Counter = field(default_factory=Counter)  # ack status
    http: Counter = field(default_factory=Counter)  # HTTP status ("error:<Exception>" for transport errors)
    flags: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # reason codes of non-accepted acks / refused requests
    gate: Counter = field(default_factory=Counter)
    match: Counter = field(default_factory=Counter)
    accepted: set = field(default_factory=set)  # (lot_id, event_id)
    samples: list = field(default_factory=list)  # first few failures, verbatim
    cut_short: bool = False

    def merge(self, other: Tally) -> None:
        for name in ("latencies_ms", "done_at", "samples"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("acks", "http", "flags", "reasons", "gate", "match"):
            getattr(self, name).update(getattr(other, name))
        self.accepted |= other.accepted
        self.events_sent += other.events_sent
        self.cut_short |= other.cut_short


class Client:
    """One keep-alive HTTP/1.1 connection, as one device gateway would hold."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            self._conn.request("POST", path, body=body, headers=headers)
            resp = self._conn.getresponse()
            return resp.status, resp.read()
        except Exception:
            self._conn.close()  # the next request reconnects
            self._conn = http.client.HTTPConnection(HOST, self._port, timeout=60)
            raise

    def close(self) -> None:
        self._conn.close()


def drive(
    port: int, feeds: list[LotFeed], requests: int, batch_size: int, secrets: dict[str, str], deadline: float
) -> Tally:
    """Send ``requests`` requests round-robin over this thread's lots; batch_size 1 = single events."""
    from shared.protocol import signing

    tally, client = Tally(), Client(port)
    try:
        for i in range(requests):
            if time.monotonic() > deadline:
                tally.cut_short = True
                break
            feed = feeds[i % len(feeds)]
            if batch_size == 1:
                device, event = feed.next_event()
                events, body_obj = [event], event
            else:
                device = feed.batch_device
                events = [feed.next_event()[1] for _ in range(batch_size)]
                body_obj = {"events": events}
            body = json.dumps(body_obj, ensure_ascii=False).encode()
            headers = signing.signed_headers(device, secrets[device], body, int(time.time()))
            t0 = time.perf_counter()
            try:
                status, raw = client.post("/v1/events", headers, body)
            except Exception as exc:  # transport failure: counted, never silent
                tally.http[f"error:{type(exc).__name__}"] += 1
                tally.events_sent += len(events)
                _sample(tally, {"device": device, "error": repr(exc)})
                continue
            t1 = time.perf_counter()
            tally.latencies_ms.append((t1 - t0) * 1000)
            tally.done_at.append(t1)
            tally.events_sent += len(events)
            tally.http[status] += 1
            _record_acks(tally, status, raw, events, device)
    finally:
        client.close()
    return tally


def _record_acks(tally: Tally, status: int, raw: bytes, events: list[dict], device: str) -> None:
    try:
        reply = json.loads(raw)
    except ValueError:
        reply = {}
    acks = reply.get("acks") if isinstance(reply, dict) else None
    if status != 200 or not isinstance(acks, list) or len(acks) != len(events):
        code = (reply.get("code") or reply.get("Code")) if isinstance(reply, dict) else None
        tally.reasons[f"request:{status}:{code}"] += 1
        tally.acks["missing"] += len(events) - len(acks or [])
        _sample(tally, {"device": device, "http": status, "reply": reply})
    for event, ack in zip(events, acks or []):
        tally.acks[ack.get("status")] += 1
        tally.flags.update(ack.get("flags") or [])
        if ack.get("match"):
            tally.match[ack["match"]] += 1
        if ack.get("gate"):
            tally.gate[f"{ack['gate']['decision']}:{ack['gate']['reason']}"] += 1
        if ack.get("status") == "accepted":
            tally.accepted.add((event["lot_id"], event["event_id"]))
        else:
            tally.reasons[ack.get("reason") or ack.get("status")] += 1
            _sample(tally, {"device": device, "event": event, "ack": ack})


def _sample(tally: Tally, item: dict) -> None:
    if len(tally.samples) < 5:
        tally.samples.append(item)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def run_scenario(
    name: str,
    port: int,
    feeds: list[LotFeed],
    events: int,
    threads: int,
    batch_size: int,
    secrets: dict[str, str],
    deadline: float,
) -> tuple[dict, Tally]:
    total_requests = math.ceil(events / batch_size)
    threads = min(threads, len(feeds))
    shares = [feeds[t::threads] for t in range(threads)]  # each lot belongs to one thread
    counts = [total_requests // threads + (t < total_requests % threads) for t in range(threads)]
    print(f"[{name}] {total_requests} requests x {batch_size} event(s), {threads} threads ...", flush=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix=f"bench-{name}") as pool:
        futures = [
            pool.submit(drive, port, shares[t], counts[t], batch_size, secrets, deadline) for t in range(threads)
        ]
        tallies = [f.result() for f in futures]
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start  # all threads: clients, server, embedded AWS
    tally = Tally()
    for t in tallies:
        tally.merge(t)
    lat = sorted(tally.latencies_ms)
    requests_done = len(lat)
    # Throughput in each tenth of the run (by completion order): shows whether ingest slows as tables grow.
    done = sorted(tally.done_at)
    tenths = []
    edges = (
        [start] + [done[min(len(done) - 1, math.ceil(len(done) * k / 10) - 1)] for k in range(1, 11)] if done else []
    )
    for k in range(1, len(edges)):
        n = math.ceil(len(done) * k / 10) - math.ceil(len(done) * (k - 1) / 10)
        span = edges[k] - edges[k - 1]
        tenths.append(round(n * batch_size / span, 1) if span > 0 else None)
    result = {
        "scenario": name,
        "batch_size": batch_size,
        "threads": threads,
        "requests_planned": total_requests,
        "requests_completed": requests_done,
        "events_sent": tally.events_sent,
        "wall_s": round(wall, 3),
        "events_per_s": round(tally.events_sent / wall, 1),
        "accepted_events_per_s": round(tally.acks.get("accepted", 0) / wall, 1),
        "requests_per_s": round(requests_done / wall, 1),
        "latency_ms": {
            "p50": round(percentile(lat, 50), 2),
            "p95": round(percentile(lat, 95), 2),
            "p99": round(percentile(lat, 99), 2),
            "max": round(lat[-1], 2) if lat else None,
            "mean": round(sum(lat) / len(lat), 2) if lat else None,
        },
        "events_per_s_by_tenth": tenths,
        "process_cpu_s": round(cpu, 1),
        "process_cpu_per_wall": round(cpu / wall, 2),  # well under 1: the process was starved of CPU
        "http_status": {str(k): v for k, v in sorted(tally.http.items(), key=str)},
        "acks": dict(tally.acks),
        "not_accepted_reasons": dict(tally.reasons),
        "flags": dict(tally.flags),
        "match": dict(tally.match),
        "gate": dict(tally.gate),
        "failure_samples": tally.samples,
        "cut_short_by_time_limit": tally.cut_short,
    }
    if tally.cut_short and tally.events_sent:
        result["projected_wall_s_for_all_events"] = round(wall * total_requests * batch_size / tally.events_sent, 1)
    return result, tally


# --------------------------------------------------------------------------------------------------
# Machine, stack and report


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_api(port: int):
    """Chalice's local server as ``make run`` starts it, in a daemon thread; returns the LocalDevServer."""
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    from functions.api.app import app

    class QuietHandler(ChaliceRequestHandler):
        def log_message(self, format, *args):  # one stderr line per request would drown the summary
            pass

    server = LocalDevServer(app, Config(chalice_stage="local"), host=HOST, port=port, handler_cls=QuietHandler)
    threading.Thread(target=server.server.serve_forever, name="chalice-local", daemon=True).start()
    return server


def summary(report: dict) -> str:
    m = report["machine"]
    lines = [f"Ingest benchmark  {report['date']}  commit {report['commit']}  ({m['cpu_model'] or m['processor']}, "
             f"{m['cpu_count']} CPUs, {m['memory_total_gib']} GiB, Python {m['python']})"]
    for s in report["scenarios"]:
        lat, a = s["latency_ms"], s["archive"]
        lines += [
            f"  {s['scenario']:<6} {s['events_sent']:>6} events in {s['requests_completed']:>6} requests "
            f"({s['batch_size']}/req, {s['threads']} threads) in {s['wall_s']:.1f} s: "
            f"{s['events_per_s']:.1f} events/s ({s['accepted_events_per_s']:.1f} accepted), "
            f"{s['requests_per_s']:.1f} req/s, latency p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms  "
            f"p99 {lat['p99']:.1f} ms",
            f"         acks {s['acks']}  http {s['http_status']}"
            + (f"  NOT ACCEPTED {s['not_accepted_reasons']}" if s["not_accepted_reasons"] else "")
            + (f"  flags {s['flags']}" if s["flags"] else ""),
            f"         events/s by tenth of the run: {s['events_per_s_by_tenth']}; "
            f"process CPU/wall {s['process_cpu_per_wall']}",
            f"         archive: FAILED {a['error']}" if "error" in a else
            f"         archive: {a['archived_events']} events in {a['pump_s']:.1f} s "
            f"({a['events_archived_per_s']:.0f}/s) vs {a['accepted_events']} accepted: "
            f"{'OK' if a['matches'] else 'MISMATCH'}",
        ]
    lines.append(f"  load average at start {m['loadavg_at_start']}, at end {report['loadavg_at_end']}; "
                 f"peak RSS {report['peak_rss_mib']} MiB")
    lines.append(f"  verdict: {'OK' if report['ok'] else 'PROBLEMS: ' + '; '.join(report['problems'])}")
    return "\n".join(lines)


def check_archive(stack, accepted: set) -> dict:
    """Pump the acks stream to the archive writer (timed), then compare the archive with the accepted acks."""
    from shared.adapters.archive_bucket import ArchiveBucket
    from shared.archive.writer import read_archive

    t0 = time.perf_counter()
    delivered = stack.pump_streams()
    pump_s = time.perf_counter() - t0
    archived = read_archive(ArchiveBucket())
    archived_keys = {(r["lot_id"], r["event"]["event_id"]) for r in archived}
    return {
        "stream_records_delivered": delivered,  # an INSERT per event, and a MODIFY when it is claimed
        "pump_s": round(pump_s, 3),
        "events_archived_per_s": round(len(archived) / pump_s, 1) if pump_s > 0 else None,
        "pump_failures": sum(pump.failures for pump in stack.pumps),
        "archived_events": len(archived),
        "archived_unique": len(archived_keys),
        "accepted_events": len(accepted),
        "matches": len(archived) == len(accepted) and archived_keys == accepted,
        "missing_from_archive": len(accepted - archived_keys),
        "not_accepted_but_archived": len(archived_keys - accepted),
    }


def scenario_on_fresh_stack(name: str, batch_size: int, args, budget_end: float) -> dict:
    """Start a stack, seed the city, run one scenario, archive what was accepted and check it, stop."""
    from infra.local.seed import seed
    from infra.local.stack import LocalStack
    from shared.clock import SystemClock

    api_port, aws_port = free_port(), free_port()
    stack = LocalStack(SystemClock(), server_port=aws_port).start()
    server = None
    try:
        t0 = time.perf_counter()
        credentials = seed(stack.services.registry)
        seed_s = time.perf_counter() - t0
        secrets = {d: c["secret"] for d, c in credentials.items()}
        feeds = build_feeds(credentials)
        server = start_api(api_port)
        print(f"[{name}] stack up: API http://{HOST}:{api_port}, embedded AWS http://{HOST}:{aws_port}; "
              f"{len(feeds)} lots ({sum(f.on_street for f in feeds)} on-street), {len(credentials)} devices; "
              f"seeded in {seed_s:.1f} s", flush=True)
        result, tally = run_scenario(name, api_port, feeds, args.events, args.threads, batch_size, secrets, budget_end)
        print(f"[{name}] {result['events_per_s']:.1f} events/s, p50 {result['latency_ms']['p50']} ms, "
              f"p99 {result['latency_ms']['p99']} ms, acks {result['acks']}; archiving ...", flush=True)

        try:
            result["archive"] = check_archive(stack, tally.accepted)
        except Exception as exc:  # keep the load figures; the failure is reported as a problem
            traceback.print_exc()
            result["archive"] = {"error": f"{type(exc).__name__}: {exc}"}
        result["seed_s"] = round(seed_s, 3)
        result["lots"], result["devices"] = len(feeds), len(credentials)
        return result
    finally:
        if server is not None:
            server.server.shutdown()
            server.server.server_close()
        stack.stop()


def problems_of(s: dict, args) -> list[str]:
    name, a, problems = s["scenario"], s["archive"], []
    if s["acks"].get("accepted", 0) != s["events_sent"]:
        problems.append(f"{name}: {s['events_sent'] - s['acks'].get('accepted', 0)} events not accepted "
                        f"{s['not_accepted_reasons']}")
    if set(s["http_status"]) != {"200"}:
        problems.append(f"{name}: HTTP statuses {s['http_status']}")
    if s["events_sent"] < args.events:
        problems.append(f"{name}: only {s['events_sent']} of {args.events} events sent")
    if s["cut_short_by_time_limit"]:
        problems.append(f"{name}: cut short by its share of the {args.time_limit:.0f} s time limit "
                        f"(all {args.events} events would take ~{s.get('projected_wall_s_for_all_events')} s)")
    if "error" in a:
        problems.append(f"{name}: archiving failed: {a['error']}")
        return problems
    if not a["matches"]:
        problems.append(f"{name}: archive has {a['archived_events']} events for {a['accepted_events']} accepted")
    if a["pump_failures"]:
        problems.append(f"{name}: archive writer failed {a['pump_failures']} batch(es)")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=10_000, help="events per scenario (default 10000)")
    p.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    p.add_argument("--batch-size", type=int, default=50, help="events per request in the batch scenario (max 100)")
    p.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, help="seconds for the whole load (default 900)")
    p.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = p.parse_args(argv)
    if args.events < 1 or args.threads < 1 or not 1 <= args.batch_size <= 100:
        p.error("--events and --threads must be positive, --batch-size 1..100")

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    machine, commit = machine_info(), git_commit()  # at the start: the code this process imports
    started = time.monotonic()
    deadline = started + args.time_limit
    plan = (("single", 1), ("batch", args.batch_size))
    scenarios = []
    for left, (name, batch_size) in zip(range(len(plan), 0, -1), plan):
        # Each scenario gets an equal share of the time still left, so a slow one cannot starve the next.
        budget_end = time.monotonic() + max(0.0, deadline - time.monotonic()) / left
        scenarios.append(scenario_on_fresh_stack(name, batch_size, args, budget_end))
    problems = [p for s in scenarios for p in problems_of(s, args)]

    report = {
        "benchmark": "ingest",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": machine,
        "parameters": {
            "events_per_scenario": args.events,
            "threads": args.threads,
            "batch_size": args.batch_size,
            "time_limit_s": args.time_limit,
            "transport": "HTTP/1.1 keep-alive over 127.0.0.1, one connection per client thread",
            "server": "chalice.local.LocalDevServer (ThreadingMixIn http.server), moto in-process",
            "stack": "a fresh local stack and demo city per scenario",
        },
        "scenarios": scenarios,
    }
    return finish(args.output, report, started, problems, summary,
                  loadavg_at_end=[round(x, 2) for x in os.getloadavg()])


if __name__ == "__main__":
    sys.exit(main())
