"""Entry/exit and berth sessions through the HTTP API: the real mess devices produce."""

from datetime import timedelta

from tests.support import CITY_ADMIN, berth_event, gate_event


def _unmatched_count(platform, lot_id):
    return len(platform.services.stores.sessions.unmatched_in_lot(lot_id))


def _session(platform, session_id):
    return platform.services.sessions.view(CITY_ADMIN, session_id)


def test_duplicate_event_returns_first_ack_and_has_no_second_effect(device, clock, platform):
    cam = device("lx-in1")
    event = gate_event("entry", "苏B12345", clock.now())
    first = cam.post(event)[1]["acks"][0]
    clock.advance(5)
    status, body = cam.post(event)
    again = body["acks"][0]
    assert status == 200 and again["status"] == "duplicate"
    assert again["session_id"] == first["session_id"] and again["accepted_at"] == first["accepted_at"]
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 99


def test_exit_without_entry_is_flagged_never_silently_free(device, clock, platform):
    status, body = device("lx-out1").post(gate_event("exit", "苏B54321", clock.now()))
    ack = body["acks"][0]
    assert status == 200 and "exit_without_entry" in ack["flags"]
    assert ack["gate"]["reason"] == "unmatched_exit_review"
    session = _session(platform, ack["session_id"])
    assert session.status.value == "awaiting_entry" and session.entered_at is None
    assert _unmatched_count(platform, "lx-nanchang-st-01") == 1


def test_exit_arriving_before_its_entry_is_reconciled_when_entry_lands(device, clock, platform):
    t_entry = clock.now()
    t_exit = t_entry + timedelta(hours=2)
    clock.set(t_exit + timedelta(minutes=1))
    exit_ack = device("lx-out1").post(gate_event("exit", "苏B54321", t_exit))[1]["acks"][0]
    entry_ack = device("lx-in1").post(gate_event("entry", "苏B54321", t_entry))[1]["acks"][0]
    assert entry_ack["session_id"] == exit_ack["session_id"]
    assert "late_entry_reconciled" in entry_ack["flags"]
    session = _session(platform, exit_ack["session_id"])
    assert session.status.value == "closed" and session.duration_s == 7200
    assert _unmatched_count(platform, "lx-nanchang-st-01") == 0
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 100


def test_second_entry_orphans_the_stale_session(device, clock, platform):
    cam = device("lx-in1")
    first = cam.post(gate_event("entry", "苏B12345", clock.now()))[1]["acks"][0]
    clock.advance(hours=5)
    second = cam.post(gate_event("entry", "苏B12345", clock.now()))[1]["acks"][0]
    assert second["session_id"] != first["session_id"]
    assert "orphaned_by_new_entry" in second["flags"]
    assert _session(platform, first["session_id"]).status.value == "orphaned"
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 99  # one car inside, not two
    clock.advance(minutes=10)
    out = device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))[1]["acks"][0]
    assert out["session_id"] == second["session_id"]


def test_late_older_entry_does_not_disturb_the_open_session(device, clock, platform):
    cam = device("lx-in1")
    t0 = clock.now()
    clock.advance(hours=1)
    current = cam.post(gate_event("entry", "苏B12345", clock.now()))[1]["acks"][0]
    stale = cam.post(gate_event("entry", "苏B12345", t0))[1]["acks"][0]
    assert "stale_entry" in stale["flags"]
    assert _session(platform, current["session_id"]).status.value == "open"


def test_fuzzy_plate_match_closes_the_right_session_and_records_it(device, clock, platform):
    entry = device("lx-in1").post(gate_event("entry", "苏B8O125", clock.now()))[1]["acks"][0]
    device("lx-in1").post(gate_event("entry", "苏A77777", clock.now()))
    clock.advance(minutes=40)
    out = device("lx-out1").post(gate_event("exit", "苏BB0I25", clock.now()))[1]["acks"][0]
    assert out["session_id"] == entry["session_id"] and out["match"] == "fuzzy" and "fuzzy_match" in out["flags"]
    session = _session(platform, entry["session_id"])
    assert session.exit_plate == "苏BB0I25" and session.match == "fuzzy"


def test_missing_province_character_matches_conservatively(device, clock, platform):
    entry = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))[1]["acks"][0]
    clock.advance(minutes=5)
    out = device("lx-out1").post(gate_event("exit", "B12345", clock.now()))[1]["acks"][0]
    assert out["session_id"] == entry["session_id"] and "plate_partial" in out["flags"]


def test_ambiguous_fuzzy_read_matches_nothing(device, clock):
    device("lx-in1").post(gate_event("entry", "苏B12305", clock.now()))
    device("lx-in1").post(gate_event("entry", "苏B123D5", clock.now()))
    clock.advance(minutes=5)
    out = device("lx-out1").post(gate_event("exit", "苏B123O5", clock.now()))[1]["acks"][0]
    assert "exit_without_entry" in out["flags"]


def test_batch_with_mixed_good_and_bad_events(device, clock, platform):
    now = clock.now()
    batch = {"events": [
        gate_event("entry", "苏B11111", now),
        gate_event("entry", "NOT-A-PLATE", now),
        {"event_id": "x1", "type": "teleport", "lot_id": "lx-nanchang-st-01", "occurred_at": "2026-11-23T09:00:00+08:00"},
        gate_event("entry", "苏B22222", now.replace(tzinfo=None)) | {"occurred_at": "2026-11-23T09:00:00"},
        gate_event("entry", "苏B33333", now + timedelta(hours=1)),
        {"event_id": "occ-1", "type": "occupancy", "lot_id": "lx-nanchang-st-01", "occurred_at": "2026-11-23T09:00:00+08:00", "total": 100, "free": 120},
        gate_event("entry", "苏B44444", now),
        42,
    ]}
    status, body = device("lx-in1").post(batch)
    assert status == 200
    got = [(a["status"], a.get("reason")) for a in body["acks"]]
    assert got == [
        ("accepted", None),
        ("rejected", "malformed_plate"),
        ("rejected", "unknown_event_type"),
        ("rejected", "bad_timestamp"),
        ("rejected", "occurred_in_future"),
        ("rejected", "invalid_event"),
        ("accepted", None),
        ("rejected", "invalid_event"),
    ]
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 98


def test_single_malformed_event_is_400_with_code(device, clock):
    status, body = device("lx-in1").post(gate_event("entry", "苏B1", clock.now()))
    assert (status, body["code"]) == (400, "malformed_plate")


def test_batch_over_100_is_400(device, clock):
    batch = {"events": [gate_event("entry", f"苏B{i:05d}", clock.now()) for i in range(101)]}
    status, body = device("lx-in1").post(batch)
    assert (status, body["code"]) == (400, "batch_size")


def test_event_kind_must_suit_the_lot(device, clock):
    status, body = device("lx-in1").post(berth_event("berth_start", "苏B12345", "ZS001", clock.now(), lot="lx-nanchang-st-01"))
    assert (status, body["code"]) == (400, "event_not_supported_by_lot")


def test_berth_sessions_open_and_close_per_berth(device, clock, platform):
    robot = device("zs-robot")
    start = robot.post(berth_event("berth_start", "苏B12345", "ZS001", clock.now()))[1]["acks"][0]
    again = robot.post(berth_event("berth_start", "苏B12345", "ZS001", clock.now()))[1]["acks"][0]
    assert again["session_id"] == start["session_id"] and "already_open" in again["flags"]
    other = robot.post(berth_event("berth_start", "苏B77777", "ZS002", clock.now()))[1]["acks"][0]
    assert platform.services.availability.lot("lx-zhongshan-rd").free == 1
    clock.advance(minutes=25)
    end = robot.post(berth_event("berth_end", "苏B12345", "ZS001", clock.now()))[1]["acks"][0]
    assert end["session_id"] == start["session_id"] and end["gate"]["reason"] == "no_tariff"
    assert _session(platform, start["session_id"]).duration_s == 1500
    assert _session(platform, other["session_id"]).status.value == "open"
    assert platform.services.availability.lot("lx-zhongshan-rd").free == 2


def test_unknown_berth_is_rejected(device, clock):
    status, body = device("zs-robot").post(berth_event("berth_start", "苏B12345", "ZS999", clock.now()))
    assert (status, body["code"]) == (400, "unknown_berth")


def test_absolute_occupancy_wins_and_older_reports_do_not_overwrite(device, clock, platform):
    sys_ = device("lx-in1")
    now = clock.now()
    occ = {"type": "occupancy", "lot_id": "lx-nanchang-st-01", "total": 100}
    assert sys_.post(occ | {"event_id": "o2", "occurred_at": now.isoformat(), "free": 37})[0] == 200
    old = sys_.post(occ | {"event_id": "o1", "occurred_at": (now - timedelta(minutes=1)).isoformat(), "free": 90})[1]["acks"][0]
    assert old["flags"] == ["superseded"]
    view = platform.services.availability.lot("lx-nanchang-st-01")
    assert (view.free, view.total, view.source) == (37, 100, "reported")
    clock.advance(minutes=20)  # a stale absolute count stops winning
    assert platform.services.availability.lot("lx-nanchang-st-01").source == "sessions"
