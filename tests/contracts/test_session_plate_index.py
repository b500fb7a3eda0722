"""Issue 10: a session is in the plate index only where ``parked`` needs it. A gate session is found through
its plate's pointer, so it carries no ``by_plate`` key (one index write fewer per entry); an on-street berth
session (its pointer is the berth's) is found by its plate through the index. On both adapters."""

from __future__ import annotations

from tests.contracts.test_sessions_and_events import _ack, _entry, _session


def test_a_gate_session_is_parked_through_its_pointer(stores, uid):
    lot, plate = f"lot-{uid}", f"苏B{uid[:5]}"
    s = _session(f"s-{uid}", lot, plate=plate)
    assert stores.sessions.write(lot, _entry(s), _ack(lot, f"e-{uid}")).written
    assert stores.sessions.parked(lot, plate) == s
    assert stores.sessions.parked(f"other-{uid}", plate) is None


def test_a_berth_session_is_parked_through_the_plate_index(stores, uid):
    lot, plate = f"zone-{uid}", f"苏B{uid[:5]}"
    s = _session(f"s-{uid}", lot, plate=plate, berth=f"b-{uid}")
    assert s.subject.startswith("B#")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, f"e-{uid}")).written
    assert stores.sessions.parked(lot, plate) == s


def test_only_a_berth_session_carries_the_plate_key_on_dynamodb(aws_stack, uid):
    from shared.adapters.dynamo.models import SessionItem

    stores = aws_stack.services.stores
    gate = _session(f"g-{uid}", f"lot-{uid}", plate=f"苏G{uid[:5]}")
    berth = _session(f"b-{uid}", f"zone-{uid}", plate=f"苏H{uid[:5]}", berth=f"b-{uid}")
    for s in (gate, berth):
        assert stores.sessions.write(s.lot_id, _entry(s), _ack(s.lot_id, f"e-{s.session_id}")).written
    raw = SessionItem._get_connection().get_item(gate.session_id, consistent_read=True)["Item"]
    assert "plate" not in raw and list(SessionItem.by_plate.query(gate.plate)) == []
    assert [i.pk for i in SessionItem.by_plate.query(berth.plate)] == [berth.session_id]
