"""A lot whose tariff changes in the middle of the archived period: replay from the archive prices each
session with the lot version in force when its exit was accepted (and that version's tariff), so the books
match to the fen; pricing every session with the lot's newest version (what the live tables hold now) does
not. On the local stack: the lots and tariffs tables' streams archive every version with when it was stored."""

from __future__ import annotations

import json
from datetime import timedelta

from shared import resources
from shared.adapters.log_tiles import log_signer
from shared.tariffs.engine import quote
from shared.tariffs.samples import DAY_NIGHT, ZHUMADIAN_CLASS1
from tests.support import gate_event, price_lot
from tools.tongting import main

LOT = "lx-nanchang-st-01"


def _stays(cam_in, cam_out, clock, tag: str) -> None:
    for i in range(2):  # a stay of three hours, and one of ten
        plate = f"苏B{tag}{i:04d}"
        entered = clock.now()
        assert cam_in.post(gate_event("entry", plate, entered, event_id=f"{tag}-in-{i}"))[0] == 200
        clock.advance(hours=3 + 7 * i)
        assert cam_out.post(gate_event("exit", plate, clock.now(), event_id=f"{tag}-out-{i}"))[0] == 200
        clock.advance(minutes=5)


def _replay(tmp_path, registry: str) -> dict:
    report = tmp_path / f"{registry}.json"
    main(["replay", "--archive", f"s3://{resources.EVENT_ARCHIVE.name}", "--registry", registry, "--ledger", "dynamo",
          "--json", str(report), "--quiet", "--key", log_signer().verifier_key()])  # fmt: skip
    return json.loads(report.read_text())


def test_a_tariff_change_mid_period_replays_to_zero_differences(stack, api, device, clock, city, tmp_path):
    # the two tariffs price these stays differently, or the test would prove nothing
    start = clock.now()
    assert quote(ZHUMADIAN_CLASS1, start, start + timedelta(hours=3)).amount_fen != quote(
        DAY_NIGHT, start, start + timedelta(hours=3)).amount_fen  # fmt: skip
    cam_in, cam_out = device("lx-in1"), device("lx-out1")
    price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
    clock.advance(minutes=1)
    _stays(cam_in, cam_out, clock, "1")
    price_lot(stack.services, LOT, DAY_NIGHT)  # a new lot version: from now on, the day-night tariff
    clock.advance(minutes=1)
    _stays(cam_in, cam_out, clock, "2")
    stack.pump_streams()

    doc = _replay(tmp_path, "archive")
    assert doc["verification"]["ok"], doc["verification"]
    s = doc["summary"]
    assert (s["differences"], s["difference_fen"]) == (0, 0), json.dumps(doc["differences"], ensure_ascii=False)
    assert s["sessions_charged"] == 4 and s["replayed_fen"] == s["ledger_fen"] > 0

    newest = _replay(tmp_path, "dynamo")  # every session priced by the lot as it is now: the first two differ
    assert newest["summary"]["differences"] == 2, newest["summary"]
    assert {d["session_id"] for d in newest["differences"]} <= {c for c in _session_ids(stack)}


def _session_ids(stack) -> set[str]:
    return {p.refs["session_id"] for p in stack.services.ledger.scan_postings() if "session_id" in p.refs}
