"""The auditor's verification streams: a log's root from its entries in one pass with O(log n) memory, and an
archive that matches its log proved without a map of every leaf (the exact diagnosis runs only on a
mismatch, naming the same records as before)."""

from __future__ import annotations

import hashlib

import pytest

from shared.audit import merkle, verify
from shared.audit.note import Verifier
from tests.audit.test_log import archive_object, audit, world  # noqa: F401 (the fixture)


@pytest.mark.parametrize("size", [*range(0, 40), 255, 256, 257, 1000, 1025])
def test_the_streamed_root_is_the_rfc_root(size):
    leaves = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(size)]
    assert merkle.streamed_root(iter(leaves)) == (size, merkle.root(size, merkle.list_nodes(leaves)))


def test_a_matching_archive_is_proved_without_the_per_leaf_diagnosis(world, monkeypatch):  # noqa: F811
    bucket, heads, signer, log = world
    keys = [archive_object(bucket, f"events/{k}.jsonl", n, start=s) for k, n, s in (("a", 300, 0), ("b", 5, 300), ("c", 1, 305))]
    log.append(keys[:1])
    log.append(keys[1:])

    def no_diagnosis(*args):
        raise AssertionError("a matching archive needs no map of every leaf")

    monkeypatch.setattr(verify, "_diagnose", no_diagnosis)
    result = audit(bucket, signer)
    assert result.ok and result.records == 306 and result.checkpoint.size == 306


@pytest.mark.parametrize("doctor", ["alter", "remove", "swap", "extra", "subset"])
def test_every_mismatch_gets_the_exact_diagnosis(world, doctor):  # noqa: F811
    bucket, heads, signer, log = world
    a = archive_object(bucket, "events/a.jsonl", 20)
    b = archive_object(bucket, "events/b.jsonl", 20, start=20)
    log.append([a, b])
    keys = bucket.keys()
    lines = bucket.get(b).split(b"\n")
    if doctor == "alter":
        bucket.put(b, bucket.get(b).replace(b'"e25"', b'"e2X"'))
    elif doctor == "remove":
        bucket.put(b, b"\n".join(lines[:3] + lines[4:]))
    elif doctor == "swap":
        lines[2], lines[3] = lines[3], lines[2]
        bucket.put(b, b"\n".join(lines))
    elif doctor == "extra":
        keys = [*keys, archive_object(bucket, "events/c.jsonl", 1, start=40)]  # archived after the checkpoint
    else:
        keys = [a]
    result = verify.verify_archive(bucket.get, keys, Verifier.from_key(signer.verifier_key()))
    assert not result.ok
    expected = {
        "alter": "events/b.jsonl record 6 is not in the log",
        "remove": "records removed",
        "swap": "not in the log's order",
        "extra": "events/c.jsonl record 1 is not in the log",
        "subset": "records removed",
    }[doctor]
    assert any(expected in p for p in result.problems), result.problems
