"""The ``tongting`` console script (``[project.scripts]``): auditors' commands over the event archive.

    tongting verify --archive DIR|s3://BUCKET --key VERIFIER_KEY
    tongting replay --archive DIR|s3://BUCKET [--key VERIFIER_KEY] [--ledger FILE.jsonl|dynamo]
                    [--registry FILE.json|dynamo|archive] [--from DATE] [--to DATE] [--lot LOT]...
                    [--jobs N] [--json report.json] [--markdown report.md]

An archive is the event-archive bucket (``s3://name``; the local stack's S3 when ``AWS_ENDPOINT_URL`` is
set) or a directory copied out of it (``aws s3 sync s3://name DIR``): ``events/...jsonl`` (device events),
``books/...jsonl`` (payments, refunds, adjustments, write-offs: ``shared/archive/books.py``) and ``log/...``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency; plain json still works
    _loads = json.loads


# money records (shared/archive/books.py), device events, and lot and tariff versions (shared/archive/registry.py)
ARCHIVED = ("books/", "events/", "registry/")


class DirectoryArchive:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def keys(self, prefixes: tuple[str, ...] = ARCHIVED) -> list[str]:
        bases = [self.root / prefix for prefix in prefixes]
        return sorted(str(p.relative_to(self.root)) for base in bases if base.exists() for p in base.rglob("*.jsonl"))


class BucketArchive:
    def __init__(self, bucket: str) -> None:
        from shared.adapters.archive_bucket import ArchiveBucket
        from shared.adapters.log_tiles import BucketTiles

        self._objects, self._tiles = ArchiveBucket(bucket), BucketTiles(bucket)

    def get(self, key: str) -> bytes | None:
        return self._tiles.get(key)

    def keys(self, prefixes: tuple[str, ...] = ARCHIVED) -> list[str]:
        return sorted(k for prefix in prefixes for k in self._objects.keys(prefix))


def open_archive(where: str):
    return BucketArchive(where.removeprefix("s3://")) if where.startswith("s3://") else DirectoryArchive(where)


def _selected(key: str, args) -> bool:
    if key.startswith("registry/"):  # verified with the rest; read by ``--registry archive``, not replayed as events
        return False
    date = key.split("date=", 1)[1][:10] if "date=" in key else ""
    lot = key.split("lot=", 1)[1].split("/", 1)[0] if "lot=" in key else ""
    if args.date_from and date < args.date_from or args.date_to and date > args.date_to:
        return False
    return not args.lot or lot in args.lot


def records(archive, keys: list[str], decode=None) -> Iterator:
    """The archived records of ``keys``, each line decoded by ``decode`` (default: a dict)."""
    decode = decode or _loads
    for key in keys:
        for line in (archive.get(key) or b"").split(b"\n"):
            if line:
                yield decode(line)


def read_registry(source: str, archive=None) -> tuple[list, list, object]:
    """The lots, the tariffs and (from the archive) their history, as data: read once, and handed as they are
    to ``tongting replay --jobs``'s workers, so that every process prices with the same registry. From the
    archive itself (``archive``: every archived version of each lot and tariff, each in force from when it
    was stored), a JSON export or, read-only, the live tables."""
    from shared.registry.model import Lot
    from shared.tariffs.registry import RegisteredTariff

    history = None
    if source == "archive":
        from shared.archive.registry import History

        models = {"lot": Lot.model_validate, "tariff": RegisteredTariff.model_validate}
        history = History((r for r in records(archive, archive.keys(("registry/",))) if r["record"] in models),
                          lambda r: models[r["record"]](r["doc"]))  # fmt: skip
        lots, tariffs = list(history.newest("lot").values()), list(history.newest("tariff").values())
    elif source == "dynamo":
        from shared.adapters.dynamo.registry import LotStore
        from shared.adapters.dynamo.tariffs import TariffStore

        lots, tariffs = LotStore().list(), TariffStore().list()
    else:
        data = json.loads(Path(source).read_text())
        lots = [Lot.model_validate(x) for x in data["lots"]]
        tariffs = [RegisteredTariff.model_validate(x) for x in data["tariffs"]]
    return lots, tariffs, history


def pricing(registry: tuple[list, list, object]):
    """Lots by id, a pricer over the registered tariffs, and which lot version was in force at a time (or
    None: the one version given), over a registry ``read_registry`` read."""
    from shared.tariffs.registry import TariffService

    lots, tariffs, history = registry

    class Records:  # read-only TariffRecords over the loaded tariffs: the version in force at ``instant``
        by_id = {t.tariff_id: t for t in tariffs}
        instant = None

        def get(self, key):
            return history.at("tariff", key, self.instant) if history else self.by_id.get(key)

        cached = get

    records_at = Records()
    service = TariffService(records_at, clock=None)

    def price(lot, entered_at, until, session):
        records_at.instant = until  # the tariff record in force when the stay was priced
        vehicle, colour = session.vehicle_class, session.plate_colour
        return service.price(lot, entered_at, until, vehicle, colour, itemised=False)  # replay needs the fen only

    lot_at = (lambda lot_id, instant: history.at("lot", lot_id, instant)) if history else None
    return {lot.lot_id: lot for lot in lots}, price, lot_at


def load_ledger(source: str):
    from shared.ledger.model import Posting

    if source == "dynamo":
        from shared.adapters.dynamo.ledger import LedgerStore

        yield from LedgerStore().scan_postings()
        return
    with open(source, "rb") as f:
        for line in f:
            if line.strip():
                yield Posting.model_validate(_loads(line))


def _verifier(key: str):
    """The log's verifier from ``--key``; None, said on stderr, if it is not one (the caller's error: exit 2)."""
    from shared.audit.note import Verifier

    try:
        return Verifier.from_key(key)
    except ValueError as exc:  # NoteError, or base64's binascii.Error
        print(f"--key is not a verifier key (name+hash+base64): {exc}", file=sys.stderr)
        return None


def cmd_verify(args) -> int:
    from shared.audit import verify

    verifier = _verifier(args.key)
    if verifier is None:
        return 2
    archive = open_archive(args.archive)
    result = verify.verify_archive(archive.get, archive.keys(), verifier)
    cp = result.checkpoint
    print(json.dumps({"ok": result.ok, "tree_size": cp.size if cp else None, "records": result.records,
                      "problems": result.problems}, indent=2, ensure_ascii=False))  # fmt: skip
    return 0 if result.ok else 1


@dataclass(frozen=True)
class Share:
    """One worker's task in ``tongting replay --jobs``: whole lots (every day of each, in order) or the money
    records. The worker was started with the archive's location and the registry (``_start_worker``)."""

    trusted: bool
    keep: frozenset[str]
    keep_books: frozenset[str]
    partitions: tuple[tuple[str, ...], ...]  # each partition's keys, partitions in replay order


def shares(partitions: dict[str, list[str]], tasks: int) -> list[tuple[tuple[str, ...], ...]]:
    """The partitions (``events/date=D/district=X/lot=L`` or ``books/date=D/kind=K`` -> keys) cut into at most
    ``tasks`` shares of whole lots, the money records together, the lots with the most objects first onto the
    share with the fewest (an object count, not bytes: listing gives no sizes); each share's partitions in
    sorted order (by date, then lot), so each lot's days stay in order."""
    groups: dict[str, list[str]] = {}
    for partition in partitions:
        groups.setdefault(partition.split("lot=", 1)[1] if "lot=" in partition else "", []).append(partition)
    objects = {lot: sum(len(partitions[p]) for p in names) for lot, names in groups.items()}
    loads: list[list] = [[0, []] for _ in range(max(1, min(tasks, len(groups))))]
    for lot in sorted(groups, key=lambda g: (-objects[g], g)):
        lightest = min(loads, key=lambda x: x[0])
        lightest[0] += objects[lot]
        lightest[1].extend(groups[lot])
    return [tuple(tuple(partitions[p]) for p in sorted(share)) for _, share in loads if share]


def replay_partitions(replay, archive, partitions: Iterable[Sequence[str]], advance=None):
    """Each partition's objects (one lot's day) applied to ``replay`` in accepted order, decoded into typed
    structs if the archive was verified (``replay.trusted``), else into dicts to validate; ``advance`` is told
    how many objects each partition had. One process replays every partition so, a worker its share."""
    from shared.audit.archived import decode_line
    from shared.audit.replay import in_accepted_order

    decode = decode_line if replay.trusted else None
    for keys in partitions:
        replay.run(in_accepted_order(records(archive, list(keys), decode)))
        if advance is not None:
            advance(len(keys))
    return replay


_WORKER: tuple = ()  # in a worker: (archive, lots by id, pricer, lot_at), set once by _start_worker


def _start_worker(archive: str, registry: tuple[list, list, object]) -> None:
    global _WORKER
    _WORKER = (open_archive(archive), *pricing(registry))


def replay_share(share: Share):
    """A worker's replay of its share, detached (``Replay.detached``) to be sent back and absorbed."""
    from shared.audit.replay import Replay

    archive, lots, price, lot_at = _WORKER
    replay = Replay(lots, price, trusted=share.trusted, keep=share.keep, keep_books=share.keep_books, lot_at=lot_at)
    return replay_partitions(replay, archive, share.partitions).detached()


def workers(jobs: int, archive: str, registry: tuple[list, list, object]):
    """A pool of ``jobs`` spawned processes (not forked: this process may hold threads and locks), each started
    with the archive and the registry. Leaving its ``with`` block terminates them: on an error or a failed
    verification nothing waits for the shares still running."""
    spawn = multiprocessing.get_context("spawn")
    return spawn.Pool(jobs, initializer=_start_worker, initargs=(archive, registry))


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cmd_replay(args) -> int:
    from shared.audit import verify
    from shared.audit.replay import Replay, compare
    from tools import replay_report as report

    archive = open_archive(args.archive)
    keys = [k for k in archive.keys() if _selected(k, args)]
    jobs = args.jobs or cores()
    verification = None
    verifier = _verifier(args.key) if args.key else None  # before any work
    if verifier is None and args.key:
        return 2

    def verified() -> bool:
        nonlocal verification
        verification = verify.verify_archive(archive.get, archive.keys(), verifier)
        if not verification.ok:
            print("archive fails verification:\n  " + "\n  ".join(verification.problems), file=sys.stderr)
        return verification.ok

    if verifier and jobs == 1 and not verified():  # one process: verify, then replay
        return 2
    try:
        registry = read_registry(args.registry, archive)
    except Exception:  # with workers, read before verifying: a doctored registry/ record fails verification
        if verifier and verification is None and not verified():
            return 2
        raise
    lots, price, lot_at = pricing(registry)
    partitions: dict[str, list[str]] = {}
    for key in keys:  # events/date=D/district=X/lot=L/<object>: one lot's day, possibly several objects
        partitions.setdefault(key.rsplit("/", 1)[0], []).append(key)

    def replay_all(keep, keep_books, quiet: bool, meanwhile=None) -> Replay | None:
        # A verified archive is not validated again: its lines are decoded into typed structs
        # (shared.audit.archived); per-session charges only for ``keep``, rebuilt money postings only for the
        # kinds in ``keep_books``. ``meanwhile`` runs here while the workers replay; False: None, nothing kept.
        replay = Replay(lots, price, trusted=verifier is not None, keep=keep, keep_books=keep_books, lot_at=lot_at)
        if jobs > 1:  # whole lots per worker (the planner reads one lot's sessions), absorbed in a fixed order
            tasks = [Share(replay.trusted, keep, keep_books, part) for part in shares(partitions, 4 * jobs)]
            with report.progress(len(keys), enabled=not quiet) as advance, \
                    workers(jobs, args.archive, registry) as pool:  # fmt: skip
                running = [pool.apply_async(replay_share, (task,)) for task in tasks]
                if meanwhile is not None and not meanwhile():  # the workers are stopped, their results unread
                    return None
                for task, part in zip(tasks, running):
                    replay.absorb(part.get())
                    advance(sum(map(len, task.partitions)))
            return replay
        with report.progress(len(keys), enabled=not quiet) as advance:  # by date, then lot: each lot's days in order
            return replay_partitions(replay, archive, (partitions[p] for p in sorted(partitions)), advance)

    # with workers, this process verifies the archive while they replay it; nothing is reported unless it passes
    replay = replay_all(frozenset(), frozenset(), args.quiet, verified if verifier and jobs > 1 else None)
    if replay is None:
        return 2
    comparison = compare(replay, load_ledger(args.ledger)) if args.ledger else None
    if comparison is not None and (comparison.unresolved or comparison.unresolved_books):
        # name the sessions and postings: again, keeping only the operators and money kinds that differ
        again = replay_all(frozenset(comparison.unresolved), frozenset(comparison.unresolved_books), args.quiet)
        comparison = compare(again, load_ledger(args.ledger))
    doc = report.as_json(replay, comparison, verification)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    if args.markdown:
        report.write_markdown(doc, Path(args.markdown))
    print(json.dumps(doc["summary"], indent=2, ensure_ascii=False))
    unresolved = comparison is not None and (comparison.unresolved or comparison.unresolved_books)
    return 0 if comparison is None or not (comparison.differences or unresolved) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tongting", description="Auditors' tools for the Tongting event archive.")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="verify the archive against its signed checkpoint")
    v.add_argument("--archive", required=True)
    v.add_argument("--key", required=True, help="the log's verifier key (name+hash+base64)")
    r = sub.add_parser("replay", help="rebuild sessions and charges from the archive and compare with the ledger")
    r.add_argument("--archive", required=True)
    r.add_argument("--key", help="verify the archive first against this verifier key")
    r.add_argument("--registry", default="dynamo", help="lots and tariffs: 'archive' (their archived versions, verified with the rest), a JSON export, or 'dynamo' (read-only)")
    r.add_argument("--ledger", help="postings: a JSON Lines export, or 'dynamo' (read-only)")
    r.add_argument("--from", dest="date_from")
    r.add_argument("--to", dest="date_to")
    r.add_argument("--lot", action="append")
    r.add_argument("--jobs", type=int, default=1, help="replay whole lots in this many processes (0: one per usable core); the report is the same")
    r.add_argument("--json")
    r.add_argument("--markdown")
    r.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "replay" and args.jobs < 0:
        parser.error("--jobs: a number of processes, or 0 for one per usable core")
    return cmd_verify(args) if args.command == "verify" else cmd_replay(args)


if __name__ == "__main__":
    sys.exit(main())
