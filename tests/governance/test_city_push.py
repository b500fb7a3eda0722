"""The city push outbox against a real HTTP receiver on 127.0.0.1 (a free port): it drops connections,
times out, answers 500, then recovers; nothing is lost, nothing is reordered within a lot, a push is
never delivered under two keys, a dead push is visible and still retried. Time is moved by the test."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from shared.adapters.city_push import HttpTransport
from shared.adapters.memory.city_push import MemoryOutbox
from shared.auth import Principal, Role
from shared.citypush import model
from shared.citypush.ports import Target
from shared.citypush.service import CityPushService
from shared.clock import SHANGHAI, ManualClock
from shared.errors import Forbidden
from tools.city_receiver import Receiver

SECRET = "test-city-push-key"
CITY = Principal(subject="c", role=Role.CITY_ADMIN)


def lot(lot_id, capacity=100, operator="op-a"):
    return SimpleNamespace(lot_id=lot_id, capacity=capacity, district_code="320213", operator_id=operator)


class Lots:
    def __init__(self, *lots):
        self._lots = list(lots)

    def list(self):
        return self._lots


class Statements:
    def __init__(self):
        self.issued = {}

    def get(self, operator_id, day):
        return self.issued.get((operator_id, day))


@pytest.fixture
def receiver():
    r = Receiver(SECRET, slow_s=0.6).start()
    yield r
    r.stop()


def occupancy(free_by_lot):
    def read(lot_ids):
        return {i: SimpleNamespace(reported_total=100, reported_free=free_by_lot.get(i, 50), open_count=0, online=True) for i in lot_ids}
    return read


def service(receiver_url, clock, lots=("lot-a", "lot-b"), store=None, free=None, statements=None):
    target = Target(url=receiver_url, key_id="tongting-platform", secret=SECRET, timeout_s=0.3)
    return CityPushService(store or MemoryOutbox(), HttpTransport(), target, Lots(*(lot(i) for i in lots)),
                           occupancy(free if free is not None else {}), statements or Statements(), clock)


def test_failures_are_retried_with_backoff_in_order_and_nothing_is_lost(receiver):
    clock = ManualClock(datetime(2026, 11, 23, 9, 2, tzinfo=SHANGHAI))
    free = {"lot-a": 40, "lot-b": 10}
    svc = service(receiver.url, clock, free=free)
    receiver.script = ["drop", "slow", "500"]  # a dropped connection, a timeout, then a 500
    first = svc.run()
    assert first["queued"] == 2 and first["failed"] == 2 and first["delivered"] == 0
    clock.advance(minutes=5)
    free["lot-a"] = 35
    second = svc.run()  # lot-a's head answers 500: its new push waits behind it; lot-b's two go through
    assert second["queued"] == 2 and second["failed"] == 1 and second["delivered"] == 2
    assert svc.run()["waiting"] == 1  # too early for lot-a (the backoff doubled to 60 s): nothing sent
    clock.advance(seconds=60)
    recovered = svc.run()
    assert recovered["delivered"] == 2
    a = [p for p in receiver.received if p["lot_id"] == "lot-a"]
    assert [p["free"] for p in a] == [40, 35]  # in the order queued
    assert [p["slot"] for p in a] == ["2026-11-23T09:00:00+08:00", "2026-11-23T09:05:00+08:00"]
    assert len(receiver.received) == 4 and receiver.bad_signatures == 0
    assert svc.outbox(CITY) == []


def test_rerun_in_the_same_slot_queues_nothing_and_a_timeout_delivered_late_is_not_a_duplicate(receiver):
    clock = ManualClock(datetime(2026, 11, 23, 9, 1, tzinfo=SHANGHAI))
    svc = service(receiver.url, clock, lots=("lot-a",))
    receiver.script = ["slow"]  # the receiver takes it, but answers after we gave up
    svc.run()
    clock.advance(seconds=40)
    again = svc.run()  # same 5-minute slot: not queued again; the timed-out push is re-sent, same key
    assert again["queued"] == 0 and again["delivered"] == 1
    import time

    time.sleep(0.4)  # let the slow request finish on the receiver's side
    keys = receiver.deliveries
    assert keys == [model.occupancy_key("lot-a", datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))] * 2
    assert len(receiver.received) == 1  # the platform keeps one: the idempotency key did its job


def test_a_dead_push_is_visible_still_retried_and_holds_its_lot_back(receiver):
    clock = ManualClock(datetime(2026, 11, 23, 9, 1, tzinfo=SHANGHAI))
    svc = service(receiver.url, clock, lots=("lot-a",))
    receiver.script = ["500"] * model.DEAD_AFTER
    for _ in range(model.DEAD_AFTER):
        svc.deliver() if svc.outbox(CITY) else svc.run()
        clock.advance(seconds=model.MAX_BACKOFF_S)
    dead = svc.outbox(CITY, "dead")
    assert len(dead) == 1 and dead[0].attempts == model.DEAD_AFTER and dead[0].last_error == "HTTP 500"
    assert svc.outbox(Principal(subject="a", role=Role.AUDITOR), "dead") == dead
    with pytest.raises(Forbidden):
        svc.outbox(Principal(subject="o", role=Role.OPERATOR, operator_id="op-a"))
    with pytest.raises(Forbidden):
        svc.requeue(Principal(subject="a", role=Role.AUDITOR), dead[0].push_id)
    svc.queue_occupancy()  # a later push of the lot waits behind the dead one
    svc.requeue(CITY, dead[0].push_id)
    assert svc.deliver()["delivered"] == 2
    assert [p["push_id"] for p in receiver.received][0] == dead[0].push_id


def test_unreachable_platform_and_unconfigured_target_keep_pushes(receiver):
    clock = ManualClock(datetime(2026, 11, 23, 9, 1, tzinfo=SHANGHAI))
    store = MemoryOutbox()
    closed = Receiver(SECRET)  # bound then closed: its port refuses connections
    closed.server.server_close()
    svc = service(closed.url, clock, lots=("lot-a",), store=store)
    out = svc.run()
    assert out["failed"] == 1 and store.undelivered()[0].last_error.startswith("unreachable")
    assert service(None, clock, lots=("lot-a",), store=store).deliver() == {"delivered": 0, "failed": 0, "waiting": 0, "dead": 0}
    clock.advance(minutes=1)
    assert service(receiver.url, clock, lots=("lot-a",), store=store).deliver()["delivered"] == 1


def test_daily_statistics_are_pushed_once_the_statement_is_issued(receiver):
    clock = ManualClock(datetime(2026, 11, 24, 3, 31, tzinfo=SHANGHAI))
    statements = Statements()
    svc = service(receiver.url, clock, lots=("lot-a",), statements=statements)
    assert svc.queue_daily() == 0
    statements.issued[("op-a", "2026-11-23")] = SimpleNamespace(
        statement_id="st_op-a_2026-11-23", lots={"lot-a": SimpleNamespace(sessions=250, net_revenue_fen=123456)})
    assert svc.queue_daily() == 1 and svc.queue_daily() == 0
    svc.deliver()
    daily = [p for p in receiver.received if p["kind"] == "daily_stats"]
    assert daily == [{"push_id": "day:lot-a:2026-11-23", "kind": "daily_stats", "lot_id": "lot-a", "district_code": "320213",
                      "day": "2026-11-23", "sessions": 250, "turnover": 2.5, "revenue_fen": 123456,
                      "statement_id": "st_op-a_2026-11-23"}]


def test_backoff_grows_and_is_capped():
    assert [model.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 1800]


def test_the_local_receiver_lists_what_arrived(receiver):
    import json
    import urllib.request

    clock = ManualClock(datetime(2026, 11, 23, 9, 1, tzinfo=SHANGHAI))
    service(receiver.url, clock, lots=("lot-a",)).run()
    with urllib.request.urlopen(receiver.url, timeout=2) as resp:
        seen = json.loads(resp.read())
    assert [p["push_id"] for p in seen["received"]] == ["occ:lot-a:20261123T0900"] and seen["bad_signatures"] == 0
