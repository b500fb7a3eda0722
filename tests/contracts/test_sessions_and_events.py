"""The contracts of the sessions, acks, nonces, lot status and archive-claim stores, on both adapters."""

from __future__ import annotations

from datetime import timedelta

from shared.ingest.ports import AckRecord
from shared.protocol.events import Ack, AckStatus
from shared.sessions.model import ParkingSession, SessionStatus
from shared.sessions.planner import Plan, PointerWrite
from tests.contracts.records import T0


def _ack(lot: str, event_id: str) -> AckRecord:
    ack = Ack(event_id=event_id, status=AckStatus.ACCEPTED, accepted_at=T0)
    return AckRecord(lot_id=lot, district_code="320213", device_id="cam", event={"event_id": event_id}, ack=ack)


def _session(sid: str, lot: str, plate: str = "苏B12345", **more) -> ParkingSession:
    return ParkingSession(session_id=sid, lot_id=lot, district_code="320213", plate=plate, plate_colour="blue",
                          vehicle_class="small", status=more.pop("status", SessionStatus.OPEN), **{"entered_at": T0, **more})


def _entry(session: ParkingSession) -> Plan:
    return Plan(session.session_id, creates=[session], open_delta=1,
                pointers=[PointerWrite(session.subject, session.session_id, expected=None)])  # fmt: skip


def test_a_plan_is_written_with_its_ack_pointer_and_count(stores, uid, counted):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    assert stores.sessions.open_for(lot, s.subject) == s and stores.sessions.parked(lot, s.plate) == s
    assert stores.acks.get(lot, "e1").event_id == "e1"
    assert [x.session_id for x in stores.sessions.open_in_lot(lot)] == [s.session_id]
    counted()
    assert stores.status.get(lot).open_count == 1


def test_a_plan_is_all_or_nothing_and_tells_a_duplicate_from_a_lost_race(stores, uid, counted):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    assert stores.sessions.write(lot, _entry(s), _ack(lot, "e1")).written
    other = _session(f"s2-{uid}", lot)  # the same plate again: the pointer is no longer free
    lost = stores.sessions.write(lot, _entry(other), _ack(lot, "e2"))
    assert (lost.written, lost.ack_exists) == (False, False)
    assert stores.acks.get(lot, "e2") is None and stores.sessions.get(other.session_id) is None
    counted()
    assert stores.status.get(lot).open_count == 1
    dup = stores.sessions.write(lot, _entry(_session(f"s3-{uid}", lot, plate="苏B99999")), _ack(lot, "e1"))
    assert (dup.written, dup.ack_exists) == (False, True)
    assert stores.sessions.open_for(lot, "P#苏B99999") is None


def test_a_session_is_updated_only_over_its_previous_version(stores, uid, counted):
    lot, s = f"lot-{uid}", _session(f"s-{uid}", f"lot-{uid}")
    stores.sessions.write(lot, _entry(s), _ack(lot, "e1"))
    closed = s.model_copy(update={"status": SessionStatus.CLOSED, "exited_at": T0 + timedelta(hours=1), "version": 2})
    exit_plan = Plan(s.session_id, updates=[closed], open_delta=-1, pointers=[PointerWrite(s.subject, None, s.session_id)])
    assert stores.sessions.write(lot, exit_plan, _ack(lot, "x1")).written
    assert not stores.sessions.write(lot, exit_plan, _ack(lot, "x2")).written  # version 2 is stored already
    counted()
    assert stores.sessions.open_for(lot, s.subject) is None and stores.status.get(lot).open_count == 0
    assert not stores.sessions.replace(closed) and stores.sessions.replace(closed.model_copy(update={"version": 3}))


def test_exits_waiting_for_their_entry_are_listed(stores, uid):
    lot = f"lot-{uid}"
    waiting = _session(f"s-{uid}", lot, status=SessionStatus.AWAITING_ENTRY, entered_at=None, exited_at=T0)
    assert stores.sessions.write(lot, Plan(waiting.session_id, creates=[waiting], unmatched_delta=1), _ack(lot, "x")).written
    assert [s.session_id for s in stores.sessions.unmatched_in_lot(lot)] == [waiting.session_id]
    assert stores.sessions.open_in_lot(lot) == ()


def test_an_ack_is_stored_once_and_claimed_by_one_archive_object(stores, uid):
    lot = f"lot-{uid}"
    assert stores.acks.save(_ack(lot, "hb")) and not stores.acks.save(_ack(lot, "hb"))
    key = f"{lot}#hb"
    assert stores.acks.claim_for_archive(key, "objA") == "objA"
    assert stores.acks.claim_for_archive(key, "objB") == "objA"
    [archived] = stores.acks.in_archive_object("objA")
    assert (archived.pk, archived.lot_id, archived.ack["event_id"]) == (key, lot, "hb")


def test_a_nonce_is_claimed_once(stores, uid):
    assert stores.nonces.claim(f"dev-{uid}", "n1", T0) and not stores.nonces.claim(f"dev-{uid}", "n1", T0)
    assert stores.nonces.claim(f"dev-{uid}", "n2", T0)


def test_the_newest_occupancy_report_wins(stores, uid):
    lot, status = f"lot-{uid}", stores.status
    assert status.occupancy_with_ack(lot, 100, 40, T0, _ack(lot, "o1")) is True
    assert status.occupancy_with_ack(lot, 100, 90, T0 - timedelta(minutes=1), _ack(lot, "o2")) is False
    assert stores.acks.get(lot, "o2") is None  # nothing written: the caller stores the ack alone
    assert status.occupancy_with_ack(lot, 100, 10, T0 + timedelta(minutes=1), _ack(lot, "o1")) is None
    assert status.get(lot).reported_free == 40 and status.many([lot])[lot].reported_free == 40


def test_device_last_seen_only_moves_forward_and_online_is_kept(stores, uid):
    lot, status = f"lot-{uid}", stores.status
    status.touch_device(lot, "cam", T0 + timedelta(minutes=5))
    status.touch_device(lot, "cam", T0)
    assert status.get(lot).device_last_seen_ms == {"cam": int((T0 + timedelta(minutes=5)).timestamp() * 1000)}
    status.set_online(lot, False, T0)
    assert (status.get(lot).online, status.get(lot).offline_since_ms) == (False, int(T0.timestamp() * 1000))
    status.set_online(lot, True, T0)
    assert (status.get(lot).online, status.get(lot).offline_since_ms) == (True, None)


def test_the_archive_bucket_keeps_objects_by_key(stores, uid):
    bucket = stores.archive
    bucket.put(f"events/{uid}/a.jsonl", b"one\n")
    bucket.put(f"events/{uid}/b.jsonl", b"two\n")
    bucket.put(f"events/{uid}/a.jsonl", b"one\n")  # a rewrite after a crash: the same bytes
    assert sorted(bucket.keys(f"events/{uid}/")) == [f"events/{uid}/a.jsonl", f"events/{uid}/b.jsonl"]
    assert bucket.get(f"events/{uid}/b.jsonl") == b"two\n"
