"""The archive writer's path on the local stack (moto S3, DynamoDB, SSM): accepted events become leaves
of the log, the signed checkpoint verifies with the published key, a doctored archive object fails, and
an accepted event is provable as soon as the stream is pumped (the latency the alarm watches)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared import resources
from shared.adapters.archive_bucket import ArchiveBucket
from shared.adapters.aws import client
from shared.adapters.dynamo.audit_log import DynamoLogHeads
from shared.adapters.log_tiles import BucketTiles, log_signer
from shared.audit import verify
from shared.audit.note import Verifier, open_checkpoint
from tests.support import gate_event


def _events(device, clock, n):
    cam = device("lx-in1")
    for i in range(n):
        assert cam.post(gate_event("entry", f"苏B{i:05d}", clock.now(), event_id=f"in-{i}"))[0] == 200


def test_archived_events_are_logged_signed_and_verifiable(device, clock, stack):
    _events(device, clock, 12)
    stack.pump_streams()
    vkey = Verifier.from_key(log_signer().verifier_key())
    tiles, bucket = BucketTiles(), ArchiveBucket()
    registry = list(bucket.keys("registry/"))  # the city's lot and operator versions, logged from their streams
    assert {k.split("/")[1] for k in registry} == {"lot", "operator"}
    keys = [*registry, *bucket.keys("events/")]
    result = verify.verify_archive(tiles.get, keys, vkey)
    assert result.ok, result.problems
    assert result.checkpoint.size == 12 + len(registry) == result.records
    head = DynamoLogHeads().head()
    assert head.published and head.size == 12 + len(registry) and set(head.pending) <= set(keys)

    first = open_checkpoint(tiles.get("log/checkpoint").decode(), vkey)
    clock.advance(minutes=5)
    assert device("lx-in1").post(gate_event("entry", "苏C00001", clock.now(), event_id="late"))[0] == 200
    stack.pump_streams()
    stack.pump_streams()  # redelivery appends nothing
    second = open_checkpoint(tiles.get("log/checkpoint").decode(), vkey)
    assert second.size == 13 + len(registry)
    verify.verify_extends(tiles.get, first, second)

    # An object rewritten in the bucket (a new version, as Object Lock allows) no longer verifies.
    key = next(k for k in keys if k.startswith("events/"))
    body = bucket.get(key)
    client("s3").put_object(Bucket=resources.EVENT_ARCHIVE.name, Key=key, Body=body.replace(b"B00001", b"B00002"))
    assert not verify.verify_archive(tiles.get, [*registry, *bucket.keys("events/")], vkey).ok


def test_an_accepted_event_is_provable_once_the_stream_is_pumped(device, clock, stack):
    _events(device, clock, 1)
    stack.pump_streams()
    head = DynamoLogHeads().head()
    assert datetime.fromisoformat(head.sequenced_at) - clock.now() <= timedelta(seconds=1)


def test_the_dynamo_head_honours_the_port_contract(stack):
    from shared.audit.ports import Head

    heads = DynamoLogHeads()
    assert heads.head() == Head()
    first = Head(3, b"r" * 32, 1, 0, ("events/a.jsonl",), False, "t1")
    assert heads.advance(Head(), first)
    assert not heads.advance(Head(), Head(5, b"s" * 32, 1, 0, ("events/b.jsonl",), False, "t2"))  # a stale writer
    assert heads.sequenced(["events/a.jsonl", "events/b.jsonl"]) == {"events/a.jsonl"}  # pending counts
    assert heads.mark_published(first) and heads.head().published
    second = Head(4, b"q" * 32, 2, 3, ("events/b.jsonl",), False, "t3")
    assert heads.advance(heads.head(), second)
    assert not heads.mark_published(first)  # no longer current: published stays false on the new head
    assert heads.sequenced(["events/a.jsonl", "events/b.jsonl"]) == {"events/a.jsonl", "events/b.jsonl"}
    assert heads.head() == second
