"""Archive lines decoded into typed structs (``shared.audit.archived``) carry what the protocol's validation
gives, and a replay of them finds what a replay of validated events finds: the same sessions, fen, totals
and fingerprints. Lines the structs do not type (money records, unknown kinds) are read as dicts, as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import orjson
import pytest

from shared.archive.books import record_of
from shared.audit.archived import SESSION_EVENTS, ArchivedRecord, decode_line, decode_lines
from shared.audit.replay import _EVENT, _SESSION_EVENTS, Replay, in_accepted_order
from shared.ledger.model import Posting
from tests.audit.test_replay_fast import LOTS, T0, _price, _records

STRUCTS = {cls.type: cls for cls in SESSION_EVENTS}


def _line(record: dict) -> bytes:
    return orjson.dumps(record)


@pytest.mark.parametrize("kind", sorted(_SESSION_EVENTS))
def test_each_struct_has_the_models_fields_and_defaults(kind):
    model, struct = _SESSION_EVENTS[kind], STRUCTS[kind]
    fields = {f.name: f for f in msgspec.structs.fields(struct)}
    assert set(fields) | {"type"} == set(model.model_fields)
    for name, f in fields.items():
        mf = model.model_fields[name]
        assert f.required == mf.is_required(), name
        if not f.required:
            assert f.default == mf.default, name


def test_decoded_structs_have_the_validated_values():
    for r in _records():
        record = decode_line(_line({**r, "accepted_at": "2026-11-02T08:00:00+00:00"}))
        assert type(record) is ArchivedRecord
        event, validated = record.event, _EVENT.validate_python(r["event"])
        assert event.type == validated.type
        assert {f: getattr(event, f) for f in event.__struct_fields__} == {
            f: getattr(validated, f) for f in event.__struct_fields__
        }
        assert event.occurred_at.utcoffset() == validated.occurred_at.utcoffset()  # the same offset, not only instant
    # partial events take the models' defaults
    exit_event = next(r["event"] for r in _records() if r["event"]["type"] == "exit")
    partial = {k: v for k, v in exit_event.items() if k not in ("confidence", "etc_obu", "vehicle_class")}
    event = decode_line(_line({"lot_id": "lot-1", "event": partial})).event
    assert (event.confidence, event.etc_obu, event.vehicle_class.value) == (1.0, False, "small")


def test_lines_the_structs_do_not_type_are_dicts():
    heartbeat = decode_line(_line({"lot_id": "lot-0", "event": {"type": "heartbeat", "event_id": "h"}}))
    assert type(heartbeat) is ArchivedRecord and heartbeat.event.type == "heartbeat"
    unknown = {"lot_id": "lot-0", "event": {"type": "teleport"}}
    assert decode_line(_line(unknown)) == unknown
    bad = {"lot_id": "lot-0", "event": {**_records()[0]["event"], "occurred_at": 17}}  # a wrong type: not typed
    assert decode_line(_line(bad)) == bad
    money = record_of(Posting.payment("pay:1", "苏B00001", "sandbox", 500, T0, refs={"bill_id": "b1"}))
    assert decode_line(_line(money)) == money
    with pytest.raises(orjson.JSONDecodeError):
        decode_line(b"{not json")


def test_a_replay_of_structs_finds_what_validation_finds():
    records = _records()
    heartbeat = {"type": "heartbeat", "event_id": "h1", "lot_id": "lot-0", "occurred_at": T0.isoformat()}
    noise = [{"lot_id": "lot-0", "accepted_at": "", "event": heartbeat},
             {"lot_id": "lot-0", "event": {"type": "teleport"}}]  # fmt: skip
    lines = [_line(r) + b"\n" for r in records + noise] + [b"\n"]
    validated = Replay(LOTS, _price).run(records + noise)
    typed = Replay(LOTS, _price, trusted=True).run(decode_lines(lines))
    assert typed.sessions_charged == validated.sessions_charged == 30
    assert typed.replayed_fen == validated.replayed_fen > 0
    assert dict(typed.totals) == dict(validated.totals) and dict(typed.fingerprints) == dict(validated.fingerprints)
    assert typed.charges == validated.charges
    trusted_dicts = Replay(LOTS, _price, trusted=True).run(records + noise)
    assert dict(typed.skipped) == dict(trusted_dicts.skipped) == {"heartbeat": 1, "teleport": 1}
    assert dict(validated.skipped) == {"heartbeat": 1, "undecodable": 1}  # an unknown kind fails validation
    # structs given to a replay that does not trust the archive are validated like dicts
    untrusted = Replay(LOTS, _price).run(decode_lines(lines))
    assert untrusted.charges == validated.charges and untrusted.events == validated.events


def test_accepted_order_sorts_structs_and_dicts_alike():
    t = [datetime(2026, 11, 2, 8, tzinfo=UTC) + timedelta(seconds=s) for s in (3, 1, 2)]
    dicts = [{"lot_id": "lot-0", "accepted_at": x.isoformat(), "event": r["event"]} for x, r in zip(t, _records())]
    typed = [decode_line(_line(d)) for d in dicts]
    assert [r.accepted_at for r in in_accepted_order(typed)] == [r["accepted_at"] for r in in_accepted_order(dicts)]
