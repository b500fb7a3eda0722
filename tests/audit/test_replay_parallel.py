"""``tongting replay --jobs``: whole lots replayed in separate processes and absorbed into one replay give the
same figures, field for field, as one process replaying them all (lots are independent: the planner reads one
lot's sessions, and a money record stands alone); with workers, the archive is verified while they replay,
and nothing is reported unless it passes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import orjson
import pytest

from bench.bench_replay import generate, lots
from bench.bench_replay_jobs import archive_objects
from shared.adapters.memory.audit_log import MemoryLogHeads
from shared.archive import registry as registry_archive
from shared.archive.books import KINDS, line
from shared.audit.archived import decode_line
from shared.audit.log import TransparencyLog
from shared.audit.note import Signer
from shared.audit.replay import ALL, Replay
from shared.ledger.model import Posting
from shared.tariffs.engine import quote
from shared.tariffs.registry import RegisteredTariff
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.audit.test_books import _postings
from tests.audit.test_cli_directory import _copy_out
from tests.audit.test_log import Bucket, Clock
from tools import tongting
from tools.tongting import main, shares

NOT_FIGURES = {"lots", "price", "lot_at", "_state", "trusted", "keep", "keep_books"}
LATE = "2026-11-30T00:00:00+00:00"  # after every generated record


def _price(lot, entered_at, until, session):
    return quote(ZHUMADIAN_CLASS1, entered_at, until, session.vehicle_class, session.plate_colour, itemised=False)


def _skipped_records() -> list[bytes]:
    """Records replay skips: a heartbeat, and an entry at a lot the registry does not know."""
    heartbeat = {"event_id": "hb-1", "lot_id": "lot-0000", "occurred_at": LATE, "type": "heartbeat", "status": "ok",
                 "detail": None}  # fmt: skip
    stranger = {"event_id": "e-x", "lot_id": "lot-9999", "occurred_at": LATE, "plate": "苏B99999", "plate_colour": "blue",
                "vehicle_class": "small", "confidence": 0.97, "evidence_ref": None, "type": "entry", "lane": "l1"}  # fmt: skip
    return [orjson.dumps({"lot_id": e["lot_id"], "district_code": "320213", "device_id": "cam", "accepted_at": LATE,
                          "event": e, "ack": {}}) for e in (heartbeat, stranger)]  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A synthetic archive of 12 lots (entries and exits over two days), two records replay skips, and a few
    money records, as lines."""
    lot_map = lots(12)
    path = tmp_path_factory.mktemp("archive") / "a.jsonl"
    generate(path, 9000, list(lot_map))
    events = [x for x in path.read_bytes().split(b"\n") if x] + _skipped_records()
    return lot_map, events, [line(p) for p in _postings() if p.kind.value in KINDS]  # charges are not money records


def test_the_replays_of_parts_of_the_lots_absorbed_are_the_replay_of_all(archive):
    lot_map, events, books = archive
    whole = Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, events + books))
    parts = [{"lot-0000", "lot-0003", "lot-0007"}, {"lot-0001", "lot-9999"}]
    parts.append(set(lot_map) - set().union(*parts))
    merged = Replay(lot_map, _price, trusted=True, keep=ALL)
    for part in parts:
        mine = [x for x in events if orjson.loads(x)["lot_id"] in part]
        replay = Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, mine))
        merged.absorb(replay.detached())
    merged.absorb(Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, books)).detached())
    assert whole.sessions_charged > 1500 and whole.books_replayed == len(books)
    assert whole.skipped == {"heartbeat": 1, "unknown_lot": 1}
    for f in dataclasses.fields(Replay):  # every figure, so a new one that absorb forgets fails here
        if f.name not in NOT_FIGURES:
            assert getattr(merged, f.name) == getattr(whole, f.name), f.name
            assert getattr(whole, f.name), f"{f.name}: empty, so this test would not see it dropped"


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
    assert len(shares(partitions, 50)) == 5  # no more shares than lots (and the money records)


def _directory(archive, root):
    """The archive as copied out of the bucket (one object per lot and day, the money records, every lot's and
    the tariff's registry record), sequenced in a signed log; the registry as an export too.
    (archive directory, verifier key, export path)"""
    lot_map, events, books = archive
    bucket, signer = Bucket(), Signer.generate("tongting.test/archive-log")
    log = TransparencyLog(MemoryLogHeads(), bucket, bucket, signer, Clock())
    keys = []
    for key, body in archive_objects(events).items():  # as the archive writer lays them out
        bucket.put(key, body)
        keys.append(key)
    bucket.put("books/date=2026-12-01/kind=payment/obj.jsonl", b"".join(books))
    keys.append("books/date=2026-12-01/kind=payment/obj.jsonl")
    tariff = RegisteredTariff(tariff_id=ZHUMADIAN_CLASS1.id, tariff=ZHUMADIAN_CLASS1)
    records = [{"record": "lot", "id": lot.lot_id, "version": 1, "doc": lot.model_dump(mode="json")} for lot in lot_map.values()]
    records.append({"record": "tariff", "id": tariff.tariff_id, "version": 1, "doc": tariff.model_dump(mode="json")})
    for r in records:
        bucket.put(registry_archive.object_key(r), registry_archive.line(r))
        keys.append(registry_archive.object_key(r))
    log.append(keys)
    _copy_out(bucket, root / "archive")
    export = root / "registry.json"
    export.write_text(json.dumps({"lots": [lot.model_dump(mode="json") for lot in lot_map.values()],
                                  "tariffs": [tariff.model_dump(mode="json")]}))  # fmt: skip
    return root / "archive", signer.verifier_key(), export


def _replay(where, key, registry, jobs, out, *extra):
    return main(["replay", "--archive", str(where), "--key", key, "--registry", str(registry), "--jobs", jobs,
                 "--quiet", "--json", str(out), *extra])  # fmt: skip


@pytest.fixture
def pools(monkeypatch):
    """The job counts of the worker pools started: the workers really are other processes."""
    started, real = [], tongting.workers

    def counting(jobs, *args):
        started.append(jobs)
        return real(jobs, *args)

    monkeypatch.setattr(tongting, "workers", counting)
    return started


def test_the_cli_with_jobs_reports_what_one_process_reports(archive, tmp_path, pools):
    where, key, export = _directory(archive, tmp_path)
    for registry in (export, "archive"):
        reports = {}
        for jobs in ("1", "2"):
            out = tmp_path / f"report-{jobs}.json"
            assert _replay(where, key, registry, jobs, out) == 0
            reports[jobs] = out.read_text()
        doc = json.loads(reports["1"])
        assert doc["summary"]["sessions_charged"] > 1500 and doc["verification"]["ok"]
        assert doc["summary"]["money_records"] == len(archive[2])
        assert doc["summary"]["skipped"] == {"heartbeat": 1, "unknown_lot": 1}
        assert reports["2"] == reports["1"], registry  # the same text, not only the same data
    assert pools == [2, 2]  # --jobs 1 replays in this process


def test_with_jobs_the_ledger_comparison_its_second_pass_and_the_filters_report_what_one_process_does(archive, tmp_path, pools):
    """A ledger with some sessions off by 7 fen: the fingerprints differ, so the CLI replays again keeping those
    operators' sessions to name them; and the same with --lot, --from and --to."""
    lot_map, events, _ = archive
    where, key, export = _directory(archive, tmp_path)
    whole = Replay(lot_map, _price, trusted=True, keep=ALL).run(map(decode_line, events))
    postings = []
    for i, c in enumerate(sorted(whole.charges.values(), key=lambda c: c.session_id)):
        fen = c.amount_fen + (7 if i % 50 == 0 else 0)
        if fen:
            postings.append(Posting.charge(f"charge:{c.session_id}", "苏B00001", c.operator_id, fen,
                                           datetime(2026, 11, 2, tzinfo=UTC), refs={"session_id": c.session_id}))  # fmt: skip
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(p.model_dump_json() + "\n" for p in postings))
    for extra in ([], ["--lot", "lot-0003", "--lot", "lot-0008"], ["--from", "2026-11-02"], ["--to", "2026-11-01"]):
        reports = {}
        for jobs in ("1", "3"):
            out = tmp_path / f"report-{jobs}.json"
            code = _replay(where, key, export, jobs, out, "--ledger", str(ledger), *extra)
            reports[jobs] = (code, out.read_text())
        assert reports["3"] == reports["1"], extra
        if not extra:
            doc = json.loads(reports["1"][1])
            charges = [d for d in doc["differences"] if d["kind"] == "charge"]  # (the ledger has no money postings)
            assert reports["1"][0] == 1 and len(charges) >= 10  # named, session by session
            assert {d["replayed_fen"] - d["ledger_fen"] for d in charges} == {-7}
    assert pools == [3] * 8  # the second pass runs on workers too


def test_with_jobs_a_doctored_archive_still_fails_verification_and_reports_nothing(archive, tmp_path, capsys):
    where, key, export = _directory(archive, tmp_path)  # verified while the workers replay, not before
    target = sorted(where.glob("events/**/*.jsonl"))[0]
    lines = target.read_bytes().split(b"\n")
    target.write_bytes(b"\n".join([lines[1], lines[0], *lines[2:]]))  # two records swapped
    out = tmp_path / "report.json"
    assert _replay(where, key, export, "2", out) == 2
    assert not out.exists() and "fails verification" in capsys.readouterr().err


def test_a_doctored_registry_record_fails_verification_with_or_without_jobs(archive, tmp_path, capsys):
    """With workers the registry is read before verification ends: a record that no longer parses must still
    be reported as the archive failing verification, not as a crash."""
    where, key, _ = _directory(archive, tmp_path)
    target = next(where.glob("registry/lot/lot-0000/*.jsonl"))
    record = json.loads(target.read_text())
    record["doc"]["capacity"] = "many"
    target.write_text(json.dumps(record) + "\n")
    for jobs in ("1", "2"):
        out = tmp_path / f"report-{jobs}.json"
        assert _replay(where, key, "archive", jobs, out) == 2, jobs
        assert not out.exists() and "fails verification" in capsys.readouterr().err


def test_a_malformed_key_or_a_negative_number_of_jobs_is_the_callers_error(tmp_path, capsys):
    for command in ("verify", "replay"):
        assert main([command, "--archive", str(tmp_path), "--key", "not-a-key"]) == 2
        assert "--key is not a verifier key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["replay", "--archive", "anywhere", "--jobs", "-1"])
    assert exit_.value.code == 2 and "--jobs" in capsys.readouterr().err
