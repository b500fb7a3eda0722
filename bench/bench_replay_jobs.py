"""``tongting replay --jobs``: the auditors' CLI end to end (verification, then replay) over a partitioned,
signed archive directory, one process against several. The per-core figure is ``bench_replay``'s; this one is
what an auditor with more cores waits for.

    .venv/bin/python -m bench.bench_replay_jobs [--events 1000000] [--jobs 1 2] [--rounds 2] [--dir /tmp/a1m]

The archive is ``bench_replay``'s synthetic one (``generate``), cut into the bucket's layout
(``events/date=D/district=X/lot=L/<object>.jsonl``, one object per lot and day, as the archive writer names and
renders them), sequenced in a Merkle log with a fresh signing key, with the lots and the tariff as a registry
export; kept in ``--dir`` if given (reused if it is there). Each run is ``python -m tools.tongting replay --key ...
--jobs N`` in a subprocess: wall time, and CPU seconds of it and its workers (``RUSAGE_CHILDREN``); rounds alternate
the job counts, and the reports of every run must be equal. ``tongting verify`` is timed once beside them: one
process verifies first, and with workers the CLI verifies while they replay. Results:
bench/results/replay_jobs.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import orjson

from bench.bench_replay import generate, lots
from bench.report import git_commit, machine_info
from bench.report import write as write_report
from shared.adapters.memory.audit_log import MemoryLogHeads, MemoryTiles
from shared.archive.writer import ArchivedEvent, object_key, render
from shared.audit.log import TransparencyLog
from shared.audit.note import Signer
from shared.clock import SystemClock
from shared.tariffs.registry import RegisteredTariff
from shared.tariffs.samples import ZHUMADIAN_CLASS1

RESULTS = Path(__file__).parent / "results" / "replay_jobs.json"


def archive_objects(lines: Iterable[bytes]) -> dict[str, bytes]:
    """Archive records (``bench_replay.generate``'s lines) as the archive writer lays them out and writes
    them (``shared.archive.writer``): one object per lot and Shanghai day, named and rendered by the writer."""
    events = []
    for line in lines:
        record = orjson.loads(line)
        event = ArchivedEvent(pk=f"{record['device_id']}#{record['event']['event_id']}", **record)  # the ack's key
        events.append((event.partition, event))
    events.sort(key=itemgetter(0))
    objects = {}
    for partition, group in groupby(events, key=itemgetter(0)):
        batch = [event for _, event in group]
        objects[object_key(partition, batch)] = render(batch)
    return objects


def build(root: Path, events: int, lot_count: int) -> None:
    """The synthetic archive as a copied-out bucket: objects, log tiles and checkpoint; registry; key."""
    lot_map = lots(lot_count)
    lines = root / "lines.jsonl"
    generate(lines, events, list(lot_map))
    objects = archive_objects(x for x in lines.read_bytes().split(b"\n") if x)
    lines.unlink()
    bucket, signer = MemoryTiles(), Signer.generate("tongting.bench/archive-log")
    log = TransparencyLog(MemoryLogHeads(), bucket, bucket, signer, SystemClock())
    for key, body in objects.items():
        bucket.put(key, body)
    keys = list(objects)
    for i in range(0, len(keys), 200):  # as the archiver appends: a batch of objects at a time
        log.append(keys[i : i + 200])
    for key, body in bucket.objects.items():
        path = root / "archive" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    tariff = RegisteredTariff(tariff_id=ZHUMADIAN_CLASS1.id, tariff=ZHUMADIAN_CLASS1)
    registry = {"lots": [lot.model_dump(mode="json") for lot in lot_map.values()], "tariffs": [tariff.model_dump(mode="json")]}
    (root / "registry.json").write_text(json.dumps(registry))
    (root / "key").write_text(signer.verifier_key())


def timed(argv: list[str]) -> tuple[float, float, bytes]:
    """Wall and CPU seconds (the subprocess and its workers) of one CLI run, and its standard output."""
    before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "tools.tongting", *argv], check=True, capture_output=True).stdout
    wall, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=200)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", type=Path, help="keep the archive directory here (reused if it exists)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        if not (root / "key").exists():
            root.mkdir(parents=True, exist_ok=True)
            build(root, args.events, args.lots)
        archive, key = str(root / "archive"), (root / "key").read_text()
        verify_wall, verify_cpu, _ = timed(["verify", "--archive", archive, "--key", key])
        runs: dict[int, list[tuple[float, float]]] = {j: [] for j in args.jobs}
        summaries = set()
        for _ in range(args.rounds):
            for jobs in args.jobs:
                wall, cpu, out = timed(["replay", "--archive", archive, "--key", key, "--registry",
                                        str(root / "registry.json"), "--quiet", "--jobs", str(jobs)])  # fmt: skip
                runs[jobs].append((wall, cpu))
                summaries.add(out)
    if len(summaries) != 1:
        raise SystemExit(f"the runs' reports differ: {summaries}")
    summary = json.loads(summaries.pop())
    best = {j: min(w for w, _ in r) for j, r in runs.items()}
    report = {
        "benchmark": "replay_jobs",
        "commit": git_commit(),
        "machine": machine_info(),
        "events": summary["records"],
        "sessions_charged": summary["sessions_charged"],
        "verify_wall_s": round(verify_wall, 2),
        "verify_cpu_s": round(verify_cpu, 2),
        "runs": {str(j): [{"wall_s": round(w, 2), "cpu_s": round(c, 2)} for w, c in r] for j, r in runs.items()},
        "best_wall_s": {str(j): round(w, 2) for j, w in best.items()},
        "events_per_wall_s": {str(j): round(summary["records"] / w) for j, w in best.items()},
        # against the fewest jobs run (one process, unless --jobs left 1 out)
        "fewest_jobs": min(best),
        "speedup_over_fewest_jobs": {str(j): round(best[min(best)] / w, 2) for j, w in best.items()},
    }  # the usable cores: machine.cpus_usable
    write_report(args.out, report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
