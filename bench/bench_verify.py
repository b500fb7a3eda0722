"""Archive verification: what an auditor's `tongting verify` costs on a large archive, and that its memory
stays flat (issue 12: verification streams like replay).

    .venv/bin/python -m bench.bench_verify [--events 100000,1000000] [--per-object 500]

For each size, synthetic archive lines (``bench_replay.generate``: built through the domain's event models)
are cut into objects of ``--per-object`` records under ``events/`` in a temporary directory, and the
Merkle log is appended over them (20 objects an append, as the archive writer's batches do) with its tiles
and signed checkpoint in ``log/`` beside them: the archive bucket's layout. Then a fresh process runs
``verify.verify_archive`` over the directory, as ``tongting verify --archive DIR`` does, and reports its CPU
seconds and peak resident set (``ru_maxrss``), beside the same process's raw pass: reading every object and
splitting its lines. Results: bench/results/verify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import bench_replay
from bench.report import git_commit, machine_info
from bench.report import write as write_report

RESULTS = Path(__file__).parent / "results" / "verify.json"
BATCH = 20  # objects sequenced per append


class _Clock:
    def now(self):
        return datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class _Directory:
    """The archive bucket as a directory: archive objects and log tiles (ports ArchiveObjects, TileStore)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, body: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def build(root: Path, events: int, per_object: int) -> tuple[str, float]:
    """Write the archive objects and their log; returns the verifier key and the build's CPU seconds."""
    from shared.adapters.memory.audit_log import MemoryLogHeads
    from shared.audit.log import TransparencyLog
    from shared.audit.note import Signer

    lines_file = root / "all.jsonl"
    bench_replay.generate(lines_file, events, list(bench_replay.lots(200)))
    store, signer = _Directory(root), Signer.generate("tongting.bench/log")
    log = TransparencyLog(MemoryLogHeads(), store, store, signer, _Clock())
    cpu = time.process_time()
    keys: list[str] = []
    with lines_file.open("rb") as f:
        chunk: list[bytes] = []
        for line in f:
            chunk.append(line)
            if len(chunk) == per_object:
                keys.append(_object(store, len(keys), chunk))
                chunk = []
                if len(keys) % BATCH == 0:
                    log.append(keys[-BATCH:])
        if chunk:
            keys.append(_object(store, len(keys), chunk))
    log.append(keys)
    lines_file.unlink()
    return signer.verifier_key(), time.process_time() - cpu


def _object(store: _Directory, n: int, lines: list[bytes]) -> str:
    key = f"events/part-{n:06d}.jsonl"
    store.put(key, b"".join(lines))
    return key


def verify_only(root: str, key: str) -> dict:
    """In a fresh process: the raw pass, then the verification (its peak memory is this process's)."""
    from shared.audit import verify
    from shared.audit.log import records_of
    from shared.audit.note import Verifier

    store = _Directory(Path(root))
    keys = sorted(str(p.relative_to(store.root)) for p in (store.root / "events").rglob("*.jsonl"))
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu, raw = time.process_time(), 0
    for k in keys:
        raw += len(records_of(store.get(k) or b""))
    raw_cpu = time.process_time() - cpu
    rss_raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu, wall = time.process_time(), time.perf_counter()
    result = verify.verify_archive(store.get, keys, Verifier.from_key(key))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "records": result.records, "ok": result.ok, "problems": result.problems[:5],
        "raw_read_split_records_per_cpu_s": round(raw / raw_cpu) if raw_cpu else None,
        "verify_records_per_cpu_s": round(result.records / cpu) if cpu else None,
        "verify_cpu_s": round(cpu, 2), "verify_wall_s": round(wall, 2),
        "peak_rss_mb_before": round(rss_start), "peak_rss_mb_after_raw": round(rss_raw),
        "peak_rss_mb_after_verify": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="100000,1000000", help="archive sizes, comma-separated")
    parser.add_argument("--per-object", type=int, default=500)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--verify-only", nargs=2, metavar=("DIR", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verify_only:
        print(json.dumps(verify_only(*args.verify_only)))
        return 0
    runs, ok = [], True
    for events in (int(n) for n in args.events.split(",")):
        with tempfile.TemporaryDirectory(prefix="tongting-verify-") as tmp:
            key, build_cpu = build(Path(tmp), events, args.per_object)
            out = subprocess.run([sys.executable, "-m", "bench.bench_verify", "--verify-only", tmp, key],
                                 capture_output=True, text=True, check=True, env={**os.environ})  # fmt: skip
            run = {"events": events, "objects": -(-events // args.per_object), "log_build_cpu_s": round(build_cpu, 1),
                   **json.loads(out.stdout)}  # fmt: skip
        ok = ok and run["ok"] and run["records"] == events
        runs.append(run)
        print(f"{events:>9,} records: verified {run['ok']} at {run['verify_records_per_cpu_s']:,} per CPU s "
              f"(raw read+split {run['raw_read_split_records_per_cpu_s']:,}); peak RSS {run['peak_rss_mb_before']} MB "
              f"before, {run['peak_rss_mb_after_verify']} MB after")  # fmt: skip
    write_report(Path(args.output), {
        "benchmark": "verify", "commit": git_commit(), "machine": machine_info(),
        "per_object": args.per_object, "runs": runs, "ok": ok,
    })  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
