"""``tongting replay --jobs``: whole lots replayed in separate processes and absorbed into one replay give the
same figures, field for field, as one process replaying them all (lots are independent: the planner reads one
lot's sessions, and a money record stands alone)."""

from __future__ import annotations

import dataclasses
import json
from itertools import groupby

import orjson
import pytest

from bench.bench_replay import generate, lots
from shared.adapters.memory.audit_log import MemoryLogHeads
from shared.archive.books import KINDS, line
from shared.audit.archived import decode_line
from shared.audit.log import TransparencyLog
from shared.audit.note import Signer
from shared.audit.replay import ALL, Replay, in_accepted_order
from shared.tariffs.engine import quote
from shared.tariffs.registry import RegisteredTariff
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.audit.test_books import _postings
from tests.audit.test_cli_directory import _copy_out
from tests.audit.test_log import Bucket, Clock
from tools import tongting
from tools.tongting import main, shares

NOT_FIGURES = {"lots", "price", "lot_at", "_state", "trusted", "keep", "keep_books"}


def _price(lot, entered_at, until, session):
    return quote(ZHUMADIAN_CLASS1, entered_at, until, session.vehicle_class, session.plate_colour, itemised=False)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A synthetic archive of 12 lots (entries and exits over two days) and a few money records, as lines."""
    lot_map = lots(12)
    path = tmp_path_factory.mktemp("archive") / "a.jsonl"
    generate(path, 9000, list(lot_map))
    events = [x for x in path.read_bytes().split(b"\n") if x]
    return lot_map, events, [line(p) for p in _postings() if p.kind.value in KINDS]  # charges are not money records


def test_the_replays_of_parts_of_the_lots_absorbed_are_the_replay_of_all(archive):
    lot_map, events, books = archive
    whole = Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, events + books))
    parts = [{"lot-0000", "lot-0003", "lot-0007"}, {"lot-0001"}, set(lot_map) - {"lot-0000", "lot-0001", "lot-0003", "lot-0007"}]
    merged = Replay(lot_map, _price, trusted=True, keep=ALL)
    for part in parts:
        mine = [x for x in events if orjson.loads(x)["lot_id"] in part]
        replay = Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, mine))
        merged.absorb(replay.detached())
    merged.absorb(Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, books)).detached())
    assert whole.sessions_charged > 1500 and whole.books_replayed == len(books)
    for f in dataclasses.fields(Replay):  # every figure, so a new one that absorb forgets fails here
        if f.name not in NOT_FIGURES:
            assert getattr(merged, f.name) == getattr(whole, f.name), f.name


def test_shares_keep_each_lot_whole_and_its_days_in_order():
    partitions = {f"events/date=2026-12-0{d}/district=320213/lot={lot}": [f"{d}{lot}-{i}" for i in range(n)]
                  for d in (1, 2, 3) for lot, n in (("a", 5), ("b", 1), ("c", 2), ("d", 1))}  # fmt: skip
    partitions["books/date=2026-12-01/kind=payment"] = ["p1", "p2"]
    cut = shares(partitions, 3)
    assert len(cut) == 3
    owner = {}
    for i, share in enumerate(cut):
        names = [next(p for p, keys in partitions.items() if tuple(keys) == part) for part in share]
        assert names == sorted(names)  # by date, then lot: each lot's days in order
        for name in names:
            owner.setdefault(name.split("lot=")[1] if "lot=" in name else "books", set()).add(i)
    assert all(len(where) == 1 for where in owner.values()), owner  # no lot split across shares
    assert sorted(k for share in cut for part in share for k in part) == sorted(k for ks in partitions.values() for k in ks)
    assert shares(partitions, 50) and len(shares(partitions, 50)) == 5  # no more shares than lots (and books)


def _directory(archive, root):
    """The archive as copied out of the bucket (one object per lot and day, and the money records), sequenced
    in a signed log; the registry as an export. (root, verifier key, registry path)"""
    lot_map, events, books = archive
    bucket, signer = Bucket(), Signer.generate("tongting.test/archive-log")
    log = TransparencyLog(MemoryLogHeads(), bucket, bucket, signer, Clock())
    keys = []

    def where(x):
        r = orjson.loads(x)
        return f"events/date={r['accepted_at'][:10]}/district=320213/lot={r['lot_id']}"

    for prefix, group in groupby(sorted(events, key=where), key=where):  # sorted is stable: accepted order kept
        bucket.put(f"{prefix}/obj.jsonl", b"\n".join(group) + b"\n")
        keys.append(f"{prefix}/obj.jsonl")
    bucket.put("books/date=2026-12-01/kind=payment/obj.jsonl", b"".join(books))
    keys.append("books/date=2026-12-01/kind=payment/obj.jsonl")
    log.append(keys)
    _copy_out(bucket, root / "archive")
    registry = root / "registry.json"
    tariff = RegisteredTariff(tariff_id=ZHUMADIAN_CLASS1.id, tariff=ZHUMADIAN_CLASS1)
    registry.write_text(json.dumps({"lots": [lot.model_dump(mode="json") for lot in lot_map.values()],
                                    "tariffs": [tariff.model_dump(mode="json")]}))  # fmt: skip
    return root / "archive", signer.verifier_key(), registry


def _replay(where, key, registry, jobs, out):
    return main(["replay", "--archive", str(where), "--key", key, "--registry", str(registry), "--jobs", jobs,
                 "--quiet", "--json", str(out)])  # fmt: skip


def test_the_cli_with_jobs_reports_what_one_process_reports(archive, tmp_path, monkeypatch):
    pools = []

    class Pool(tongting.ProcessPoolExecutor):  # the workers really are other processes
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(kwargs["max_workers"])

    monkeypatch.setattr(tongting, "ProcessPoolExecutor", Pool)
    where, key, registry = _directory(archive, tmp_path)
    reports = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"report-{jobs}.json"
        assert _replay(where, key, registry, jobs, out) == 0
        reports[jobs] = json.loads(out.read_text())
    assert reports["1"]["summary"]["sessions_charged"] > 1500 and reports["1"]["verification"]["ok"]
    assert reports["1"]["summary"]["money_records"] == len(archive[2])
    assert reports["2"] == reports["1"]
    assert pools == [2]  # one pool, for --jobs 2; --jobs 1 replays in this process


def test_with_jobs_a_doctored_archive_still_fails_verification_and_reports_nothing(archive, tmp_path, capsys):
    where, key, registry = _directory(archive, tmp_path)  # verified while the workers replay, not before
    target = sorted(where.glob("events/**/*.jsonl"))[0]
    lines = target.read_bytes().split(b"\n")
    target.write_bytes(b"\n".join([lines[1], lines[0], *lines[2:]]))  # two records swapped
    out = tmp_path / "report.json"
    assert _replay(where, key, registry, "2", out) == 2
    assert not out.exists() and "fails verification" in capsys.readouterr().err


def test_a_negative_number_of_jobs_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "--archive", "anywhere", "--jobs", "-1"])
    assert exit_.value.code == 2 and "--jobs" in capsys.readouterr().err
