"""The log appended from archive objects (in-memory ports): concurrent and crashed writers never fork
it, its checkpoints extend each other, and an auditor catches an altered, removed or swapped record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.adapters.memory.audit_log import MemoryLogHeads, MemoryTiles
from shared.audit import merkle, tiles, verify
from shared.audit.log import TransparencyLog, records_of
from shared.audit.note import Checkpoint, Signer, Verifier, open_checkpoint


class Clock:
    def now(self):
        return datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Bucket(MemoryTiles):
    """Archive objects and log tiles side by side, as in the archive bucket."""

    def keys(self, prefix="events/"):
        return sorted(k for k in self.objects if k.startswith(prefix))


def archive_object(bucket, key, n, start=0):
    lines = [json.dumps({"seq": i, "event": {"event_id": f"e{i}"}}, sort_keys=True) for i in range(start, start + n)]
    bucket.put(key, ("\n".join(lines) + "\n").encode())
    return key


@pytest.fixture
def world():
    bucket, heads, signer = Bucket(), MemoryLogHeads(), Signer.generate("tongting.test/log")
    log = TransparencyLog(heads, bucket, bucket, signer, Clock())
    return bucket, heads, signer, log


def audit(bucket, signer):
    return verify.verify_archive(bucket.get, bucket.keys(), Verifier.from_key(signer.verifier_key()))


def test_appends_publish_a_verifiable_checkpoint_and_are_idempotent(world):
    bucket, heads, signer, log = world
    a = archive_object(bucket, "events/date=2026-12-01/a.jsonl", 300)
    b = archive_object(bucket, "events/date=2026-12-01/b.jsonl", 5, start=300)
    first = log.append([a])
    assert first.leaves == 300 and heads.head().published
    again = log.append([a, b])  # a redelivered batch: only b is new
    assert again.leaves == 5 and again.head.size == 305
    assert log.append([a, b]).leaves == 0
    result = audit(bucket, signer)
    assert result.ok, result.problems
    assert result.records == 305 and result.checkpoint.size == 305


def test_inclusion_and_consistency_from_the_published_tiles(world):
    bucket, heads, signer, log = world
    older = log.append([archive_object(bucket, "events/a.jsonl", 70)])
    newer = log.append([archive_object(bucket, "events/b.jsonl", 700, start=70)])
    vkey = Verifier.from_key(signer.verifier_key())
    cp1, cp2 = open_checkpoint(older.checkpoint, vkey), open_checkpoint(newer.checkpoint, vkey)
    verify.verify_extends(bucket.get, cp1, cp2)
    nodes = tiles.tile_nodes(cp2.size, lambda p: bucket.get("log/" + p))
    line = records_of(bucket.get("events/b.jsonl"))[123]
    proof = merkle.inclusion_proof(70 + 123, cp2.size, nodes)
    merkle.verify_inclusion(70 + 123, cp2.size, merkle.leaf_hash(line), proof, cp2.root)
    with pytest.raises(merkle.ProofError):  # a fork: a checkpoint of other content at the old size
        verify.verify_extends(bucket.get, Checkpoint(cp1.origin, cp1.size, bytes(32)), cp2)


def test_a_writer_that_stopped_after_advancing_is_finished_by_the_next(world):
    bucket, heads, signer, log = world
    a = archive_object(bucket, "events/a.jsonl", 10)
    log._write = lambda head, ext: None  # crash between the conditional write and the tiles
    log.append([a])
    assert not heads.head().published
    del log._write
    b = archive_object(bucket, "events/b.jsonl", 3, start=10)
    assert log.append([b]).head.size == 13
    assert audit(bucket, signer).ok


def test_a_concurrent_writer_loses_the_conditional_write_and_retries(world):
    bucket, heads, signer, log = world
    other = TransparencyLog(heads, bucket, bucket, signer, Clock())
    a = archive_object(bucket, "events/a.jsonl", 4)
    b = archive_object(bucket, "events/b.jsonl", 4, start=4)
    real_advance, raced = heads.advance, []

    def advance(old, new):
        if not raced:  # the other writer sequences b just before us
            raced.append(True)
            other.append([b])
        return real_advance(old, new)

    heads.advance = advance
    log.append([a, b])
    assert heads.head().size == 8 and audit(bucket, signer).ok


@pytest.mark.parametrize("doctor", ["alter_byte", "remove_record", "swap_records", "swap_entries"])
def test_the_auditor_catches_tampering(world, doctor):
    bucket, heads, signer, log = world
    key = archive_object(bucket, "events/a.jsonl", 20)
    log.append([key])
    body = bucket.get(key)
    lines = body.split(b"\n")
    if doctor == "alter_byte":
        bucket.put(key, body.replace(b'"e7"', b'"e8"', 1))
    elif doctor == "remove_record":
        bucket.put(key, b"\n".join(lines[:5] + lines[6:]))
    elif doctor == "swap_records":
        lines[3], lines[4] = lines[4], lines[3]
        bucket.put(key, b"\n".join(lines))
    else:  # the log itself rewritten: entries swapped in the bundle
        path = "log/" + tiles.entries_path(0, 20)
        entries = tiles.unbundle(bucket.get(path))
        entries[3], entries[4] = entries[4], entries[3]
        bucket.put(path, tiles.bundle(entries))
    result = audit(bucket, signer)
    assert not result.ok and result.problems
