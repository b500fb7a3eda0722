"""A device's last-seen (issue 10). On DynamoDB a request that stores an event's ack writes none: the
archive writer, fed by the acks stream, records each lot device's newest acceptance once per batch (forward
only), so the lag is the stream's batching window (5 s in the deployed event-source mapping). A request that
stores no ack (a duplicate, a rejection), and every request on the memory stores, which have no stream, writes
it itself, only when the process has not stored one for the device within ``last_seen_every``. The liveness
check that reads it (comms anomalies, S16) calls a lot silent only after its heartbeat window, which stays at
least ten times that lag: a device posting keeps its lot online, and a silent one is still found. A fresh
process (a cold container) writes on its first event. On memory and on the local stack."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.dynamo.models import NonceItem
from shared.ingest.service import LAST_SEEN_EVERY, last_seen_every
from shared.registry.model import Lot
from tests.support import gate_event

LOT = "xw-taihu-plaza"


def test_the_lag_stays_far_below_every_heartbeat_window():
    floor = next(m.ge for m in Lot.model_fields["heartbeat_window_s"].metadata if hasattr(m, "ge"))
    default = Lot.model_fields["heartbeat_window_s"].default
    for window in (floor, 120, default, 86_400):
        lot = Lot.model_construct(heartbeat_window_s=window)
        assert last_seen_every(lot) <= timedelta(seconds=window) / 10  # a tenth of the window at most
    assert last_seen_every(Lot.model_construct(heartbeat_window_s=default)) == LAST_SEEN_EVERY == timedelta(seconds=60)


def _spy(platform, monkeypatch) -> list:
    status = platform.services.stores.status
    touched, real = [], status.touch_device

    def spy(lot_id, device_id, now):
        touched.append((device_id, now))
        return real(lot_id, device_id, now)

    monkeypatch.setattr(status, "touch_device", spy)
    return touched


def _heartbeat(device, clock, event_id: str, poster: str = "xw-in1") -> None:
    hb = {"event_id": event_id, "type": "heartbeat", "lot_id": LOT, "occurred_at": clock.now().isoformat()}
    assert device(poster).post(hb)[0] == 200


def _seen_ms(platform, device_id: str = "xw-in1") -> int | None:
    return (platform.services.stores.status.get(LOT).device_last_seen_ms or {}).get(device_id)


def _ms(at) -> int:
    return int(at.timestamp() * 1000)


def test_a_device_posting_often_writes_its_last_seen_once_a_minute_and_its_lot_stays_online(memory, city, device, clock, monkeypatch):
    start, touched = clock.now(), _spy(memory, monkeypatch)
    for i in range(16):  # 5 minutes of heartbeats, one every 20 s, the liveness check every minute
        _heartbeat(device, clock, f"hb-{i}")
        if i % 3 == 2:
            assert LOT not in memory.services.liveness.run().offline
        clock.advance(seconds=20)
    assert [int((t - start).total_seconds()) for _, t in touched] == [0, 60, 120, 180, 240, 300]  # 6 writes, 16 posts
    assert _seen_ms(memory) == _ms(start + timedelta(seconds=300))
    clock.advance(minutes=11)  # silent past the 600 s window: found
    assert LOT in memory.services.liveness.run().offline


def test_on_the_stack_the_requests_write_none_and_the_archive_writer_records_the_newest_per_batch(stack, city, device, clock, monkeypatch):
    stack.pump_streams()  # what setting up the city wrote
    start, touched = clock.now(), _spy(stack, monkeypatch)
    for i in range(16):  # heartbeats every 20 s; the stream delivered every minute (a batch of three)
        _heartbeat(device, clock, f"hb-{i}")
        assert len(touched) == i // 3  # nothing on the request's path
        if i % 3 == 2:
            stack.pump_streams()
            assert touched[-1] == ("xw-in1", clock.now())  # one write for the batch: its newest acceptance
            assert LOT not in stack.services.liveness.run().offline
        clock.advance(seconds=20)
    stack.pump_streams()
    assert [int((t - start).total_seconds()) for _, t in touched] == [40, 100, 160, 220, 280, 300]
    assert _seen_ms(stack) == _ms(start + timedelta(seconds=300))
    stack.pump_streams()  # only the archive claims' changes: nothing written again
    assert len(touched) == 6
    assert list(NonceItem.scan()) == []  # and each heartbeat's nonce is on its ack: a heartbeat wrote its ack only
    clock.advance(minutes=11)  # silent past the 600 s window: found
    assert LOT in stack.services.liveness.run().offline


def test_a_redelivered_batch_does_not_move_a_last_seen_back(stack, city, device, clock):
    from shared.archive.writer import ArchivedEvent

    _heartbeat(device, clock, "hb-0")
    first = stack.services.stores.acks.get_record(LOT, "hb-0")
    clock.advance(minutes=2)
    _heartbeat(device, clock, "hb-1")
    stack.pump_streams()
    assert _seen_ms(stack) == _ms(clock.now())
    image = {"pk": f"{LOT}#hb-0", "lot_id": LOT, "district_code": first.district_code, "device_id": "xw-in1",
             "accepted_at": first.ack.accepted_at.isoformat(), "event": first.event, "ack": {}, "lot_device": True}
    stack.services.archive.write([ArchivedEvent.from_image(image)])  # the older batch again, re-cut
    assert _seen_ms(stack) == _ms(clock.now())


def test_a_vehicle_event_writes_no_last_seen_on_the_stack_until_the_stream_delivers_it(stack, city, device, clock, monkeypatch):
    touched = _spy(stack, monkeypatch)
    sessions, riders = stack.services.stores.sessions, []
    real = sessions.write

    def spy(lot_id, plan, ack, r=None):
        riders.append(r)
        return real(lot_id, plan, ack, r)

    monkeypatch.setattr(sessions, "write", spy)
    assert device("xw-in1").post(gate_event("entry", "苏B12345", clock.now(), lot=LOT))[0] == 200
    assert touched == [] and _seen_ms(stack) is None  # one transaction: the session, its pointer, count, ack
    assert [r.money for r in riders] == [None]
    clock.advance(seconds=5)
    stack.pump_streams()
    assert _seen_ms(stack) == _ms(clock.now() - timedelta(seconds=5))  # the entry's acceptance


def test_a_request_that_stores_no_ack_writes_its_own_last_seen_on_the_stack(stack, city, device, clock, monkeypatch):
    """A device resending what was stored (a duplicate) is alive though the stream carries nothing new."""
    _heartbeat(device, clock, "hb-0")
    stack.pump_streams()
    clock.advance(minutes=3)
    ingest = stack.services.ingest
    monkeypatch.setattr(ingest, "_seen_stored", {})  # another container: nothing stored by it yet
    _heartbeat(device, clock, "hb-0")  # answered duplicate
    assert _seen_ms(stack) == _ms(clock.now())


def test_a_district_gateways_events_record_no_last_seen(stack, city, device, clock):
    """A gateway pushes for many lots: it is none of them, so it keeps none of them online (as before)."""
    lot = "lx-nanchang-st-01"
    hb = {"event_id": "gw-hb-0", "type": "heartbeat", "lot_id": lot, "occurred_at": clock.now().isoformat()}
    assert device("gw-liangxi").post(hb)[0] == 200
    assert stack.services.stores.acks.get_record(lot, "gw-hb-0").lot_device is False
    stack.pump_streams()
    assert "gw-liangxi" not in (stack.services.stores.status.get(lot).device_last_seen_ms or {})


def test_a_fresh_process_writes_the_last_seen_of_its_first_event(memory, city, device, clock, monkeypatch):
    """What a process stored is what lets it skip: another container (here: the ingest rebuilt) writes."""
    from shared.ingest.service import EventIngest

    hb = {"event_id": "hb-a", "type": "heartbeat", "lot_id": LOT, "occurred_at": clock.now().isoformat()}
    assert device("xw-in1").post(hb)[0] == 200
    clock.advance(seconds=10)
    ingest = memory.services.ingest
    assert isinstance(ingest, EventIngest)
    monkeypatch.setattr(ingest, "_seen_stored", {})  # a cold container: nothing stored by it yet
    assert device("xw-in1").post({**hb, "event_id": "hb-b", "occurred_at": clock.now().isoformat()})[0] == 200
    assert memory.services.stores.status.get(LOT).device_last_seen_ms["xw-in1"] == int(clock.now().timestamp() * 1000)
