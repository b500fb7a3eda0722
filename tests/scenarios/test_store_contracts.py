"""The scenario stores' contracts, held by the in-memory and the DynamoDB adapters alike: versioned writes
refuse a stale version and write nothing; one-time records are stored once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.adapters.dynamo.charging import DynamoChargingStore
from shared.adapters.dynamo.hotline import DynamoTicketStore
from shared.adapters.dynamo.sharing import DynamoSharingStore
from shared.adapters.memory.charging import MemoryChargingStore
from shared.adapters.memory.hotline import MemoryTicketStore
from shared.adapters.memory.sharing import MemorySharingStore
from shared.charging.model import ChargingRecord
from shared.hotline import model as hotline
from shared.sharing.model import Application, ApplicationStatus, Offer


@pytest.fixture(params=["memory", "dynamo"])
def kind(request, stack):
    return request.param


def test_tickets_are_versioned_and_found_by_due_time(kind, clock):
    store = MemoryTicketStore() if kind == "memory" else DynamoTicketStore()
    now = clock.now()
    ticket = hotline.open_ticket(hotline.Complaint(category="gate_fault", description="x", district_code="320213"),
                                 ticket_id="tk_1", channel=hotline.Channel.PHONE, district_code="320213",
                                 operator_id=None, actor="a", now=now)
    assert store.save(ticket) and not store.save(ticket)
    assert store.due(now) == [] and [t.ticket_id for t in store.due(now + timedelta(hours=2))] == ["tk_1"]
    later = hotline.swept(ticket, now + timedelta(hours=2))
    assert store.save(later) and not store.save(later)
    assert store.get("tk_1").level is hotline.Level.CITY and [t.version for t in store.of_district("320213")] == [2]


def test_charging_sessions_are_stored_once(kind, clock):
    store = MemoryChargingStore() if kind == "memory" else DynamoChargingStore()
    now = clock.now()
    record = ChargingRecord(lot_id="l1", event_id="e1", plate="苏B12345", charger_id="c", started_at=now,
                            ended_at=now + timedelta(hours=1), energy_wh=1, device_id="d", reported_at=now)
    assert store.record(record) and not store.record(record)
    assert store.of_plate("l1", "苏B12345", now + timedelta(minutes=1)) == [record]
    assert store.of_plate("l1", "苏B12345", now) == [] and store.of_plate("l2", "苏B12345", now + timedelta(days=1)) == []


def test_a_grant_writes_the_offer_and_the_application_together_or_not_at_all(kind, clock):
    store = MemorySharingStore() if kind == "memory" else DynamoSharingStore()
    now = clock.now()
    offer = Offer(offer_id="o1", name="n", lot_ids=["l1"], spaces=1, monthly_fee_fen=1,
                  windows=[{"weekdays": [1], "start": "19:00", "end": "07:00"}], district_code="320213")
    app = Application(application_id="a1", offer_id="o1", applicant="c", plates=["苏B12345"], months=1,
                      district_code="320213", created_at=now)
    assert store.save_offer(offer) and store.save_application(app)
    approved = app.bumped("s", "approved", now, status=ApplicationStatus.APPROVED, valid_from=now, valid_until=now + timedelta(days=30))
    stale = offer.bumped(granted=1).bumped(granted=1)  # skips a version: refused
    assert not store.grant(stale, approved)
    assert store.application("a1").version == 1 and store.rights_of_plate("苏B12345") == []
    assert store.grant(offer.bumped(granted=1), approved)
    assert [a.application_id for a in store.rights_of_plate("苏B12345")] == ["a1"] and store.offer("o1").granted == 1
    cancelled = approved.bumped("c", "cancelled", now, status=ApplicationStatus.CANCELLED)
    assert store.release(store.offer("o1").bumped(granted=0), cancelled)
    assert store.rights_of_plate("苏B12345") == [] and store.offer("o1").granted == 0
