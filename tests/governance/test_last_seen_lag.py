"""A device's last-seen is written only when the process has not stored one for it within
``last_seen_every`` (issue 10, fourth part: each write is 2 WRU in the event's transaction). The liveness
check that reads it (comms anomalies, S16) calls a lot silent only after its heartbeat window, which stays at
least ten times that lag: a device posting keeps its lot online, and a silent one is still found. A fresh
process (a cold container) writes on its first event. On memory and on the local stack."""

from __future__ import annotations

from datetime import timedelta

import pytest

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


def _posting_every_20_s(platform, device, clock, monkeypatch) -> list:
    status = platform.services.stores.status
    touched, real = [], status.touch_device

    def spy(lot_id, device_id, now):
        touched.append(now)
        return real(lot_id, device_id, now)

    monkeypatch.setattr(status, "touch_device", spy)
    for i in range(16):  # 5 minutes of heartbeats, one every 20 s, the liveness check every minute
        hb = {"event_id": f"hb-{i}", "type": "heartbeat", "lot_id": LOT, "occurred_at": clock.now().isoformat()}
        assert device("xw-in1").post(hb)[0] == 200
        if i % 3 == 2:
            assert LOT not in platform.services.liveness.run().offline
        clock.advance(seconds=20)
    return touched


def _check(platform, device, clock, monkeypatch) -> None:
    start = clock.now()
    touched = _posting_every_20_s(platform, device, clock, monkeypatch)
    assert [int((t - start).total_seconds()) for t in touched] == [0, 60, 120, 180, 240, 300]  # 6 writes, 16 posts
    seen = platform.services.stores.status.get(LOT).device_last_seen_ms["xw-in1"]
    assert seen == int((start + timedelta(seconds=300)).timestamp() * 1000)
    clock.advance(minutes=11)  # silent past the 600 s window: found
    assert LOT in platform.services.liveness.run().offline


def test_a_device_posting_often_writes_its_last_seen_once_a_minute_and_its_lot_stays_online(memory, city, device, clock, monkeypatch):
    _check(memory, device, clock, monkeypatch)


def test_the_same_on_the_stack_from_the_batched_read(stack, city, device, clock, monkeypatch):
    _check(stack, device, clock, monkeypatch)


@pytest.mark.parametrize("gap_s, written", [(30, False), (61, True)])
def test_a_vehicle_event_carries_the_last_seen_only_when_the_stored_one_is_stale(stack, city, device, clock, monkeypatch, gap_s, written):
    assert device("xw-in1").post({"event_id": "hb-0", "type": "heartbeat", "lot_id": LOT, "occurred_at": clock.now().isoformat()})[0] == 200
    clock.advance(seconds=gap_s)
    sessions, riders = stack.services.stores.sessions, []
    real = sessions.write

    def spy(lot_id, plan, ack, r=None):
        riders.append(r)
        return real(lot_id, plan, ack, r)

    monkeypatch.setattr(sessions, "write", spy)
    assert device("xw-in1").post(gate_event("entry", "苏B12345", clock.now(), lot=LOT))[0] == 200
    assert [r.seen is not None for r in riders] == [written]
    seen = stack.services.stores.status.get(LOT).device_last_seen_ms["xw-in1"]
    assert seen == int((clock.now() if written else clock.now() - timedelta(seconds=gap_s)).timestamp() * 1000)


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
