"""Settlement and the city push run on ``memory_stores()`` through the real composition root: the ledger
reader over the in-memory ledger, the recording transport in place of HTTP (their contracts:
``tests/contracts/test_governance.py``)."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.clock import SHANGHAI
from shared.ledger.model import Posting

OP = "wx-city-parking"


@pytest.fixture
def pushing(monkeypatch, request):
    monkeypatch.setenv("TONGTING_CITY_PUSH_URL", "https://city.example.cn/v1/parking/push")
    monkeypatch.setenv("TONGTING_CITY_PUSH_SECRET", "memory-push-key")
    return request.getfixturevalue("memory")


def test_a_day_is_settled_once_from_the_memory_ledger(memory, city, clock):
    svc = memory.services
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI))
    assert svc.ledger.post(Posting.charge("c-1", "苏B12345", OP, 600, datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)))
    first = svc.settlement.settle(datetime(2026, 3, 1).date())
    assert first["issued"] == first["operators"] >= 2
    statement = memory.stores.statements.get(OP, "2026-03-01")
    assert statement is not None and memory.stores.statements.covered(statement) == {"c-1"}
    again = svc.settlement.settle(datetime(2026, 3, 1).date())
    assert again["issued"] == 0 and again["already_issued"] == first["operators"]


def test_the_city_push_sends_through_the_recording_transport_and_retries(pushing, city, clock):
    svc, transport = pushing.services, pushing.stores.push_transport
    transport.answers.append(500)
    out = svc.city_push.run()
    assert out["queued"] == len(transport.sent) == 3  # one occupancy push per lot of the city
    assert out["failed"] == 1 and out["delivered"] == out["queued"] - 1
    assert all(s.url.endswith("/v1/parking/push") and "X-Signature" in s.headers for s in transport.sent)
    clock.advance(seconds=300)
    assert svc.city_push.run()["delivered"] >= 1
    keys = [s.headers["Idempotency-Key"] for s in transport.sent]
    assert keys.count(keys[0]) == 2 and len(set(keys)) == len(keys) - 1  # the refused push, resent under its key
    assert pushing.stores.push_outbox.undelivered() == []
