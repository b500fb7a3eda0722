"""Replay throughput: synthetic archive lines (built through the domain's own event models) replayed
through the live planner and tariff engine, on one core, beside the raw rate of reading and decoding the
same lines (orjson, and msgspec into plain objects: the faster of the two is the bar). The ratio replay/raw
is the figure that matters (issue 12 aims at >= 0.3 and at >= 150,000 events/s per core).

    .venv/bin/python -m bench.bench_replay [--events 1000000] [--lots 200]

The archive is written once to a temporary JSON Lines file, read back for both measurements. Rates are
events per CPU second of this process (``time.process_time``; the machine is shared, and wall time counts
other processes' turns too), with the wall-clock rates beside them. Peak memory is the process's maximum
resident set (``ru_maxrss``) after each phase. The replay is the one ``tongting replay`` runs on a verified
archive: lines decoded straight into typed structs (``shared.audit.archived``, msgspec) without
re-validation, no per-session charges kept (flat memory).
Results: bench/results/replay.json.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import orjson

from bench.report import git_commit, machine_info
from bench.report import write as write_report
from shared.audit.archived import decode_lines
from shared.audit.replay import ALL, P, Replay, session_hash
from shared.clock import local_date
from shared.protocol.events import EntryEvent, ExitEvent
from shared.registry.model import Lot
from shared.sessions.model import session_id_for
from shared.tariffs.engine import quote
from shared.tariffs.samples import ZHUMADIAN_CLASS1

RESULTS = Path(__file__).parent / "results" / "replay.json"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lots(n: int) -> dict[str, Lot]:
    return {
        f"lot-{i:04d}": Lot.model_validate({
            "lot_id": f"lot-{i:04d}", "name": f"lot {i}", "district_code": "320213", "operator_id": f"op-{i % 7}",
            "kind": "enclosed", "capacity": 500, "location": {"lat": 31.5, "lon": 120.3}, "tariff_ref": ZHUMADIAN_CLASS1.id})
        for i in range(n)
    }  # fmt: skip


def generate(path: Path, events: int, lot_ids: list[str], seed: int = 12) -> None:
    """Entries and exits in accepted order, per lot; stays of minutes to a day."""
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    pending: list[tuple[datetime, str, str, str]] = []  # exits to emit: (at, lot, plate, event id)
    written, n, now = 0, 0, t0
    with path.open("wb") as f:
        while written < events:
            now += timedelta(seconds=rng.randint(0, 3))
            if pending and (pending[0][0] <= now or len(pending) > 5000):
                at, lot, plate, eid = heapq.heappop(pending)
                event = ExitEvent(event_id=f"x{eid}", type="exit", lot_id=lot, occurred_at=at, plate=plate,
                                  plate_colour="blue", confidence=0.97, lane="l1")  # fmt: skip
                accepted = max(at, now)
            else:
                n += 1
                lot, plate = rng.choice(lot_ids), f"苏B{n % 99999:05d}"
                event = EntryEvent(event_id=f"e{n}", type="entry", lot_id=lot, occurred_at=now, plate=plate,
                                   plate_colour="blue", confidence=0.97, lane="l1")  # fmt: skip
                heapq.heappush(pending, (now + timedelta(minutes=rng.randint(5, 1440)), lot, plate, str(n)))
                accepted = now
            record = {"lot_id": event.lot_id, "district_code": "320213", "device_id": "cam",
                      "accepted_at": accepted.isoformat(), "event": event.model_dump(mode="json"), "ack": {}}  # fmt: skip
            f.write(orjson.dumps(record) + b"\n")
            written += 1


class Timer:
    """Wall-clock and this process's CPU seconds: on a shared machine other processes take turns on the
    core, which stretches wall time but not CPU time, so rates are given per CPU second as well."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def raw_rate(path: Path, loads=orjson.loads) -> tuple[Timer, int]:
    """Reading and decoding each line into plain Python objects (dicts), nothing else."""
    count = 0
    with Timer() as t, path.open("rb") as f:
        for line in f:
            loads(line)
            count += 1
    return t, count


def replay_rate(path: Path, lot_map: dict[str, Lot], validate: bool = False) -> tuple[Timer, Replay]:
    def price(lot, entered_at, until, session):
        vehicle, colour = session.vehicle_class, session.plate_colour
        return quote(ZHUMADIAN_CLASS1, entered_at, until, vehicle, colour, itemised=False)

    if validate:  # as before: every event validated, every session's charge kept
        replay = Replay(lot_map, price, trusted=False, keep=ALL)
    else:  # as `tongting replay` on a verified archive
        replay = Replay(lot_map, price, trusted=True, keep=frozenset())
    with Timer() as t, path.open("rb") as f:
        # as `tongting replay` reads: a verified archive's lines into typed structs, else dicts to validate
        replay.run(decode_lines(f) if replay.trusted else map(orjson.loads, f))
    return t, replay


@dataclass
class Floor:
    """What the floor computed: to compare with the replay's (``tests/audit/test_bench_floor.py``)."""

    sessions_charged: int = 0
    replayed_fen: int = 0
    totals: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # (operator, day) -> fen
    fingerprints: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # as Replay's


def floor_rate(path: Path, lot_map: dict[str, Lot]) -> tuple[Timer, Floor]:
    """The least a replay that reuses the decoder, the tariff engine and the charge's bookkeeping can cost,
    a measuring stick for the aims, not a replay: the same lines decoded the same way (``decode_lines``),
    each exit paired with its plate's open entry by one dict look-up (no planner, no lot state, no session
    object: none of the planner's rules), priced by the live ``quote`` as ``replay_rate`` prices, and the
    charge kept as ``Replay._charge`` keeps it (session id, local day, totals, fingerprint term). On the
    synthetic archive, where every exit has its exact plate's entry, it charges the sessions replay charges,
    to the fen and fingerprint (the bench warns otherwise; a test compares them)."""
    tariff, lot_of = ZHUMADIAN_CLASS1, lot_map.get
    parked: dict[tuple[str, str], tuple[str, datetime, object, object]] = {}
    out = Floor()
    totals, prints, charged, fen_total = out.totals, out.fingerprints, 0, 0
    with Timer() as t, path.open("rb") as f:
        for record in decode_lines(f):
            event = record.event
            lot = lot_of(event.lot_id)
            if lot is None:
                continue
            if event.type == "entry":
                sid = session_id_for(lot.lot_id, event.event_id)
                parked[(lot.lot_id, event.plate)] = (sid, event.occurred_at, event.vehicle_class, event.plate_colour)
                continue
            entry = parked.pop((lot.lot_id, event.plate), None)
            if entry is None:
                continue
            sid, entered_at, vehicle, colour = entry
            fen = quote(tariff, entered_at, event.occurred_at, vehicle, colour, itemised=False).amount_fen
            operator = lot.operator_id
            charged += 1
            fen_total += fen
            totals[(operator, local_date(event.occurred_at))] += fen
            if fen:
                prints[operator] = (prints[operator] + session_hash(sid) * fen) % P
    out.sessions_charged, out.replayed_fen = charged, fen_total
    return t, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--validate", action="store_true", help="validate every event, keep every charge (as before)")
    parser.add_argument("--archive", type=Path, help="keep the generated archive here (reused if it exists)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    lot_map = lots(args.lots)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.archive or Path(tmp) / "archive.jsonl"
        t, reused = time.perf_counter(), path.exists()
        if not reused:
            generate(path, args.events, list(lot_map))
        gen_s, size = None if reused else time.perf_counter() - t, path.stat().st_size
        gc.collect()
        raw_t, count = raw_rate(path)
        raw_ms_t, _ = raw_rate(path, msgspec.json.decode)  # the other fast decoder: the faster one is the bar
        mem_raw = peak_mb()
        replay_t, replay = replay_rate(path, lot_map, args.validate)
        mem_replay = peak_mb()
        floor_t, floor_done = floor_rate(path, lot_map)
    raw, raw_ms, rate = count / raw_t.cpu, count / raw_ms_t.cpu, replay.events / replay_t.cpu
    fastest, floor = max(raw, raw_ms), count / floor_t.cpu
    if floor_done.fingerprints != replay.fingerprints or floor_done.totals != replay.totals:
        print(f"note: the floor charged {floor_done.sessions_charged} sessions, {floor_done.replayed_fen} fen; replay "
              f"{replay.sessions_charged}, {replay.replayed_fen} (an archive with more than exact pairs)")  # fmt: skip
    report = {
        "benchmark": "replay",
        "commit": git_commit(),
        "machine": machine_info(),
        "mode": "validated, every charge kept" if args.validate else "verified archive, flat",
        "events": count,
        "archive_mb": round(size / 1e6, 1),
        "generate_s": None if gen_s is None else round(gen_s, 1),  # None: an archive generated before (--archive)
        "raw_read_decode_events_per_cpu_s": round(raw),
        "replay_events_per_cpu_s": round(rate),
        "ratio_replay_to_raw": round(rate / raw, 3),
        "raw_msgspec_read_decode_events_per_cpu_s": round(raw_ms),
        "ratio_replay_to_fastest_raw": round(rate / fastest, 3),  # the figure that matters: against the faster decoder
        "raw_read_decode_events_per_wall_s": round(count / raw_t.wall),
        "replay_events_per_wall_s": round(replay.events / replay_t.wall),
        "ratio_replay_to_raw_wall": round((replay.events / replay_t.wall) / (count / raw_t.wall), 3),
        "sessions_charged": replay.sessions_charged,
        # the floor: no planner rules, the rest as replay (floor_rate); the aims against what no replay can beat
        "floor_events_per_cpu_s": round(floor),
        "ratio_floor_to_fastest_raw": round(floor / fastest, 3),
        "ratio_replay_to_floor": round(rate / floor, 3),
        "floor_sessions_charged": floor_done.sessions_charged,
        "peak_rss_mb_after_raw": round(mem_raw),
        "peak_rss_mb_after_replay": round(mem_replay),
        "aims": {"ratio": 0.3, "events_per_s": 150_000},
    }
    write_report(args.out, report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
