"""A lot's open count from the acks stream (issue 10): each event counted exactly once, whatever the stream
redelivers: a retried batch, a batch cut differently on its retry, a crash after the write. The service on
the memory store, a property over random deliveries, and the consumer end to end on the local stack."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.adapters.memory.lot_status import LotStatusStore
from shared.adapters.memory.events import AckStore
from shared.adapters.memory.open_counts import OpenCountStore
from shared.availability.open_counts import CountedEvent, OpenCountService, shard_key
from shared.clock import ManualClock
from shared.errors import Unavailable
from tests.support import gate_event

LOT, OTHER = "lot-a", "lot-b"


def _counter():
    status = LotStatusStore(AckStore())
    clock = ManualClock()
    return OpenCountService(OpenCountStore(status), clock), status, clock


def _events(*pairs, lot=LOT):
    return [CountedEvent(lot, delta, seq) for seq, delta in pairs]


def test_a_batch_is_counted_once_per_lot():
    counter, status, _ = _counter()
    batch = _events((10, 1), (11, 1), (12, -1)) + _events((13, 1), lot=OTHER)
    assert counter.count("shard-1", batch) == {LOT: 1, OTHER: 1}
    assert (status.get(LOT).open_count, status.get(OTHER).open_count) == (1, 1)
    assert counter.count("shard-1", batch) == {LOT: 0, OTHER: 0}  # the same batch again: a retry
    assert (status.get(LOT).open_count, status.get(OTHER).open_count) == (1, 1)


def test_a_batch_cut_differently_on_its_retry_counts_only_what_it_had_not():
    counter, status, _ = _counter()
    counter.count("s", _events((1, 1), (2, 1), (3, 1), (4, 1)))
    assert counter.count("s", _events((3, 1), (4, 1), (5, 1), (6, -1))) == {LOT: 0}  # 5 and 6: +1 -1
    assert status.get(LOT).open_count == 4
    assert counter.count("s", _events((6, -1), (7, 1))) == {LOT: 1}
    assert status.get(LOT).open_count == 5


def test_a_batch_summing_to_zero_still_moves_the_mark():
    """An entry and its exit in one batch add nothing, but a redelivery of the exit alone must not count it."""
    counter, status, _ = _counter()
    assert counter.count("s", _events((1, 1), (2, -1))) == {LOT: 0}
    assert counter.count("s", _events((2, -1))) == {LOT: 0}
    assert status.get(LOT).open_count == 0


def test_shards_are_counted_apart_and_their_sequence_numbers_never_compared():
    counter, status, _ = _counter()
    counter.count("shard-1", _events((500, 1)))
    counter.count("shard-2", _events((7, 1), (8, 1)))  # lower numbers, another shard: counted
    counter.count("shard-1", _events((500, 1)))  # redelivered: not
    assert status.get(LOT).open_count == 3
    assert set(status.lots[LOT]["counted"]) == {shard_key("shard-1"), shard_key("shard-2")}


def test_a_crash_after_the_write_then_the_retry_counts_nothing_more():
    counter, status, _ = _counter()
    store = counter._store
    real, died = store.advance, []

    def dies_after(*args, **kwargs):
        done = real(*args, **kwargs)
        if not died:
            died.append(True)
            raise RuntimeError("the Lambda was killed after its write")
        return done

    store.advance = dies_after
    batch = _events((1, 1), (2, 1)) + _events((3, 1), lot=OTHER)
    with pytest.raises(RuntimeError):
        counter.count("s", batch)
    assert counter.count("s", batch) == {LOT: 0, OTHER: 1}  # the stream delivers the batch again
    assert (status.get(LOT).open_count, status.get(OTHER).open_count) == (2, 1)


def test_marks_of_shards_past_the_streams_retention_are_dropped():
    counter, status, clock = _counter()
    counter.count("old-shard", _events((1, 1)))
    clock.advance(timedelta(hours=24).total_seconds())
    counter.count("new-shard", _events((1, 1)))
    assert len(status.lots[LOT]["counted"]) == 2  # 24 h: the old shard may still deliver a retried batch
    clock.advance(timedelta(hours=1, seconds=1).total_seconds())
    counter.count("new-shard", _events((2, 1)))
    assert set(status.lots[LOT]["counted"]) == {shard_key("new-shard")} and status.get(LOT).open_count == 3


def test_a_batch_without_its_shard_is_refused_and_a_mark_that_keeps_moving_is_retried_by_the_stream():
    counter, _, _ = _counter()
    with pytest.raises(ValueError):
        counter.count("", _events((1, 1)))
    counter._store.advance = lambda *a, **k: False
    with pytest.raises(Unavailable):
        counter.count("s", _events((1, 1)))


@st.composite
def _deliveries(draw):
    """Per shard a list of events (lot, delta); a delivery plan as Lambda may run it: from the shard's
    checkpoint, a batch of any size, which succeeds, dies before its write or dies after it (the checkpoint
    moves only on success); shards interleave in any order."""
    shards = draw(st.lists(st.lists(st.tuples(st.sampled_from([LOT, OTHER]), st.sampled_from([1, -1])),
                                    min_size=1, max_size=12), min_size=1, max_size=3))
    steps = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 6), st.sampled_from(["ok", "before", "after"])),
                          min_size=1, max_size=40))
    return shards, steps


@settings(max_examples=60, deadline=None)
@given(_deliveries())
def test_every_event_is_counted_once_however_the_stream_delivers(plan):
    shards, steps = plan
    counter, status, _ = _counter()
    store, real = counter._store, counter._store.advance
    checkpoints = [0] * len(shards)
    mode = {"now": "ok"}

    def advance(*args, **kwargs):
        if mode["now"] == "before":
            raise RuntimeError("died before the write")
        done = real(*args, **kwargs)
        if mode["now"] == "after":
            raise RuntimeError("died after the write")
        return done

    store.advance = advance

    def deliver(i: int, size: int, how: str) -> None:
        events = shards[i]
        start = checkpoints[i]
        batch = [CountedEvent(lot, d, 1000 + n) for n, (lot, d) in enumerate(events) if start <= n < start + size]
        if not batch:
            return
        mode["now"] = how
        try:
            counter.count(f"shard-{i}", batch)
        except RuntimeError:
            return  # the batch failed: delivered again from the same checkpoint, perhaps cut differently
        checkpoints[i] = start + len(batch)

    for shard, size, how in steps:
        deliver(shard % len(shards), size, how)
    for i in range(len(shards)):  # the stream keeps delivering until every shard is through
        while checkpoints[i] < len(shards[i]):
            deliver(i, 5, "ok")
    for lot in (LOT, OTHER):
        expected = sum(d for events in shards for (at, d) in events if at == lot)
        assert status.get(lot).open_count == expected


# The consumer end to end on the local stack: the ack carries the change, the stream pump feeds the function.

def _enter(stack, city_device, clock, plate: str):
    status, body = city_device("lx-in1").post(gate_event("entry", plate, clock.now()))
    assert status == 200 and body["acks"][0]["status"] == "accepted"


def test_on_the_stack_the_count_follows_the_stream_once_through_redelivery_and_a_crash(stack, device, city, clock):
    from infra.local import lambda_dispatch
    from shared import resources
    from shared.adapters.dynamo.models import AckItem, LotStatusItem

    lot = "lx-nanchang-st-01"
    status = stack.services.stores.status
    stack.pump_streams()
    before = status.get(lot).open_count
    for plate in ("苏B10001", "苏B10002", "苏B10003"):
        _enter(stack, device, clock, plate)
    clock.advance(600)
    status_code, body = device("lx-out1").post(gate_event("exit", "苏B10001", clock.now()))
    assert status_code == 200
    acks = [a for a in AckItem.scan() if a.lot_id == lot]
    assert sorted(a.open_delta for a in acks if a.open_delta) == [-1, 1, 1, 1]
    assert status.get(lot).open_count == before  # not yet: the lot's item was not in the events' transactions

    consumer = resources.function("open-counts").name
    real, died = lambda_dispatch.handler_for(consumer)[0], []

    def dies_after_its_write(event, context):
        result = real(event, context)
        if not died:
            died.append(True)
            raise RuntimeError("killed after the write")
        return result

    lambda_dispatch.override(consumer, dies_after_its_write)
    try:
        stack.pump_streams()  # the consumer counts, then dies: its batch comes again
        assert died and status.get(lot).open_count == before + 2
        stack.pump_streams()
    finally:
        lambda_dispatch.override(consumer, None)
    assert status.get(lot).open_count == before + 2
    assert status.get(lot).open_count == len(stack.services.stores.sessions.open_in_lot(lot))
    for pump in stack.pumps:  # the whole stream again, from its start: nothing counted twice
        pump._iterators.clear()
    stack.pump_streams()
    assert status.get(lot).open_count == before + 2
    item = LotStatusItem.get(lot, "LOT")
    assert len(item.counted.as_dict()) == 1  # one shard (moto has one), one mark


def test_on_the_stack_shuffled_duplicated_events_leave_the_count_equal_to_the_open_sessions(stack, device, city, clock):
    """Entries and exits shuffled (exits before their entries), each delivered 1-3 times, the consumer dying
    after its write on every other delivery of the stream: the count is the open sessions, midway and at the end."""
    import random

    from infra.local import lambda_dispatch
    from shared import resources

    lot, rng = "lx-nanchang-st-01", random.Random(10)
    status, store = stack.services.stores.status, stack.services.stores.sessions
    stack.pump_streams()
    start = clock.now() - timedelta(hours=6)
    entries = [start + timedelta(minutes=3 * i) for i in range(12)]
    stays = [(f"苏B2{i:04d}", at, at + timedelta(minutes=rng.randint(30, 200))) for i, at in enumerate(entries)]
    deliveries = [(kind, stay) for stay in stays[:9] for kind in ("entry", "exit") for _ in range(rng.randint(1, 3))]
    deliveries += [("entry", stay) for stay in stays[9:] for _ in range(rng.randint(1, 2))]  # still parked at the end
    rng.shuffle(deliveries)
    consumer = resources.function("open-counts").name
    real, calls = lambda_dispatch.handler_for(consumer)[0], []

    def dies_after_every_other_write(event, context):
        result = real(event, context)
        calls.append(True)
        if len(calls) % 2:
            raise RuntimeError("killed after the write")
        return result

    lambda_dispatch.override(consumer, dies_after_every_other_write)
    try:
        for n, (kind, (plate, entered, exited)) in enumerate(deliveries):
            at, lane = (entered, "in-1") if kind == "entry" else (exited, "out-1")
            event = gate_event(kind, plate, at, lane=lane)
            event["event_id"] = f"{kind}-{plate[-4:]}"  # a redelivery is the same event
            code, _ = device("lx-in1" if kind == "entry" else "lx-out1").post(event)
            assert code == 200
            if n == len(deliveries) // 2:
                stack.pump_streams()
                stack.pump_streams()
                assert status.get(lot).open_count == len(store.open_in_lot(lot))
        for _ in range(3):
            stack.pump_streams()
    finally:
        lambda_dispatch.override(consumer, None)
    assert len(calls) >= 3
    assert status.get(lot).open_count == len(store.open_in_lot(lot)) == 3


def _record(seq: int, lot: str, delta: int | None, name: str = "INSERT") -> dict:
    image = {"pk": {"S": f"{lot}#e{seq}"}, "lot_id": {"S": lot}}
    if delta is not None:
        image["open_delta"] = {"N": str(delta)}
    return {"eventID": f"id{seq}", "eventName": name, "eventSource": "aws:dynamodb", "awsRegion": "cn-north-1",
            "eventSourceARN": "arn:aws:dynamodb:cn-north-1:1:table/acks/stream/2026",
            "dynamodb": {"Keys": {"pk": image["pk"]}, "NewImage": image, "SequenceNumber": str(seq),
                         "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"}}


def test_the_entry_point_counts_an_aws_shaped_batch_and_answers_the_tumbling_window(memory):
    """The batch as Lambda sends it with a tumbling window (shardId, state); the archive's claims (MODIFY)
    and acks without a change are not counted; the window's last call has no records."""
    from functions.open_counts.handler import handler

    status = memory.services.stores.status
    before = status.get(LOT).open_count
    batch = {"Records": [_record(101, LOT, 1), _record(102, LOT, None), _record(103, LOT, 1, "MODIFY"),
                         _record(104, LOT, -1), _record(105, LOT, 1)],
             "shardId": "shardId-00000001700000000000-abcdef12", "eventSourceARN": "arn:aws:dynamodb:cn-north-1:1:x",
             "window": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-01T00:15:00Z"}, "state": {},
             "isFinalInvokeForWindow": False, "isWindowTerminatedEarly": False}
    assert handler(batch, None) == {"state": {}}
    assert status.get(LOT).open_count == before + 1
    assert handler(batch, None) == {"state": {}} and status.get(LOT).open_count == before + 1  # redelivered
    final = {**batch, "Records": [], "isFinalInvokeForWindow": True}
    assert handler(final, None) == {"state": {}}
    with pytest.raises(ValueError):  # a mapping without the window: refused, never counted blind
        handler({"Records": [_record(106, LOT, 1)]}, None)
