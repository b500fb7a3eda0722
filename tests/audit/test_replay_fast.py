"""The replay's fast paths give what the validated path gives: ``decode_trusted`` builds the same events
as the protocol models' validation, and a flat replay (no per-session charges kept) finds the same totals
and, through the fingerprints, the same differences as one that keeps every session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from shared.audit.replay import ALL, Replay, _EVENT, compare, decode_trusted
from shared.ledger.model import Posting
from shared.protocol.events import BerthEndEvent, BerthStartEvent, EntryEvent, ExitEvent
from shared.registry.model import Lot
from shared.tariffs.engine import quote
from shared.tariffs.samples import ZHUMADIAN_CLASS1

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)


def _lot(i: int) -> Lot:
    return Lot.model_validate({
        "lot_id": f"lot-{i}", "name": f"lot {i}", "district_code": "320213", "operator_id": f"op-{i}",
        "kind": "enclosed", "capacity": 50, "location": {"lat": 31.5, "lon": 120.3}, "tariff_ref": ZHUMADIAN_CLASS1.id})  # fmt: skip


LOTS = {lot.lot_id: lot for lot in map(_lot, range(3))}


def _records() -> list[dict]:
    out = []
    for i in range(30):
        lot, plate, at = f"lot-{i % 3}", f"苏B{i:05d}", T0 + timedelta(minutes=3 * i)
        kinds = [EntryEvent(event_id=f"in-{i}", type="entry", lot_id=lot, occurred_at=at, plate=plate,
                            plate_colour="green" if i % 4 == 0 else "blue",
                            vehicle_class="large" if i % 5 == 0 else "small",
                            confidence=0.7 if i % 6 == 0 else 0.95, lane="l1"),
                 ExitEvent(event_id=f"out-{i}", type="exit", lot_id=lot, occurred_at=at + timedelta(minutes=17 * i + 5),
                           plate=plate, plate_colour="blue", lane="l2", etc_obu=i % 2 == 0)]  # fmt: skip
        if i % 7 == 0:
            kinds = [BerthStartEvent(event_id=f"bs-{i}", type="berth_start", lot_id=lot, occurred_at=at, plate=plate,
                                     plate_colour="yellow", berth=f"b{i}"),
                     BerthEndEvent(event_id=f"be-{i}", type="berth_end", lot_id=lot,
                                   occurred_at=at + timedelta(hours=2), plate=plate, plate_colour="yellow", berth=f"b{i}")]  # fmt: skip
        out += [orjson.loads(orjson.dumps({"lot_id": lot, "event": e.model_dump(mode="json")})) for e in kinds]
    return out


def _price(lot, entered_at, until, session):
    return quote(ZHUMADIAN_CLASS1, entered_at, until, session.vehicle_class, session.plate_colour)


def test_trusted_decoding_equals_validation():
    for r in _records():
        fast, validated = decode_trusted(r["event"]), _EVENT.validate_python(r["event"])
        assert type(fast) is type(validated) and fast == validated
        assert fast.model_dump() == validated.model_dump()
    assert decode_trusted({"type": "heartbeat"}) is None


def test_a_flat_replay_finds_what_a_full_one_finds():
    full = Replay(LOTS, _price).run(_records())
    flat = Replay(LOTS, _price, trusted=True, keep=frozenset()).run(_records())
    assert full.sessions_charged == flat.sessions_charged == 30 and not flat.charges
    assert full.replayed_fen == flat.replayed_fen > 0 and dict(full.totals) == dict(flat.totals)
    assert dict(full.fingerprints) == dict(flat.fingerprints)
    ledger = [
        Posting.charge(f"charge:{c.session_id}:0", "苏B00000", c.operator_id, c.amount_fen, T0,
                       refs={"session_id": c.session_id, "lot_id": c.lot_id})
        for c in full.charges.values() if c.amount_fen
    ]  # fmt: skip
    clean = compare(flat, ledger)
    assert not clean.differences and not clean.unresolved
    assert all(t["replayed_fen"] == t["ledger_fen"] for t in clean.totals.values())

    # Two postings of one operator changed so that its total still matches: the fingerprints still tell.
    a, b = [i for i, p in enumerate(ledger) if p.refs["lot_id"] == "lot-1"][:2]
    doctored = list(ledger)
    for i, delta in ((a, 100), (b, -100)):
        p = ledger[i]
        doctored[i] = Posting.charge(p.posting_id, "苏B00000", "op-1", p.amount_fen + delta, T0, refs=p.refs)
    flat_result = compare(flat, doctored)
    assert flat_result.unresolved == {"op-1"} and not flat_result.differences
    again = Replay(LOTS, _price, trusted=True, keep=flat_result.unresolved).run(_records())
    named = compare(again, doctored)
    assert {d.session_id for d in named.differences} == {ledger[a].refs["session_id"], ledger[b].refs["session_id"]}
    assert named.difference_fen == 0 and not named.unresolved
    assert compare(full, doctored).differences == named.differences and ALL is None


def test_trusted_decoding_fills_defaults_and_leaves_the_record_alone():
    for r in _records()[:4]:
        archived = r["event"]
        partial = {k: v for k, v in archived.items() if k not in ("vehicle_class", "confidence", "evidence_ref",
                                                                   "etc_obu", "opened_manually")}  # fmt: skip
        for event in (archived, partial):
            before = dict(event)
            fast, validated = decode_trusted(event), _EVENT.validate_python(event)
            assert type(fast) is type(validated) and fast == validated
            assert fast.model_fields_set == validated.model_fields_set
            assert event == before  # the caller's dict is copied, never converted in place
